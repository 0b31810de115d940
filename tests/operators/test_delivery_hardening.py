"""Bad arguments of the delivery operators, found by a tester: each fails before any call to Phrase
(the emulator's journal stays empty), naming the argument and the fix, without retries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException

from airflow_phrase.operators.target_file import PhraseDownloadTargetFileOperator
from tests.operators.conftest import calls
from tests.operators.test_delivery_operators import run_context, run_to_the_end
from tests.triggers.jobs_support import WEBSITE


def download(base_path: str, **kwargs: Any) -> PhraseDownloadTargetFileOperator:
    return PhraseDownloadTargetFileOperator(
        task_id="download_translations",
        project_uid=WEBSITE,
        job_uids=kwargs.pop("job_uids", ["jobPart000000000000001"]),
        base_path=base_path,
        poll_interval=0.2,
        **kwargs,
    )


@pytest.mark.parametrize(
    ("file_pattern", "message"),
    [
        ("../{path}", r"file_pattern: .*'\.\.'"),
        ("{target_lang}/../../{path}", r"file_pattern: .*'\.\.'"),
        ("/etc/{path}", r"file_pattern: .*absolute.*base_path"),
        ("\\\\server\\{path}", r"file_pattern: .*absolute.*base_path"),
        ("s3://other-bucket/{path}", r"file_pattern: .*absolute.*base_path"),
        ("{path!r}", r"file_pattern: .*\{path!r\}.*no conversion or format spec"),
        ("{target_lang:>99999999}/{path}", r"file_pattern: .*no conversion or format spec"),
    ],
)
def test_a_file_pattern_that_leaves_the_base_path_is_refused_before_any_call(
    emulator: Any, tmp_path: Path, file_pattern: str, message: str
) -> None:
    with pytest.raises(AirflowFailException, match=message):
        run_to_the_end(download(str(tmp_path), file_pattern=file_pattern), run_context())

    assert calls(emulator) == []
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("base_path", "message"),
    [
        # Relative: resolved against whatever the worker's working directory is.
        ("translations/site", r"base_path: 'translations/site' is relative.*absolute path.*URL"),
        ("None", r"base_path: 'None' is what a template renders"),
        ("file:translations", r"base_path: .*relative"),
        # file://relative/dir names a host 'relative' (and fsspec writes under the working directory).
        ("file://translations/site", r"base_path: .*host 'translations'.*file:///"),
        ("s3://", r"base_path: .*names no bucket"),
        ("s4://bucket/site", r"base_path: .*s4.*"),
    ],
)
def test_a_base_path_that_is_not_an_absolute_location_is_refused_before_any_call(
    emulator: Any, base_path: str, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # where a relative base path would have been written

    with pytest.raises(AirflowFailException, match=message):
        run_to_the_end(download(base_path), run_context())

    assert calls(emulator) == []
    assert list(tmp_path.iterdir()) == []


EXPORT_POST = r"/api2/v3/projects/[^/]+/jobs/export"


def export_runs(uids: list[str], stores: Any, tries: int = 3, **kwargs: Any) -> list[Any]:
    """Up to ``tries`` tries of one export task instance, as Airflow retries it: the outcome of each."""
    from airflow_phrase.operators.export import PhraseExportJobsToRepositoryOperator
    from tests.operators.conftest import RecordingTaskInstance

    context = run_context(stores)
    outcomes: list[Any] = []
    for try_number in range(1, tries + 1):
        operator = PhraseExportJobsToRepositoryOperator(
            task_id="export", project_uid=WEBSITE, job_uids=uids, poll_interval=0.2, deferrable=True, **kwargs
        )
        try:
            outcomes.append(
                run_to_the_end(operator, {**context, "ti": RecordingTaskInstance(try_number=try_number)})
            )
            return outcomes
        except AirflowFailException as error:  # Airflow does not retry these
            outcomes.append(error)
            return outcomes
        except Exception as error:  # Airflow retries these
            outcomes.append(error)
    return outcomes


def exported_jobs(emulator: Any) -> list[str]:
    return sorted(str(export["jobUid"]) for export in emulator.admin.snapshot()["exports"])


@pytest.mark.parametrize(
    "fault",
    [{"status": 500, "afterHandler": True}, {"drop": True, "afterHandler": True}, {"status": 502}],
    ids=["500-after-export", "answer-dropped-after-export", "502"],
)
def test_an_export_whose_answer_is_lost_is_not_exported_again(emulator: Any, fault: dict[str, Any]) -> None:
    from tests.operators.test_delivery_operators import AssetStores, complete_all
    from tests.triggers.jobs_support import create_jobs

    uids = create_jobs("phrase_tms_default")
    complete_all(emulator, uids)
    stores = AssetStores()
    emulator.admin.set_faults([{"method": "POST", "path": EXPORT_POST, "sequence": [fault]}])

    outcomes = export_runs(uids, stores)

    # Phrase may have exported (and with an after-handler fault did): the task fails at once, saying so
    # and how to export again; a retry would only export every job a second time.
    assert len(outcomes) == 1 and isinstance(outcomes[0], AirflowFailException), outcomes
    message = str(outcomes[0])
    assert all(uid in message for uid in uids) and "force=True" in message and "repository" in message
    # A rerun (cleared by hand, or the next DAG run) exports nothing again either: it reports them.
    again = export_runs(uids, stores)
    assert again[-1]["exported"] == [] and sorted(i["uid"] for i in again[-1]["already_exported"]) == uids
    posts = [e for e in emulator.admin.journal() if e.method == "POST" and e.path.endswith("/jobs/export")]
    assert len(posts) == 1
    assert exported_jobs(emulator) in ([], sorted(uids))  # once at most: none if the fault came first


def test_an_export_phrase_certainly_did_not_take_is_exported_by_the_retry(emulator: Any) -> None:
    from tests.operators.test_delivery_operators import AssetStores, complete_all
    from tests.triggers.jobs_support import create_jobs

    uids = create_jobs("phrase_tms_default")
    complete_all(emulator, uids)
    busy = {"status": 503}  # transient: Phrase did not act on it; the hook tries 3 times
    emulator.admin.set_faults([{"method": "POST", "path": EXPORT_POST, "sequence": [busy, busy, busy]}])

    outcomes = export_runs(uids, AssetStores())

    assert len(outcomes) == 2 and not isinstance(outcomes[0], AirflowFailException), outcomes
    assert sorted(item["uid"] for item in outcomes[1]["exported"]) == uids
    assert exported_jobs(emulator) == sorted(uids)


@pytest.mark.parametrize(
    "base_path", ["s3://AKIAEXAMPLE:Bucket-Secret-9d2e@l10n-bucket/site", "gs://token-only@bucket/site"]
)
def test_credentials_in_the_base_path_are_refused_without_showing_them(emulator: Any, base_path: str) -> None:
    # The base path goes to the task log, XCom (base_path, url) and rendered fields: credentials belong
    # in the storage connection (object_storage_conn_id).
    with pytest.raises(
        AirflowFailException, match=r"base_path: .*user name or password.*object_storage_conn_id"
    ) as raised:
        run_to_the_end(download(base_path), run_context())

    assert "Bucket-Secret-9d2e" not in str(raised.value) and "token-only" not in str(raised.value)
    assert calls(emulator) == []


def test_a_name_from_phrase_that_climbs_out_writes_nothing_and_says_whose_name_it_is(
    emulator: Any, tmp_path: Path
) -> None:
    from tests.operators.test_delivery_operators import complete_all
    from tests.triggers.jobs_support import create_jobs

    emulator.admin.configure(target_file_delay=0.0)
    uids = create_jobs("phrase_tms_default")
    complete_all(emulator, uids)
    with emulator.services.state._lock:  # a connector folder Phrase reports as "../../escape"
        emulator.services.state._jobs[uids[0]].remote_folder = "../../escape"
    base = tmp_path / "base"

    with pytest.raises(AirflowFailException) as raised:
        run_to_the_end(download(str(base), job_uids=uids, deferrable=False), run_context())

    message = str(raised.value)
    # The pattern is fine: the folder Phrase gave is not, and the message says so and what to do.
    assert f"job {uids[0]}" in message and "'../../escape'" in message and "Phrase" in message
    assert "{job_uid}" in message  # a pattern without Phrase's folder delivers it
    assert "file_pattern: file_pattern" not in message
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
    assert not [m for m, path in calls(emulator) if m == "PUT" and path.endswith("/targetFile")]
