"""Every bad argument is refused before any call to Phrase, naming the argument (issue 9).

Each case runs ``execute`` against the emulator and checks the journal: nothing sent at all for a value
that is wrong on its face. The rendering tests render the templates the way Airflow does, once with
``render_template_as_native_obj=True`` and once without.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from airflow.sdk import DAG
from airflow.sdk.exceptions import AirflowFailException

from airflow_phrase.operators.create_job import PhraseCreateJobFromConnectorTaskOperator
from airflow_phrase.operators.download import PhraseConnectorDownloadOperator
from airflow_phrase.operators.ingest import PhraseIngestConnectorFileOperator
from airflow_phrase.sensors.connector_task import PhraseConnectorTaskSensor
from airflow_phrase.triggers.async_request import PhraseAsyncRequestTrigger
from airflow_phrase.triggers.connector_task import PhraseConnectorTaskTrigger
from tests.operators.conftest import REVIEW, WEBSITE, calls, jobs_in, start_finished_download

FILE = {"connector": "1001", "folder": "docs/guides", "file": "install.md"}
PAST = (datetime.now(timezone.utc) - timedelta(days=1)).isoformat()
FUTURE = (datetime.now(timezone.utc) + timedelta(days=7)).isoformat()


def _download(**kwargs: Any) -> PhraseConnectorDownloadOperator:
    return PhraseConnectorDownloadOperator(task_id="download", **{**FILE, "project_uid": WEBSITE, **kwargs})


def _create(**kwargs: Any) -> PhraseCreateJobFromConnectorTaskOperator:
    fields = {"project_uid": WEBSITE, "download_task_id": "310001", "target_langs": ["de"]}
    return PhraseCreateJobFromConnectorTaskOperator(task_id="create", **{**fields, **kwargs})


def _ingest(**kwargs: Any) -> PhraseIngestConnectorFileOperator:
    fields = {**FILE, "project_uid": WEBSITE, "target_langs": ["de"], "deferrable": False}
    return PhraseIngestConnectorFileOperator(task_id="ingest", **{**fields, **kwargs})


def _sensor(**kwargs: Any) -> PhraseConnectorTaskSensor:
    fields = {"project_uid": WEBSITE, "download_task_id": "310001", "poke_interval": 0.05, "timeout": 5}
    return PhraseConnectorTaskSensor(task_id="wait", mode="poke", **{**fields, **kwargs})


def _refused(operator: Any, context: dict[str, Any], emulator: Any, *expected: str) -> str:
    with pytest.raises(AirflowFailException) as raised:
        operator.execute(context)
    message = str(raised.value)
    for text in expected:
        assert text in message
    assert calls(emulator) == []  # nothing sent, not even a GET
    return message


# --------------------------------------------------------------------------- uids and ids


@pytest.mark.parametrize(
    "make", [_download, _create, _ingest, _sensor], ids=["download", "create", "ingest", "sensor"]
)
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("../../etc", "project_uid: '../../etc' is not a Phrase uid (letters and digits only"),
        ("prj Website", "project_uid: 'prj Website' is not a Phrase uid"),
        ("None", "project_uid: 'None' is what a template renders from an XCom or param that holds None"),
    ],
)
def test_a_malformed_project_uid_is_refused_everywhere(
    make: Any, value: str, expected: str, emulator: Any, context: dict[str, Any]
) -> None:
    _refused(make(project_uid=value), context, emulator, expected)


@pytest.mark.parametrize("make", [_create, _sensor], ids=["create", "sensor"])
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("abc; DROP", "download_task_id: 'abc; DROP' is not a Phrase id (digits only, e.g. '310001')"),
        ("None", "download_task_id: 'None' is what a template renders from an XCom or param that holds None"),
        ("31-0001", "download_task_id: '31-0001' is not a Phrase id"),
        (None, "download_task_id: is None: the template rendered an XCom or param that holds None"),
    ],
)
def test_a_malformed_download_task_id_is_refused(
    make: Any, value: Any, expected: str, emulator: Any, context: dict[str, Any]
) -> None:
    _refused(make(download_task_id=value), context, emulator, expected)


@pytest.mark.parametrize("make", [_download, _ingest], ids=["download", "ingest"])
def test_a_connector_id_longer_than_an_int64_is_refused(
    make: Any, emulator: Any, context: dict[str, Any]
) -> None:
    _refused(make(connector="1" * 20), context, emulator, "connector: '11111111111111111111' is too long")


@pytest.mark.parametrize("make", [_create, _ingest], ids=["create", "ingest"])
@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param(
            {"workflow_settings": [{"id": "7001"}]},
            "workflow_settings[0].assignments: is required",
            id="step-without-assignments",
        ),
        pytest.param(
            {"workflow_settings": [{"id": "step-1", "assignments": []}]},
            "workflow_settings[0].id: 'step-1' is not a Phrase id",
            id="step-id",
        ),
        pytest.param(
            {"assignments": [{"targetLang": "de", "providers": [{"id": "u/1", "type": "USER"}]}]},
            "assignments[0].providers[0].id: 'u/1' is not a Phrase id",
            id="provider-id",
        ),
        pytest.param(
            {"import_settings": {"uid": "../x"}}, "import_settings.uid: '../x' is not a Phrase uid", id="uid"
        ),
    ],
)
def test_ids_inside_the_job_fields_are_checked(
    make: Any, fields: dict[str, Any], expected: str, emulator: Any, context: dict[str, Any]
) -> None:
    _refused(make(**fields), context, emulator, expected)


# --------------------------------------------------------------------------- flags


@pytest.mark.parametrize("make", [_create, _ingest], ids=["create", "ingest"])
@pytest.mark.parametrize(
    ("field", "value"),
    [("continuous", "yes"), ("continuous", 1), ("pre_translate", "on"), ("semantic_markup", "TRUE")],
)
def test_flags_are_booleans_or_true_false_text_only(
    make: Any, field: str, value: Any, emulator: Any, context: dict[str, Any]
) -> None:
    _refused(make(**{field: value}), context, emulator, f"{field}: must be true or false", f"not {value!r}")


@pytest.mark.parametrize(("value", "expected"), [("true", True), ("False", False), (True, True)])
def test_flag_texts_that_templates_render_are_accepted(value: Any, expected: bool) -> None:
    args = _create(continuous=value, pre_translate=value).validated_args()
    assert (args.continuous, args.pre_translate) == (expected, expected)


def test_continuous_true_text_is_sent_as_true(emulator: Any, context: dict[str, Any]) -> None:
    task_id = start_finished_download(emulator, WEBSITE)["download_task_id"]
    emulator.admin.clear_journal()
    _create(download_task_id=task_id, continuous="true").execute(context)
    (create,) = [e for e in emulator.admin.journal() if e.method == "POST"]
    assert create.query["continuous"] == ["true"]


# --------------------------------------------------------------------------- due dates


@pytest.mark.parametrize("make", [_create, _ingest], ids=["create", "ingest"])
@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param({"due": PAST}, "due: ", id="due"),
        pytest.param(
            {"project_uid": REVIEW, "workflow_settings": [{"id": "7001", "assignments": [], "due": PAST}]},
            "workflow_settings[0].due: ",
            id="step-due",
        ),
    ],
)
def test_a_due_date_in_the_past_is_refused_like_the_manual_form_does(
    make: Any, fields: dict[str, Any], expected: str, emulator: Any, context: dict[str, Any]
) -> None:
    _refused(make(**fields), context, emulator, expected, "is in the past; give a future date-time")


def test_a_due_date_that_passes_while_the_task_waits_does_not_fail_the_resume(
    emulator: Any, context: dict[str, Any]
) -> None:
    """Checked when a task starts, not when it resumes: the jobs were created while the date was ahead."""
    outcome = {
        "project_uid": WEBSITE,
        "download_task_id": "1",
        "jobs": [{"uid": "j1"}],
        "async_request_id": "5",
    }
    event = {"status": "success", "project_uid": WEBSITE, "job_uids": ["j1"], "message": "imported"}
    operator = _create(due=PAST)
    assert operator.execute_complete(context, event=event, outcome=outcome)["job_uids"] == ["j1"]


def test_a_future_due_date_is_sent(emulator: Any, context: dict[str, Any]) -> None:
    task_id = start_finished_download(emulator, WEBSITE)["download_task_id"]
    _create(download_task_id=task_id, due=FUTURE).execute(context)
    assert len(jobs_in(emulator, WEBSITE)) == 1


# --------------------------------------------------------------------------- poll intervals


@pytest.fixture
def default_floor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__PHRASE_TMS__MIN_POLL_INTERVAL", "1")  # the default; tests lower it


@pytest.mark.usefixtures("default_floor")
@pytest.mark.parametrize(
    "build",
    [
        lambda: _sensor(poke_interval=0),
        lambda: _sensor(poke_interval=timedelta(milliseconds=200)),
        lambda: _ingest(poll_interval=0.2),
        lambda: _create(poll_interval=0),
        lambda: PhraseConnectorTaskTrigger("c", WEBSITE, "1", poll_interval=0.2),
        lambda: PhraseAsyncRequestTrigger("c", "1", poll_interval=0),
    ],
    ids=["sensor-0", "sensor-timedelta", "ingest", "create", "connector-trigger", "async-trigger"],
)
def test_every_poll_interval_has_a_floor(build: Any) -> None:
    with pytest.raises(ValueError, match="must be at least 1 seconds"):
        build()


@pytest.mark.usefixtures("default_floor")
def test_the_floor_itself_is_allowed() -> None:
    assert _sensor(poke_interval=1).poke_interval == 1
    assert PhraseConnectorTaskTrigger("c", WEBSITE, "1", poll_interval=1).poll_interval == 1.0


# --------------------------------------------------------------------------- both rendering modes


def _rendered(operator: Any, native: bool, **params: Any) -> Any:
    """``operator`` in a DAG with the given rendering mode, its template fields rendered as Airflow does."""
    with DAG(
        dag_id=f"render_{native}",
        schedule=None,
        start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
        render_template_as_native_obj=native,
    ) as dag:
        dag.add_task(operator)
    operator.render_template_fields({"params": params})
    return operator


NATIVE = [pytest.param(True, id="native"), pytest.param(False, id="text")]


@pytest.mark.parametrize("native", NATIVE)
def test_a_numeric_folder_name_stays_its_text(native: bool) -> None:
    operator = _rendered(
        _ingest(folder="{{ params.folder }}", file="{{ params.file }}"), native, folder="2026", file="7"
    )
    args = operator.validated_args()
    assert (args.folder, args.file) == ("2026", "7")


def test_native_rendering_that_loses_text_is_refused_with_the_fix() -> None:
    operator = _rendered(_ingest(folder="{{ params.folder }}"), True, folder="1.10")
    assert operator.folder == 1.1  # what native rendering makes of "1.10"
    with pytest.raises(AirflowFailException) as raised:
        operator.validated_args()
    message = str(raised.value)
    assert "folder: got the number 1.1, not text, so the original text is lost" in message
    assert "'{{ params.folder }}'" in message and "| tojson" in message


def test_a_quoted_template_keeps_the_text_under_native_rendering() -> None:
    operator = _rendered(
        _ingest(folder="'{{ params.folder }}'", path="{{ params.folder | tojson }}"), True, folder="1.10"
    )
    args = operator.validated_args()
    assert (args.folder, args.path) == ("1.10", "1.10")


def test_text_rendering_keeps_the_text() -> None:
    assert (
        _rendered(_ingest(folder="{{ params.folder }}"), False, folder="1.10").validated_args().folder
        == "1.10"
    )


@pytest.mark.parametrize("native", NATIVE)
def test_lists_render_in_both_modes(native: bool) -> None:
    operator = _rendered(_create(target_langs="{{ params.langs }}"), native, langs=["de", "fr-FR"])
    assert operator.validated_args().target_langs == ["de", "fr_fr"]


@pytest.mark.parametrize("text", ["de, fr_fr", '["de", "fr_fr"]', "['de', 'fr_fr']"])
def test_list_fields_take_the_text_a_template_renders(text: str) -> None:
    assert _create(target_langs=text).validated_args().target_langs == ["de", "fr_fr"]


@pytest.mark.parametrize("native", NATIVE)
def test_mapping_fields_render_in_both_modes(native: bool) -> None:
    steps = [
        {"id": "7001", "assignments": [{"targetLang": "de", "providers": [{"id": "3", "type": "USER"}]}]}
    ]
    operator = _rendered(
        _create(project_uid=REVIEW, workflow_settings="{{ params.steps }}"), native, steps=steps
    )
    (step,) = operator.validated_args().workflow_settings or []
    assert (step.id, step.assignments[0].providers[0].id) == ("7001", "3")


@pytest.mark.parametrize("native", NATIVE)
def test_ids_render_in_both_modes(native: bool) -> None:
    operator = _rendered(
        _create(download_task_id="{{ params.task }}", continuous="{{ params.flag }}"),
        native,
        task="310001",
        flag=True,
    )
    args = operator.validated_args()
    assert (args.download_task_id, args.continuous) == ("310001", True)


@pytest.mark.parametrize("native", NATIVE)
def test_an_xcom_holding_none_is_refused_in_both_modes(native: bool) -> None:
    operator = _rendered(_create(download_task_id="{{ params.task }}"), native, task=None)
    with pytest.raises(AirflowFailException, match=r"download_task_id: .*None"):
        operator.validated_args()
