"""The example DAGs' mapped ingest task: Phrase's verdict on a file ends it *skipped*, with the reason shown.

:class:`IngestFileOperator` is :class:`~airflow_phrase.operators.ingest.PhraseIngestConnectorFileOperator`
with the example DAGs' policy for expected failures (see :mod:`airflow_phrase.ingestion.failures`):
when Phrase itself could not process the file (conversion failed, the connector could not fetch it, the
import failed), the task

* records the :class:`~airflow_phrase.ingestion.failures.FileFailure` in XCom for the summary (with the
  jobs Phrase had created when their import failed, so the summary counts every job);
* ends **skipped** (``AirflowSkipException``, no retries), the state Airflow users know as "nothing
  to do here", so the grid tells Phrase's verdicts (skipped) from real failures (failed, red) at a
  glance, and the run's state is that of the real failures only;
* adds the reason to its map index label (``docs/legacy/broken.docx · skipped: conversion failed``),
  which the grid and the task list show, through the context variable :data:`OUTCOME_CONTEXT_KEY` of
  :data:`MAP_INDEX_TEMPLATE`.

Every other failure fails the task as before (and is recorded by
:func:`~airflow_phrase.ingestion.failures.record_ingest_failure`, the ``on_failure_callback``). The
operator also always leaves its API call count in XCom (``phrase_api_calls``), so the summary can read
it for every file without asking for an XCom that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import Any, TypeVar

from airflow.sdk.exceptions import AirflowSkipException, TaskDeferred

from airflow_phrase.exceptions import PhraseDownloadFailedError, PhraseImportFailedError
from airflow_phrase.ingestion.failures import FAILURE_XCOM_KEY, classify_failure
from airflow_phrase.links import JOB_URLS_XCOM_KEY
from airflow_phrase.operators.ingest import PhraseIngestConnectorFileOperator
from airflow_phrase.operators.try_record import API_CALLS_XCOM_KEY

#: Context variable the map index label ends with (set when the task ends without ingesting the file).
OUTCOME_CONTEXT_KEY = "phrase_outcome"
#: ``map_index_template`` of the ingest task: the file's path, then the outcome when it was not ingested.
MAP_INDEX_TEMPLATE = (
    "{{ task.folder }}/{{ task.file }}"
    "{{ ' · ' ~ " + OUTCOME_CONTEXT_KEY + " if " + OUTCOME_CONTEXT_KEY + " is defined else '' }}"
)

T = TypeVar("T")


class IngestFileOperator(PhraseIngestConnectorFileOperator):
    """``PhraseIngestConnectorFileOperator`` that ends *skipped* on Phrase's verdict on the file.

    Returns the operator's result plus ``import_checked`` (``True`` when it waited for the import, so
    every job it returns was imported).
    """

    def execute(self, context: Any) -> dict[str, Any]:
        return self._run(context, lambda: super(IngestFileOperator, self).execute(context))

    def resume_execution(self, next_method: str, next_kwargs: dict[str, Any] | None, context: Any) -> Any:
        return self._run(context, lambda: super(IngestFileOperator, self).resume_execution(
            next_method, next_kwargs, context
        ))  # fmt: skip

    def _run(self, context: Any, body: Callable[[], T]) -> T:
        try:
            result = body()
        except TaskDeferred:
            raise
        except (PhraseDownloadFailedError, PhraseImportFailedError) as error:
            failure = classify_failure(error)
            record = failure.model_dump(mode="json")
            if isinstance(error, PhraseImportFailedError):
                record["jobs"] = self._jobs_of_failed_import(context, error)
            context["ti"].xcom_push(key=FAILURE_XCOM_KEY, value=record)
            _set_outcome(context, f"skipped: {failure.category.label}")
            raise AirflowSkipException(f"Phrase could not process the file ({failure.describe()})") from error
        except Exception:
            _set_outcome(context, "failed")
            raise
        finally:
            self._record_api_calls(context)
        if isinstance(result, dict):
            result = {**result, "import_checked": bool(self.wait_for_import)}  # type: ignore[assignment]
        return result

    @staticmethod
    def _jobs_of_failed_import(context: Any, error: PhraseImportFailedError) -> list[dict[str, Any]]:
        """The jobs whose import failed, with language and link (pushed by the operator when created), and
        whether this task created them (its progress in the task state store says which it created)."""
        from airflow_phrase.operators.base import load_state
        from airflow_phrase.operators.ingest import PROGRESS_KEY
        from airflow_phrase.operators.ingest_state import IngestProgress

        ti = context["ti"]
        urls = ti.xcom_pull(task_ids=ti.task_id, key=JOB_URLS_XCOM_KEY, map_indexes=ti.map_index) or []
        known = {item.get("uid"): item for item in urls if isinstance(item, dict)}
        progress = load_state(context, PROGRESS_KEY, IngestProgress)
        created = set(progress.created.job_uids) if progress is not None and progress.created else None
        return [
            {
                "uid": uid,
                "targetLang": known.get(uid, {}).get("targetLang"),
                "url": known.get(uid, {}).get("url"),
                "created_now": uid in created if created is not None else error.async_request_id is not None,
            }
            for uid in error.job_uids
        ]

    def _record_api_calls(self, context: Any) -> None:
        context["ti"].xcom_push(key=API_CALLS_XCOM_KEY, value=self.try_record.api_calls)


def _set_outcome(context: Any, outcome: str) -> None:
    if isinstance(context, MutableMapping):
        context[OUTCOME_CONTEXT_KEY] = outcome


__all__ = ["MAP_INDEX_TEMPLATE", "OUTCOME_CONTEXT_KEY", "IngestFileOperator"]
