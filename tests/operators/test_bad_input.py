"""Bad arguments fail the task before anything is sent to Phrase, naming the argument and the fix."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException
from pydantic import BaseModel

from airflow_phrase.links import JOBS_URL_XCOM_KEY, PROJECT_URL_XCOM_KEY
from airflow_phrase.models import JobCreateRequest
from airflow_phrase.operators.create_job import PhraseCreateJobFromConnectorTaskOperator
from airflow_phrase.operators.download import PhraseConnectorDownloadOperator
from airflow_phrase.operators.ingest import PhraseIngestConnectorFileOperator
from airflow_phrase.validation import validate_params
from tests.operators.conftest import WEBSITE, calls

# --------------------------------------------------------------------------- validate_params (no I/O)


def test_validate_params_returns_the_model() -> None:
    request = validate_params(JobCreateRequest, "t", target_langs=["de", "FR-fr"], path="docs")
    assert request.target_langs == ["de", "fr_fr"]


def test_validate_params_lists_every_bad_field_under_its_parameter_name() -> None:
    with pytest.raises(AirflowFailException) as raised:
        validate_params(JobCreateRequest, "ingest", target_langs=["de", "xx-"], path="p" * 256)
    message = str(raised.value)
    assert message.startswith("Invalid arguments for task 'ingest':")
    assert "target_langs[1]: 'xx_' is not a Phrase language code; use codes like" in message
    assert "path: at most 255 characters allowed; shorten it" in message


def test_validate_params_rewrites_model_level_messages_to_parameter_names() -> None:
    with pytest.raises(AirflowFailException) as raised:
        validate_params(
            JobCreateRequest,
            "t",
            target_langs=["de"],
            import_settings={"uid": "x"},
            use_project_file_import_settings=True,
        )
    message = str(raised.value)
    assert "import_settings and use_project_file_import_settings are mutually exclusive" in message
    assert "importSettings" not in message


def test_validate_params_names_nested_fields_in_snake_case() -> None:
    with pytest.raises(AirflowFailException) as raised:
        validate_params(
            JobCreateRequest, "t", target_langs=["de"], assignments=[{"targetLang": "de", "providers": []}]
        )
    assert "assignments[0].providers: needs at least 1 item(s)" in str(raised.value)


def test_validate_params_reports_unknown_and_missing_fields() -> None:
    class Args(BaseModel):
        model_config = {"extra": "forbid"}
        project_uid: str

    with pytest.raises(AirflowFailException) as raised:
        validate_params(Args, "t", projekt_uid="x")
    message = str(raised.value)
    assert "project_uid: is required; give a value" in message
    assert "projekt_uid: is not a known field; check the spelling" in message


# --------------------------------------------------------------------------- operators: nothing sent

JOB_OPERATORS = ["create_job", "ingest"]


def _job_operator(kind: str, **job_fields: Any) -> Any:
    if kind == "create_job":
        return PhraseCreateJobFromConnectorTaskOperator(
            task_id="create", project_uid=WEBSITE, download_task_id="310001", **job_fields
        )
    return PhraseIngestConnectorFileOperator(
        task_id="ingest",
        connector="Docs Git",
        folder="docs/guides",
        file="install.md",
        project_uid=WEBSITE,
        deferrable=False,
        **job_fields,
    )


@pytest.mark.parametrize("kind", JOB_OPERATORS)
@pytest.mark.parametrize(
    ("job_fields", "expected"),
    [
        pytest.param({"target_langs": []}, "target_langs: needs at least 1 item(s)", id="empty-languages"),
        pytest.param(
            {"target_langs": ["de", "fr fr"]},
            "target_langs[1]: 'fr fr' is not a Phrase language code",
            id="malformed",
        ),
        pytest.param({"target_langs": 42}, "target_langs: must be a list", id="not-a-list"),
        pytest.param({"target_langs": ["de", "DE"]}, "target_langs: lists de more than once", id="duplicate"),
        pytest.param(
            {
                "target_langs": ["de"],
                "import_settings": {"uid": "imp1"},
                "use_project_file_import_settings": True,
            },
            "import_settings and use_project_file_import_settings are mutually exclusive",
            id="both-import-settings",
        ),
        pytest.param(
            {"target_langs": ["de"], "path": "a/" * 128},
            "path: at most 255 characters allowed; shorten it",
            id="path-too-long",
        ),
        pytest.param(
            {"target_langs": ["de"], "due": datetime(2030, 1, 1, 12, 0)},
            "due: must be timezone-aware",
            id="naive-due",
        ),
    ],
)
def test_job_arguments_are_rejected_before_any_call(
    kind: str, job_fields: dict[str, Any], expected: str, emulator: Any, context: dict[str, Any]
) -> None:
    operator = _job_operator(kind, **job_fields)
    with pytest.raises(AirflowFailException) as raised:
        operator.execute(context)
    assert expected in str(raised.value)
    assert f"task {operator.task_id!r}" in str(raised.value)
    assert calls(emulator) == []
    # Only the links' keys, empty: so the task runner's link lookup finds them (no "XCom not found").
    assert context["ti"].xcom == {PROJECT_URL_XCOM_KEY: "", JOBS_URL_XCOM_KEY: ""}


def test_create_job_rejects_an_empty_download_task_id(emulator: Any, context: dict[str, Any]) -> None:
    operator = PhraseCreateJobFromConnectorTaskOperator(
        task_id="create", project_uid=WEBSITE, download_task_id=" ", target_langs=["de"]
    )
    with pytest.raises(AirflowFailException, match="download_task_id: must not be empty"):
        operator.execute(context)
    assert calls(emulator) == []


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        pytest.param({"file": ""}, "file: must not be empty", id="empty-file"),
        pytest.param({"project_uid": "  "}, "project_uid: must not be empty", id="blank-project"),
        pytest.param(
            {"source_lang": "english"}, "source_lang: 'english' is not a Phrase language code", id="lang"
        ),
    ],
)
def test_download_arguments_are_rejected_before_any_call(
    arguments: dict[str, Any], expected: str, emulator: Any, context: dict[str, Any]
) -> None:
    fields = {"connector": "Docs Git", "folder": "docs/guides", "file": "install.md", "project_uid": WEBSITE}
    operator = PhraseConnectorDownloadOperator(task_id="download", **{**fields, **arguments})
    with pytest.raises(AirflowFailException) as raised:
        operator.execute(context)
    assert expected in str(raised.value)
    assert calls(emulator) == []
    assert context["ti"].xcom == {PROJECT_URL_XCOM_KEY: ""}  # its only link


# --------------------------------------------------------------------------- unknown names: only GETs


@pytest.mark.parametrize("kind", ["download", "ingest"])
def test_unknown_connector_name_fails_listing_the_connectors(
    kind: str, emulator: Any, context: dict[str, Any]
) -> None:
    fields = {"connector": "Docs Gti", "folder": "docs/guides", "file": "install.md", "project_uid": WEBSITE}
    if kind == "download":
        operator: Any = PhraseConnectorDownloadOperator(task_id="download", **fields)
    else:
        operator = PhraseIngestConnectorFileOperator(task_id="ingest", target_langs=["de"], **fields)
    with pytest.raises(AirflowFailException) as raised:
        operator.execute(context)
    message = str(raised.value)
    assert "Docs Gti" in message
    assert "'Docs Git' (id 1001" in message and "'Marketing Drive' (id 1002" in message
    requests = calls(emulator)
    assert requests and all(method == "GET" for method, _ in requests), requests


@pytest.mark.parametrize("kind", ["download", "ingest"])
def test_unknown_connector_id_fails_listing_the_connectors(
    kind: str, emulator: Any, context: dict[str, Any]
) -> None:
    """An id is tried directly (no connector listing on the happy path); when no connector has it, the
    connectors are listed for the message."""
    fields = {"connector": "4242", "folder": "docs/guides", "file": "install.md", "project_uid": WEBSITE}
    if kind == "download":
        operator: Any = PhraseConnectorDownloadOperator(task_id="download", **fields)
    else:
        operator = PhraseIngestConnectorFileOperator(task_id="ingest", target_langs=["de"], **fields)
    with pytest.raises(AirflowFailException) as raised:
        operator.execute(context)
    message = str(raised.value)
    assert "No Phrase connector has the id or name '4242'" in message
    assert "'Docs Git' (id 1001" in message
    assert calls(emulator) == [("GET", "/api2/v1/connectors/4242/folders"), ("GET", "/api2/v1/connectors")]


@pytest.mark.parametrize("kind", ["download", "ingest"])
def test_missing_file_fails_listing_the_folder(kind: str, emulator: Any, context: dict[str, Any]) -> None:
    fields = {"connector": "1001", "folder": "docs/guides", "file": "instal.md", "project_uid": WEBSITE}
    if kind == "download":
        operator: Any = PhraseConnectorDownloadOperator(task_id="download", **fields)
    else:
        operator = PhraseIngestConnectorFileOperator(task_id="ingest", target_langs=["de"], **fields)
    with pytest.raises(AirflowFailException) as raised:
        operator.execute(context)
    message = str(raised.value)
    assert "'instal.md' not found in folder 'docs/guides'" in message
    assert "'install.md'" in message and "'bad-import.md'" in message
    requests = calls(emulator)
    assert requests and all(method == "GET" for method, _ in requests), requests


def test_a_connection_that_cannot_be_read_leaves_empty_links(emulator: Any, context: dict[str, Any]) -> None:
    """No project URL without a connection: the links get empty values, so they still resolve quietly."""
    operator = PhraseIngestConnectorFileOperator(
        task_id="ingest",
        phrase_conn_id="phrase_tms_nowhere",
        connector="1001",
        folder="docs/guides",
        file="install.md",
        project_uid=WEBSITE,
        target_langs=["de"],
    )

    with pytest.raises(Exception, match="phrase_tms_nowhere"):
        operator.execute(context)

    assert context["ti"].xcom == {PROJECT_URL_XCOM_KEY: "", JOBS_URL_XCOM_KEY: ""}
    assert calls(emulator) == []
