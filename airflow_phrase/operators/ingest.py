"""``PhraseIngestConnectorFileOperator``: connector file → Phrase jobs in one task, exactly once."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import closing
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from airflow.sdk.exceptions import AirflowException, AirflowFailException

from airflow_phrase.exceptions import PhraseWaitTimeout
from airflow_phrase.links import PhraseJobsLink, PhraseProjectLink
from airflow_phrase.operators.base import (
    JOB_TEMPLATE_FIELDS,
    PhraseJobOperator,
    has_state_store,
    load_state,
    save_state,
)

if TYPE_CHECKING:
    # DAG files import this module: the hook (HTTP libraries), the models, the argument and state models,
    # the waits and the triggers are imported where they are used, on the worker or in the triggerer.
    from airflow_phrase.hooks.phrase_tms import PhraseTmsHook
    from airflow_phrase.hooks.remote_files import RemoteFileVersion
    from airflow_phrase.hooks.results import JobsOutcome, JobSummary
    from airflow_phrase.models import ConnectorTaskState
    from airflow_phrase.operators.ingest_state import IngestPlan, IngestProgress
    from airflow_phrase.operators.params import IngestArgs

#: Default seconds after which a finished, unused rival download is taken as abandoned.
DEFAULT_ABANDON_AFTER = 600.0
#: Key of the ingest's progress in the task state store (``operators/ingest_state.py``).
PROGRESS_KEY = "phrase_ingest_progress"


class PhraseIngestConnectorFileOperator(PhraseJobOperator):
    """Download a connector file into Phrase and create its jobs, in one task: download → wait → create
    jobs (→ optionally wait for the import). Exactly once per file version and target language.

    Reads top to bottom as :meth:`execute` → :meth:`execute_complete` (the download finished) →
    :meth:`execute_complete_import` (with ``wait_for_import``); every step is a hook verb, and the state
    between steps is an :class:`~airflow_phrase.operators.ingest_state.IngestProgress` that crosses each
    deferral and is kept in Airflow's task state store.

    **What is left to do** is decided before anything is started:

    * Given a ``plan`` (what the ingestion DAG's ``list_files`` step decided for the whole folder in one
      reconciliation per run: the file's encoded names and version, the version's lower bound, the
      project's languages checked), a first attempt trusts it and goes straight to the download: no
      folder walk, no project read, no job lookup.
    * Without a plan (the operator used on its own), the file is found by its readable path, the project
      is read (target languages it does not have fail the task before any download), and the jobs of this
      version are looked up (created at or after its ``lastModified``): every language covered → those jobs
      are returned (``reused="jobs"``); some covered → jobs are created for the others only
      (``reused="partial"``).
    * A later try (a retry, a cleared task) that finds the progress of an earlier try of the same file
      version in the task state store continues from it: it waits on that download again instead of
      starting another (``reused="download"``), and looks for jobs already created from it before creating.

    **Exactly once under concurrency**: before creating jobs, the download waits until no earlier
    download of the same file version by another ingest (a zombie try, another run) is pending, and looks
    up the version's jobs if one was used: see :mod:`airflow_phrase.hooks.claims`. Download tasks are
    single-use: a create refused because the task was already used returns the jobs created from it.

    A failed download (``ERROR`` / ``CONVERTER_ERROR``) fails the task without retries, with Phrase's
    message (:class:`~airflow_phrase.exceptions.PhraseDownloadFailedError`); so does a failed import
    (:class:`~airflow_phrase.exceptions.PhraseImportFailedError`). With ``wait_for_import`` the import of
    jobs that existed is checked as well as that of new ones (one shared listing for both).

    :param connector: connector id (``"1001"``) or exact name (templated).
    :param folder: folder path (``"docs/guides"``, ``"/"``) or encoded folder (templated).
    :param file: file name or encoded name (templated).
    :param project_uid: the project to create the jobs in (templated).
    :param source_lang: optional ``sourceLang`` of the download (templated).
    :param plan: the run's :class:`~airflow_phrase.operators.ingest_state.IngestPlan` for this file (a dict;
        not templated), given by the ingestion DAGs' mapped tasks.
    :param abandon_after: seconds after which a finished but unused rival download is taken as abandoned.

    The job fields (``target_langs``, ``continuous``, ``due``, ...) and ``wait_for_import`` are those of
    :class:`~airflow_phrase.operators.base.PhraseJobOperator`; ``deferrable``, ``poll_interval`` and
    ``wait_timeout`` control the waiting.

    Returns the create-job result (``project_uid``, ``job_uids``, ``jobs``, ``async_request_id``,
    ``unsupported_files``, ``warnings``) plus ``download_task_id``, the file (``connector_id``, ``folder``,
    ``file`` as encoded names, ``file_name``, ``folder_path``, ``last_modified``), ``reused``,
    ``new_job_uids`` and ``existing_job_uids``. ``jobs`` / ``job_uids`` list the jobs of every requested
    language (existing and new), ordered by requested language then workflow level; ``new_job_uids`` are
    those this task (or an earlier try of it) created, ``existing_job_uids`` the others. ``reused`` is
    ``"jobs"`` (every language had jobs of this version; nothing created), ``"partial"`` (some had),
    ``"download"`` (an earlier try's download was used) or ``None``.
    """

    template_fields: Sequence[str] = (
        "phrase_conn_id",
        "connector",
        "folder",
        "file",
        "project_uid",
        "source_lang",
        "continuous",
        *JOB_TEMPLATE_FIELDS,
    )
    operator_extra_links = (PhraseProjectLink(), PhraseJobsLink())

    def __init__(
        self,
        *,
        connector: str,
        file: str,
        project_uid: str,
        folder: str = "/",
        source_lang: str | None = None,
        plan: IngestPlan | dict[str, Any] | None = None,
        abandon_after: float = DEFAULT_ABANDON_AFTER,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.connector = connector
        self.folder = folder
        self.file = file
        self.project_uid = project_uid
        self.source_lang = source_lang
        self.plan = plan if plan is None or isinstance(plan, dict) else plan.model_dump(mode="json")
        self.abandon_after = float(abandon_after)

    def validated_args(self) -> IngestArgs:
        """The rendered arguments and the plan, validated (``AirflowFailException`` naming the bad ones)."""
        from airflow_phrase.operators.params import IngestArgs

        return self.validate_template_fields(IngestArgs, plan=self.plan)

    # ------------------------------------------------------------------ 1. decide, start the download

    def execute(self, context: Any) -> dict[str, Any]:
        args = self.validate_first(context, self.validated_args)
        with closing(self.new_hook(args.phrase_conn_id)) as hook:
            self.push_project_link(context, hook, args.project_uid)
            progress, finished = self._starting_point(context, hook, args)
            if progress.stage == "done":
                return self._result(context, hook, args, progress)
            if progress.stage == "importing":
                return self._after_create(context, hook, args, progress)
            if finished is not None:  # an earlier try's download, finished meanwhile: no wait
                return self._create(context, hook, args, progress, finished, rivals_used=[])
            return self._wait_for_download(context, hook, args, progress)

    def _starting_point(
        self, context: Any, hook: PhraseTmsHook, args: IngestArgs
    ) -> tuple[IngestProgress, ConnectorTaskState | None]:
        """Where this try starts: the run's plan, an earlier try's progress, or a lookup in Phrase; with the
        state of an earlier try's download when it has finished successfully."""
        from airflow_phrase.operators.ingest_state import IngestProgress

        deadline = self.wait_deadline()
        plan = args.plan
        if plan is None:
            return self._plan_alone(context, hook, args, deadline)
        earlier = load_state(context, PROGRESS_KEY, IngestProgress)
        if earlier is not None and earlier.matches(args.project_uid, plan.file):
            return self._continue(context, hook, args, earlier.model_copy(update={"deadline": deadline}))
        if not has_state_store(context) and _try_number(context) > 1:
            # No record of what an earlier try did: look in Phrase, as without a plan.
            checked = self._check_in_phrase(context, hook, args, plan.file, plan.version_after, deadline)
            return checked, None
        self.log.info(
            "Ingesting %s (modified %s) as the run planned at %s",
            plan.file.path,
            _iso(plan.file.last_modified),
            _iso(plan.planned_at),
        )
        from airflow_phrase.hooks.job_matching import missing_languages

        if not plan.languages_checked:
            self.check_project_languages(hook, args.project_uid, args.target_langs)
        missing = missing_languages(args.target_langs, plan.existing_jobs)
        fresh = IngestProgress(
            project_uid=args.project_uid,
            file=plan.file,
            version_after=plan.version_after,
            missing_langs=missing,
            existing_jobs=plan.existing_jobs,
            reused="partial" if plan.existing_jobs else None,
            deadline=deadline,
        )
        if not missing:
            return fresh.model_copy(update={"stage": "done", "reused": "jobs"}), None
        if plan.existing_jobs:
            self._log_partial(args, fresh)
        return self._start_download(context, hook, args, fresh), None

    def _plan_alone(
        self, context: Any, hook: PhraseTmsHook, args: IngestArgs, deadline: float | None
    ) -> tuple[IngestProgress, ConnectorTaskState | None]:
        """Without a run's plan: find the file, check the project's languages, then look in Phrase."""
        from airflow_phrase.operators.ingest_state import IngestProgress

        resolved = self.resolve_file(hook, args.connector, args.folder, args.file)
        self.check_project_languages(hook, args.project_uid, args.target_langs)
        file = resolved.version
        earlier = load_state(context, PROGRESS_KEY, IngestProgress)
        if earlier is not None and earlier.matches(args.project_uid, file):
            return self._continue(context, hook, args, earlier.model_copy(update={"deadline": deadline}))
        return self._check_in_phrase(context, hook, args, file, file.last_modified, deadline), None

    def _check_in_phrase(
        self,
        context: Any,
        hook: PhraseTmsHook,
        args: IngestArgs,
        file: RemoteFileVersion,
        version_after: datetime | None,
        deadline: float | None,
    ) -> IngestProgress:
        """The jobs this version already has decide what is left: nothing, some languages, or all."""
        from airflow_phrase.hooks.job_matching import missing_languages
        from airflow_phrase.operators.ingest_state import IngestProgress

        existing = hook.find_version_jobs(
            args.project_uid, file, args.target_langs, created_after=version_after
        )
        missing = missing_languages(args.target_langs, existing)
        progress = IngestProgress(
            project_uid=args.project_uid,
            file=file,
            version_after=version_after,
            missing_langs=missing,
            existing_jobs=existing,
            reused="partial" if existing else None,
            deadline=deadline,
        )
        if not missing:
            self.log.info(
                "%s (modified %s) is already in project %s as jobs %s; nothing to do",
                file.path,
                _iso(file.last_modified),
                args.project_uid,
                ", ".join(job.uid for job in existing),
            )
            return progress.model_copy(update={"stage": "done", "reused": "jobs"})
        if existing:
            self._log_partial(args, progress)
        return self._start_download(context, hook, args, progress)

    def _continue(
        self, context: Any, hook: PhraseTmsHook, args: IngestArgs, earlier: IngestProgress
    ) -> tuple[IngestProgress, ConnectorTaskState | None]:
        """An earlier try of this task got as far as ``earlier``: continue from there (with the earlier
        download's state when it has finished: it need not be waited for)."""
        from airflow_phrase.operators.ingest_state import listing_since

        if earlier.stage != "downloading" or earlier.download_task_id is None:
            self.log.info(
                "An earlier try already created jobs for %s; continuing from there", earlier.file_label
            )
            return earlier, None
        state = hook.get_connector_task_state(
            args.project_uid, earlier.download_task_id, created_after=listing_since(earlier)
        )
        status = _status(state)
        if state is None or status in ("ERROR", "CONVERTER_ERROR"):
            self.log.info(
                "The download %s an earlier try started for %s is %s; starting another",
                earlier.download_task_id,
                earlier.file_label,
                status or "not listed",
            )
            restarted = earlier.model_copy(update={"download_task_id": None})
            return self._start_download(context, hook, args, restarted), None
        self.log.info(
            "Continuing with download task %s (%s) an earlier try started for %s",
            earlier.download_task_id,
            status,
            earlier.file_label,
        )
        resumed = earlier.model_copy(update={"reused": earlier.reused or "download"})
        return resumed, state if status == "SUCCESS" else None

    def _start_download(
        self, context: Any, hook: PhraseTmsHook, args: IngestArgs, progress: IngestProgress
    ) -> IngestProgress:
        """``POST /api2/v2/connectors/{id}/folders/{folder}/files/{file}``; the task id is kept at once."""
        from airflow_phrase.models import DownloadFileRequest

        file = progress.file
        started = hook.start_connector_download(
            file.connector_id,
            file.encoded_folder,
            file.encoded_name,
            DownloadFileRequest(source_lang=args.source_lang),
        )
        self.log.info("Started Phrase download task %s of %s", started.id, file.path)
        progress = progress.model_copy(
            update={
                "stage": "downloading",
                "download_task_id": started.id,
                "download_created": _aware(started.date_created) or datetime.now(timezone.utc),
            }
        )
        save_state(context, PROGRESS_KEY, progress)
        return progress

    # ------------------------------------------------------------------ 2. wait for the download

    def _wait_for_download(
        self, context: Any, hook: PhraseTmsHook, args: IngestArgs, progress: IngestProgress
    ) -> dict[str, Any]:
        """Wait until the download finished and no earlier claim of the file version is pending; then
        create the jobs. A download started a moment ago has not finished: the first look is one interval
        later (the trigger's first poll, or the poke wait's)."""
        from airflow_phrase.hooks.claims import ClaimCheck
        from airflow_phrase.operators.ingest_state import listing_since

        task_id = progress.download_task_id
        assert task_id is not None
        save_state(context, PROGRESS_KEY, progress)
        since = listing_since(progress)
        if self.deferrable:
            from airflow_phrase.triggers.connector_task import PhraseConnectorTaskTrigger

            self.defer(
                trigger=PhraseConnectorTaskTrigger(
                    phrase_conn_id=args.phrase_conn_id,
                    project_uid=args.project_uid,
                    download_task_id=task_id,
                    poll_interval=self.poll_interval,
                    deadline=progress.deadline,
                    created_after=_iso(since),
                    claim_file_name=progress.file.name,
                    claim_version_after=_iso(progress.version_after),
                    abandon_after=self.abandon_after,
                ),
                method_name="execute_complete",
                kwargs={"progress": progress.to_kwargs()},
                timeout=None,  # the trigger's deadline reports the timeout as an event
            )
        try:
            state, check = hook.wait_for_download(
                args.project_uid,
                task_id,
                created_after=since,
                poll_interval=self.poll_interval,
                deadline=progress.deadline,
                wait_first=True,
                claim=(progress.file.name, progress.version_after),
                abandon_after=timedelta(seconds=self.abandon_after),
            )
        except PhraseWaitTimeout as timeout:
            raise PhraseWaitTimeout(f"{timeout} File: {progress.file_label}.") from None
        used = check.used if isinstance(check, ClaimCheck) else []
        return self._create(context, hook, args, progress, state, used)

    def execute_complete(
        self, context: Any, event: dict[str, Any] | None = None, progress: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Resume after :class:`~airflow_phrase.triggers.connector_task.PhraseConnectorTaskTrigger`."""
        from airflow_phrase.hooks.waits import check_download
        from airflow_phrase.models import ConnectorTaskState
        from airflow_phrase.triggers.events import ConnectorTaskEvent, parse_event

        parsed = parse_event(ConnectorTaskEvent, event)
        args = self.validated_args()
        current = self._resumed_progress(context, progress)
        state = ConnectorTaskState.model_validate(parsed.task_state) if parsed.task_state else None
        if parsed.status == "timeout":
            raise PhraseWaitTimeout(
                f"Timed out waiting for Phrase download task {parsed.download_task_id} of "
                f"{current.file_label}: {parsed.message}"
            )
        if parsed.status == "error":
            if state is not None:
                check_download(state, file_label=current.file_label)
            raise AirflowFailException(
                f"Waiting for Phrase download task {parsed.download_task_id} of {current.file_label} failed: "
                f"{parsed.message}"
            )
        assert state is not None  # a success event carries the state
        used = [ConnectorTaskState.model_validate(rival) for rival in parsed.rivals_used]
        with closing(self.new_hook(args.phrase_conn_id)) as hook:
            if current.created is not None:  # a resume of this step already created them (and died)
                return self._after_create(context, hook, args, current)
            return self._create(context, hook, args, current, state, used)

    def _resumed_progress(self, context: Any, progress: dict[str, Any] | None) -> IngestProgress:
        """The progress this task deferred with: from the deferral's kwargs, else the task state store."""
        from airflow_phrase.operators.ingest_state import IngestProgress

        if progress is not None:
            return IngestProgress.model_validate(progress)
        stored = load_state(context, PROGRESS_KEY, IngestProgress)
        if stored is None:
            raise AirflowException(
                "Resumed without the progress this task deferred with (neither in the deferral's kwargs nor "
                "in the task state store); run the task again: it picks up what Phrase already did."
            )
        self.log.warning(
            "Resumed without the deferral's kwargs; using the progress kept in the task state store"
        )
        return stored

    # ------------------------------------------------------------------ 3. create the jobs

    def _create(
        self,
        context: Any,
        hook: PhraseTmsHook,
        args: IngestArgs,
        progress: IngestProgress,
        state: ConnectorTaskState,
        rivals_used: Sequence[ConnectorTaskState],
    ) -> dict[str, Any]:
        """Create the jobs of the languages still missing from the finished download."""
        from airflow_phrase.hooks.job_matching import missing_languages
        from airflow_phrase.hooks.waits import check_download
        from airflow_phrase.operators.params import narrow_job_request

        check_download(state, file_label=progress.file_label)
        if rivals_used:
            # Another download of a file of this name was used: maybe this version was ingested meanwhile.
            self.log.info(
                "Download(s) %s of a file named %r were used to create jobs; looking up %s's jobs first",
                ", ".join(rival.id for rival in rivals_used),
                progress.file.name,
                progress.file_label,
            )
            found = hook.find_version_jobs(
                args.project_uid, progress.file, args.target_langs, created_after=progress.version_after
            )
            existing = _union(progress.existing_jobs, found)
            missing = missing_languages(args.target_langs, existing)
            progress = progress.model_copy(
                update={"existing_jobs": existing, "missing_langs": missing, "reused": "partial"}
            )
            if not missing:
                self.log.info("Another ingest created every job of %s; creating none", progress.file_label)
                done = progress.model_copy(update={"stage": "done", "reused": "jobs"})
                save_state(context, PROGRESS_KEY, done)
                return self._result(context, hook, args, done)
        outcome = hook.create_jobs_once(
            args.project_uid,
            state.id,
            narrow_job_request(args.job_request(), progress.missing_langs),
            continuous=args.continuous,
            task_state=state,
        )
        progress = progress.model_copy(update={"stage": "importing", "created": outcome})
        save_state(context, PROGRESS_KEY, progress)
        return self._after_create(context, hook, args, progress)

    def _after_create(
        self, context: Any, hook: PhraseTmsHook, args: IngestArgs, progress: IngestProgress
    ) -> dict[str, Any]:
        """Push the jobs links and, with ``wait_for_import``, wait for the import (may defer)."""
        jobs = self._all_jobs(args, progress)
        self.push_jobs_links(context, hook, args.project_uid, jobs)
        if not self.wait_for_import:
            return self._result(context, hook, args, progress)
        self.wait_until_imported(
            hook,
            phrase_conn_id=args.phrase_conn_id,
            project_uid=args.project_uid,
            job_uids=[job.uid for job in jobs],
            deadline=progress.deadline,
            method_name="execute_complete_import",
            kwargs={"progress": progress.to_kwargs()},
        )
        return self._result(context, hook, args, progress)

    def execute_complete_import(
        self, context: Any, event: dict[str, Any] | None = None, progress: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Resume after :class:`~airflow_phrase.triggers.jobs_import.PhraseJobsImportTrigger`."""
        args = self.validated_args()
        current = self._resumed_progress(context, progress)
        self.import_verdict(event)
        with closing(self.new_hook(args.phrase_conn_id)) as hook:
            return self._result(context, hook, args, current)

    # ------------------------------------------------------------------ the result

    def _all_jobs(self, args: IngestArgs, progress: IngestProgress) -> list[JobSummary]:
        from airflow_phrase.hooks.job_matching import order_jobs

        created = progress.created.jobs if progress.created is not None else []
        return order_jobs(args.target_langs, [*progress.existing_jobs, *created])

    def _result(
        self, context: Any, hook: PhraseTmsHook, args: IngestArgs, progress: IngestProgress
    ) -> dict[str, Any]:
        """The XCom return value (see the class docstring); pushes the jobs links of a reused version."""
        jobs = self._all_jobs(args, progress)
        if progress.created is None:
            self.push_jobs_links(context, hook, args.project_uid, jobs)
        created: JobsOutcome | None = progress.created
        new = {job.uid for job in created.jobs} if created is not None else set()
        save_state(context, PROGRESS_KEY, progress.model_copy(update={"stage": "done"}))
        file = progress.file
        return {
            "project_uid": args.project_uid,
            "job_uids": [job.uid for job in jobs],
            "jobs": [job.to_xcom() for job in jobs],
            "async_request_id": created.async_request_id if created is not None else None,
            "unsupported_files": list(created.unsupported_files) if created is not None else [],
            "warnings": list(created.warnings) if created is not None else [],
            "download_task_id": progress.download_task_id,
            "connector_id": file.connector_id,
            "folder": file.encoded_folder,
            "file": file.encoded_name,
            "file_name": file.name,
            "folder_path": file.folder_path,
            "last_modified": _iso(file.last_modified),
            "reused": progress.reused,
            "new_job_uids": [job.uid for job in jobs if job.uid in new],
            "existing_job_uids": [job.uid for job in jobs if job.uid not in new],
        }

    # ------------------------------------------------------------------ logging

    def _log_partial(self, args: IngestArgs, progress: IngestProgress) -> None:
        self.log.info(
            "%s (modified %s) already has jobs in project %s for %s (%s); creating jobs only for %s",
            progress.file_label,
            _iso(progress.file.last_modified),
            args.project_uid,
            ", ".join(lang for lang in args.target_langs if lang not in progress.missing_langs),
            ", ".join(job.uid for job in progress.existing_jobs),
            ", ".join(progress.missing_langs),
        )


def _union(first: Sequence[JobSummary], second: Sequence[JobSummary]) -> list[JobSummary]:
    by_uid = {job.uid: job for job in [*first, *second]}
    return list(by_uid.values())


def _status(state: ConnectorTaskState | None) -> str | None:
    if state is None:
        return None
    return str(getattr(state.status, "value", state.status))


def _aware(moment: datetime | None) -> datetime | None:
    from airflow_phrase.hooks.remote_files import as_utc

    return as_utc(moment)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _try_number(context: Any) -> int:
    ti = context.get("ti") if hasattr(context, "get") else None
    number = getattr(ti, "try_number", 1)
    return number if isinstance(number, int) else 1


__all__ = ["PhraseIngestConnectorFileOperator"]
