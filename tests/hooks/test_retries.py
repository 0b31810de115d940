"""Retries against the emulator's fault injection: what is retried, how long it waits, when it gives up.

Waits are observed through the hook's injected sleep (no wall time passes); attempts are counted in the
emulator's request journal.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

import pytest

from airflow_phrase.exceptions import PhraseApiError, PhraseConnectionError
from airflow_phrase.hooks.phrase_tms import LOGIN_PATH, WHO_AM_I_PATH, PhraseTmsHook
from airflow_phrase.hooks.retry import RetryPolicy
from airflow_phrase.hooks.transport import PhraseResponseLostError
from airflow_phrase.models import JobCreateRequest
from tests.helpers import wait_until
from tests.hooks.support import DEMO_API_TOKEN, DOCS_GIT, WEBSITE, SleepRecorder, journal, wait_for_task

MakeHook = Callable[..., PhraseTmsHook]
CREATE_JOB = f"/api2/v1/projects/{WEBSITE}/jobs/connectorTask"


def fault_rule(method: str, path: str, *faults: dict[str, Any] | None) -> dict[str, Any]:
    return {"method": method, "path": path, "sequence": list(faults)}


def finished_download(hook: PhraseTmsHook, emulator: Any) -> str:
    """The id of a finished download task of docs/guides/install.md; the journal is cleared afterwards."""
    remote = hook.resolve_remote_file(DOCS_GIT, "docs/guides", "install.md")
    task = hook.start_connector_download(DOCS_GIT, remote.encoded_folder, remote.encoded_name)
    assert wait_for_task(hook, task.id).status.value == "SUCCESS"
    emulator.admin.clear_journal()
    return task.id


class TestRetryAfter:
    def test_429_waits_exactly_the_delta_seconds(
        self, phrase_emulator: Any, token_conn: str, make_hook: MakeHook, sleeps: SleepRecorder
    ) -> None:
        phrase_emulator.admin.set_faults(
            [fault_rule("GET", WHO_AM_I_PATH, {"status": 429, "retryAfter": "3"})]
        )
        make_hook(token_conn).who_am_i()
        assert sleeps.waits == [3.0]
        assert [(e.status, e.fault is not None) for e in journal(phrase_emulator)] == [
            (429, True),
            (200, False),
        ]

    def test_429_with_an_http_date(
        self, phrase_emulator: Any, token_conn: str, make_hook: MakeHook, sleeps: SleepRecorder
    ) -> None:
        retry_at = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=40), usegmt=True)
        phrase_emulator.admin.set_faults(
            [fault_rule("GET", WHO_AM_I_PATH, {"status": 429, "retryAfter": retry_at})]
        )
        make_hook(token_conn).who_am_i()
        [wait] = sleeps.waits
        assert 35 <= wait <= 40  # whole-second date, a little wall time has passed
        assert len(journal(phrase_emulator)) == 2

    def test_retry_after_capped_by_max_wait(
        self, phrase_emulator: Any, token_conn: str, make_hook: MakeHook, sleeps: SleepRecorder
    ) -> None:
        phrase_emulator.admin.set_faults(
            [fault_rule("GET", WHO_AM_I_PATH, {"status": 503, "retryAfter": "3600"})]
        )
        make_hook(token_conn, retry_policy=RetryPolicy(max_wait=7, jitter=0)).who_am_i()
        assert sleeps.waits == [7.0]

    def test_real_rate_limit_429_is_honoured(
        self, phrase_emulator: Any, token_conn: str, make_hook: MakeHook, sleeps: SleepRecorder
    ) -> None:
        phrase_emulator.admin.configure(rate_limit_per_minute=2, rate_limit_retry_after=True)
        hook = make_hook(token_conn, retry_policy=RetryPolicy(max_attempts=2, jitter=0))
        hook.who_am_i()
        hook.who_am_i()
        with pytest.raises(PhraseApiError) as err:  # the fake sleep does not let the minute pass
            hook.who_am_i()
        assert err.value.status == 429 and err.value.attempts == 2
        assert len(sleeps.waits) == 1 and 0 < sleeps.waits[0] <= 60

    async def test_async_429_then_502(
        self, phrase_emulator: Any, token_conn: str, make_hook: MakeHook, sleeps: SleepRecorder
    ) -> None:
        phrase_emulator.admin.set_faults(
            [
                fault_rule(
                    "GET", "/api2/v1/connectorAsyncTasks", {"status": 429, "retryAfter": "5"}, {"status": 502}
                )
            ]
        )
        async with make_hook(token_conn) as hook:
            page = await hook.a_get_connector_task_states_page(WEBSITE)
        assert page.project_uid == WEBSITE
        assert sleeps.waits == [5.0, 1.0]  # Retry-After, then the backoff before the third attempt
        assert [e.status for e in journal(phrase_emulator)] == [429, 502, 200]

    async def test_async_gives_up_with_attempt_count(
        self, phrase_emulator: Any, token_conn: str, make_hook: MakeHook, sleeps: SleepRecorder
    ) -> None:
        phrase_emulator.admin.set_faults([fault_rule("GET", r"/api2/v1/async/.*", *[{"status": 503}] * 9)])
        async with make_hook(token_conn) as hook:
            with pytest.raises(PhraseApiError) as err:
                await hook.a_get_async_request("5200001")
        assert err.value.attempts == 4 == len(journal(phrase_emulator))
        assert sleeps.waits == [0.5, 1.0, 2.0]


class TestGivingUp:
    def test_503_until_attempts_run_out(
        self,
        phrase_emulator: Any,
        token_conn: str,
        make_hook: MakeHook,
        sleeps: SleepRecorder,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        phrase_emulator.admin.set_faults([fault_rule("GET", WHO_AM_I_PATH, *[{"status": 503}] * 10)])
        hook = make_hook(token_conn)
        with caplog.at_level("WARNING"), pytest.raises(PhraseApiError) as err:
            hook.who_am_i()
        assert err.value.status == 503 and err.value.attempts == 4
        assert "after 4 attempts" in str(err.value) and WHO_AM_I_PATH in str(err.value)
        assert len(journal(phrase_emulator, WHO_AM_I_PATH)) == 4
        assert sleeps.waits == [0.5, 1.0, 2.0]
        retry_logs = [
            r for r in caplog.records if r.levelname == "WARNING" and "retrying in" in r.getMessage()
        ]
        assert len(retry_logs) == 3
        assert all(
            "GET " + WHO_AM_I_PATH in r.getMessage() and "HTTP 503" in r.getMessage() for r in retry_logs
        )
        for text in (str(err.value), caplog.text, repr(hook)):
            assert DEMO_API_TOKEN not in text

    def test_total_budget_bounds_retries(
        self, phrase_emulator: Any, token_conn: str, make_hook: MakeHook, sleeps: SleepRecorder
    ) -> None:
        phrase_emulator.admin.set_faults([fault_rule("GET", WHO_AM_I_PATH, *[{"status": 502}] * 20)])
        policy = RetryPolicy(max_attempts=20, initial_wait=2, max_wait=60, total_timeout=10, jitter=0)
        with pytest.raises(PhraseApiError) as err:
            make_hook(token_conn, retry_policy=policy).who_am_i()
        assert sleeps.waits == [2.0, 4.0, 4.0]  # the last wait is cut to what is left of 10 s
        assert err.value.attempts == 4 == len(journal(phrase_emulator))

    def test_html_gateway_error_is_tolerated(
        self, phrase_emulator: Any, token_conn: str, make_hook: MakeHook
    ) -> None:
        phrase_emulator.admin.set_faults(
            [fault_rule("GET", WHO_AM_I_PATH, *[{"status": 502, "html": True}] * 4)]
        )
        with pytest.raises(PhraseApiError) as err:
            make_hook(token_conn).who_am_i()
        assert err.value.status == 502 and err.value.error_code is None
        assert "HTML" in (err.value.error_description or "")

    def test_unreachable_server_gives_up_with_connection_error(
        self, set_connection: Callable[..., str], make_hook: MakeHook, sleeps: SleepRecorder
    ) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        conn = set_connection("phrase_down", host=f"http://127.0.0.1:{port}/web", password=DEMO_API_TOKEN)
        with pytest.raises(PhraseConnectionError) as err:
            make_hook(conn).who_am_i()
        assert not isinstance(err.value, PhraseResponseLostError)
        assert "after 4 attempts" in str(err.value) and "could not be established" in str(err.value)
        assert sleeps.waits == [0.5, 1.0, 2.0]


class TestWhatIsRetried:
    def test_500_retried_for_get(self, phrase_emulator: Any, token_conn: str, make_hook: MakeHook) -> None:
        phrase_emulator.admin.set_faults([fault_rule("GET", WHO_AM_I_PATH, {"status": 500})])
        make_hook(token_conn).who_am_i()
        assert [e.status for e in journal(phrase_emulator)] == [500, 200]

    @pytest.mark.parametrize("fault", [{"status": 500}, {"status": 502}, {"drop": True}])
    def test_ambiguous_failures_of_the_download_post_are_retried(
        self, phrase_emulator: Any, token_conn: str, make_hook: MakeHook, fault: dict[str, Any]
    ) -> None:
        """A repeated download start costs at most a spare download task; not retrying would cost an
        Airflow retry (and its delay), which starts a download again anyway."""
        hook = make_hook(token_conn)
        remote = hook.resolve_remote_file(DOCS_GIT, "docs/guides", "install.md")
        phrase_emulator.admin.clear_journal()
        phrase_emulator.admin.set_faults([fault_rule("POST", r"/api2/v2/connectors/.*", fault)])
        started = hook.start_connector_download(DOCS_GIT, remote.encoded_folder, remote.encoded_name)
        assert started.id
        assert [e.status for e in journal(phrase_emulator, method="POST")] == [fault.get("status"), 200]

    def test_ambiguous_failures_of_the_login_post_are_retried(
        self, phrase_emulator: Any, login_conn: str, make_hook: MakeHook
    ) -> None:
        phrase_emulator.admin.set_faults([fault_rule("POST", "/api2/v3/auth/login", {"status": 500})])
        make_hook(login_conn).who_am_i()
        assert [(e.method, e.status) for e in journal(phrase_emulator)] == [
            ("POST", 500),
            ("POST", 200),
            ("GET", 200),
        ]

    def test_dropped_connection_retried_for_get(
        self, phrase_emulator: Any, token_conn: str, make_hook: MakeHook
    ) -> None:
        phrase_emulator.admin.set_faults([fault_rule("GET", WHO_AM_I_PATH, {"drop": True})])
        make_hook(token_conn).who_am_i()
        assert [e.status for e in journal(phrase_emulator)] == [None, 200]

    def test_not_found_not_retried(
        self, phrase_emulator: Any, token_conn: str, make_hook: MakeHook, sleeps: SleepRecorder
    ) -> None:
        with pytest.raises(PhraseApiError) as err:
            make_hook(token_conn).get_project("prjDoesNotExist")
        assert err.value.status == 404 and err.value.attempts == 1
        assert err.value.error_code and "prjDoesNotExist" in (err.value.error_description or "")
        assert len(journal(phrase_emulator)) == 1 and sleeps.waits == []

    @pytest.mark.parametrize("status", [400, 403, 409])
    def test_other_client_errors_not_retried(
        self, phrase_emulator: Any, token_conn: str, make_hook: MakeHook, sleeps: SleepRecorder, status: int
    ) -> None:
        phrase_emulator.admin.set_faults([fault_rule("GET", WHO_AM_I_PATH, {"status": status})])
        with pytest.raises(PhraseApiError) as err:
            make_hook(token_conn).who_am_i()
        assert err.value.status == status and err.value.attempts == 1
        assert len(journal(phrase_emulator)) == 1 and sleeps.waits == []

    def test_per_call_policy_overrides_hook_policy(
        self, phrase_emulator: Any, token_conn: str, make_hook: MakeHook
    ) -> None:
        phrase_emulator.admin.set_faults([fault_rule("GET", WHO_AM_I_PATH, *[{"status": 503}] * 5)])
        with pytest.raises(PhraseApiError) as err:
            make_hook(token_conn).who_am_i(retry_policy=RetryPolicy.no_retry())
        assert err.value.attempts == 1 and len(journal(phrase_emulator)) == 1

    def test_connection_extra_sets_the_policy(
        self,
        phrase_emulator: Any,
        set_connection: Callable[..., str],
        make_hook: MakeHook,
        sleeps: SleepRecorder,
    ) -> None:
        conn = set_connection(
            "phrase_extra",
            host=phrase_emulator.base_url,
            password=DEMO_API_TOKEN,
            extra={"max_attempts": "2", "max_wait_seconds": 0.25},
        )
        phrase_emulator.admin.set_faults([fault_rule("GET", WHO_AM_I_PATH, *[{"status": 504}] * 5)])
        with pytest.raises(PhraseApiError) as err:
            make_hook(conn, retry_policy=None).who_am_i()
        assert err.value.attempts == 2 and len(journal(phrase_emulator)) == 2
        assert len(sleeps.waits) == 1 and sleeps.waits[0] <= 0.25


class TestCreateJobIsNotRepeatedBlindly:
    def test_502_raises_at_once(self, phrase_emulator: Any, token_conn: str, make_hook: MakeHook) -> None:
        hook = make_hook(token_conn)
        task_id = finished_download(hook, phrase_emulator)
        phrase_emulator.admin.set_faults([fault_rule("POST", CREATE_JOB, {"status": 502})])
        with pytest.raises(PhraseApiError) as err:
            hook.create_job_from_connector_task(WEBSITE, task_id, JobCreateRequest(target_langs=["de"]))
        assert err.value.status == 502 and err.value.attempts == 1
        assert len(journal(phrase_emulator, CREATE_JOB)) == 1

    def test_lost_response_raises_at_once_and_jobs_exist(
        self, phrase_emulator: Any, token_conn: str, make_hook: MakeHook
    ) -> None:
        hook = make_hook(token_conn)
        task_id = finished_download(hook, phrase_emulator)
        phrase_emulator.admin.set_faults(
            [fault_rule("POST", CREATE_JOB, {"drop": True, "afterHandler": True})]
        )
        with pytest.raises(PhraseResponseLostError) as err:
            hook.create_job_from_connector_task(WEBSITE, task_id, JobCreateRequest(target_langs=["de"]))
        assert "may have processed" in str(err.value)
        assert len(journal(phrase_emulator, CREATE_JOB)) == 1
        # The job was created although the response was lost: the caller can find it and reconcile.
        jobs = list(hook.iter_jobs(WEBSITE, filename="install.md"))
        assert [(job.target_lang, job.server_task_id) for job in jobs] == [("de", task_id)]

    def test_502_after_handler_is_not_repeated(
        self, phrase_emulator: Any, token_conn: str, make_hook: MakeHook
    ) -> None:
        hook = make_hook(token_conn)
        task_id = finished_download(hook, phrase_emulator)
        phrase_emulator.admin.set_faults(
            [fault_rule("POST", CREATE_JOB, {"status": 504, "afterHandler": True})]
        )
        with pytest.raises(PhraseApiError):
            hook.create_job_from_connector_task(WEBSITE, task_id, JobCreateRequest(target_langs=["de", "ja"]))
        assert len(journal(phrase_emulator, CREATE_JOB)) == 1
        assert len(phrase_emulator.admin.snapshot()["jobs"]) == 2  # created once, not twice

    @pytest.mark.parametrize("status", [429, 503])
    def test_certainly_unprocessed_statuses_are_retried(
        self, phrase_emulator: Any, token_conn: str, make_hook: MakeHook, sleeps: SleepRecorder, status: int
    ) -> None:
        hook = make_hook(token_conn)
        task_id = finished_download(hook, phrase_emulator)
        phrase_emulator.admin.set_faults(
            [fault_rule("POST", CREATE_JOB, {"status": status, "retryAfter": "2"})]
        )
        result = hook.create_job_from_connector_task(
            WEBSITE, task_id, JobCreateRequest(target_langs=["fr_fr"])
        )
        assert [job.target_lang for job in result.jobs] == ["fr_fr"]
        assert [e.status for e in journal(phrase_emulator, CREATE_JOB)] == [status, 201]
        assert sleeps.waits == [2.0]


class TestTimeouts:
    def test_read_timeout_retried_for_get(
        self, phrase_emulator: Any, token_conn: str, make_hook: MakeHook, sleeps: SleepRecorder
    ) -> None:
        phrase_emulator.admin.set_faults([fault_rule("GET", WHO_AM_I_PATH, {"delaySeconds": 3})])
        assert make_hook(token_conn, request_timeout=0.5).who_am_i().user.user_name == "demo"
        assert sleeps.waits == [0.5]

    def test_read_timeout_of_create_job_raises_at_once(
        self, phrase_emulator: Any, token_conn: str, make_hook: MakeHook, sleeps: SleepRecorder
    ) -> None:
        hook = make_hook(token_conn, request_timeout=0.5)
        task_id = finished_download(hook, phrase_emulator)
        # The server creates the jobs, then answers too late: a response lost to the client's timeout.
        phrase_emulator.admin.set_faults(
            [fault_rule("POST", CREATE_JOB, {"delaySeconds": 2, "afterHandler": True})]
        )
        with pytest.raises(PhraseResponseLostError) as err:
            hook.create_job_from_connector_task(WEBSITE, task_id, JobCreateRequest(target_langs=["de"]))
        assert "timed out" in str(err.value) and sleeps.waits == []
        assert len(phrase_emulator.admin.snapshot()["jobs"]) == 1
        # the journal records the slow request once it is answered
        wait_until(lambda: bool(journal(phrase_emulator, CREATE_JOB)))
        assert len(journal(phrase_emulator, CREATE_JOB)) == 1

    def test_unreachable_server_retried_even_for_create_job(
        self, set_connection: Callable[..., str], make_hook: MakeHook, sleeps: SleepRecorder
    ) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        conn = set_connection("phrase_down", host=f"http://127.0.0.1:{port}/web", password=DEMO_API_TOKEN)
        with pytest.raises(PhraseConnectionError) as err:
            make_hook(conn).create_job_from_connector_task(
                WEBSITE, "1", JobCreateRequest(target_langs=["de"])
            )
        assert not isinstance(err.value, PhraseResponseLostError)  # certainly not processed
        assert "after 4 attempts" in str(err.value) and len(sleeps.waits) == 3


class TestApiCallCount:
    """``PhraseTmsHook.api_calls`` counts every request that reached Phrase: retries and logins too."""

    def test_sync_counts_the_login_and_each_attempt(
        self, phrase_emulator: Any, login_conn: str, make_hook: MakeHook, sleeps: SleepRecorder
    ) -> None:
        phrase_emulator.admin.set_faults([fault_rule("GET", WHO_AM_I_PATH, {"status": 503})])
        hook = make_hook(login_conn)
        hook.who_am_i()
        # By path: a late request of an earlier test may still land in the shared emulator's journal.
        sent = journal(phrase_emulator, LOGIN_PATH, "POST") + journal(phrase_emulator, WHO_AM_I_PATH, "GET")
        assert hook.api_calls == 3 == len(sent)  # login, 503, 200

    async def test_async_counts_each_attempt(
        self, phrase_emulator: Any, token_conn: str, make_hook: MakeHook, sleeps: SleepRecorder
    ) -> None:
        phrase_emulator.admin.set_faults(
            [fault_rule("GET", "/api2/v1/connectorAsyncTasks", {"status": 429, "retryAfter": "1"})]
        )
        async with make_hook(token_conn) as hook:
            await hook.a_get_connector_task_states_page(WEBSITE)
            assert hook.api_calls == 2 == len(journal(phrase_emulator, "/api2/v1/connectorAsyncTasks"))

    def test_close_reports_the_count(self, token_conn: str, make_hook: MakeHook) -> None:
        hook = make_hook(token_conn)
        seen: list[int] = []
        hook.on_close = lambda closed: seen.append(closed.api_calls)
        hook.who_am_i()
        hook.close()
        assert seen == [1]
