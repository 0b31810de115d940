"""``PhraseIngestConnectorFileOperator``: connector file → Phrase jobs in one task, exactly once."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import closing
from datetime import datetime, timedelta, timezone
from typing import Any

from airflow.sdk.exceptions import AirflowException, AirflowFailException

from airflow_phrase.hooks.phrase_tms import PhraseTmsHook
from airflow_phrase.hooks.remote_files import ResolvedRemoteFile
from airflow_phrase.links import PhraseJobsLink, PhraseProjectLink
from airflow_phrase.models import ConnectorTaskState, DownloadFileRequest, JobPartV2
from airflow_phrase.operators.base import (
    JOB_TEMPLATE_FIELDS,
    JOB_TEMPLATE_RENDERERS,
    RESUMED_WITHOUT_KWARGS,
    PhraseWaitingOperator,
)
from airflow_phrase.operators.job_creation import create_jobs_once
from airflow_phrase.operators.params import IngestArgs, narrow_job_request
from airflow_phrase.operators.reconcile import (
    find_reusable_download,
    find_version_jobs,
    job_order_key,
    missing_languages,
    workflow_levels,
)
from airflow_phrase.operators.results import file_identity, iso, job_summary, jobs_result
from airflow_phrase.operators.waiting import (
    PhraseWaitTimeout,
    check_download,
    wait_for_download,
    wait_for_jobs_import,
)
from airflow_phrase.triggers.connector_task import PhraseConnectorTaskTrigger
from airflow_phrase.triggers.events import ConnectorTaskEvent, parse_event

#: Task states are searched from a little before the download's ``dateCreated`` (second precision).
_CREATED_MARGIN = timedelta(minutes=1)
_NEVER = datetime.min.replace(tzinfo=timezone.utc)


def _file_label(identity: dict[str, Any]) -> str:
    folder = identity.get("folder_path") or ""
    name = identity.get("file_name") or identity.get("file")
    return f"{folder.rstrip('/')}/{name}" if folder and folder != "/" else str(name)


def _single_task_id(jobs: Sequence[JobPartV2]) -> str | None:
    """The download task the jobs were created from, when Phrase reports one for all of them."""
    task_ids = {job.server_task_id for job in jobs}
    return task_ids.pop() if len(task_ids) == 1 else None


def _created_last(jobs: Sequence[JobPartV2]) -> list[JobPartV2]:
    """The jobs created together last: one create call makes all its jobs at the same ``dateCreated``,
    from the same download task (``serverTaskId``; a later task has a higher id, which settles two
    creations within the same second: Phrase's dates have second precision)."""

    def created(job: JobPartV2) -> tuple[datetime, int]:
        task = job.server_task_id or ""
        return job.date_created or _NEVER, int(task) if task.isdigit() else -1

    if not jobs:
        return []
    newest = max(created(job) for job in jobs)
    return [job for job in jobs if created(job) == newest]


def _created_after(progress: dict[str, Any]) -> datetime | None:
    created = progress.get("download_created")
    return datetime.fromisoformat(created) - _CREATED_MARGIN if created else None


def _union_jobs(
    target_langs: Sequence[str], existing: Sequence[dict[str, Any]], created: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Job summaries of the jobs that existed and of those just created, each job once, ordered by
    requested language then workflow level."""
    by_uid = {job["uid"]: job for job in [*existing, *created]}
    order = job_order_key(target_langs)
    return sorted(by_uid.values(), key=lambda job: order(job.get("targetLang"), job.get("workflowLevel")))


def _progress(
    resolved: ResolvedRemoteFile,
    download_task_id: str,
    *,
    download_created: str | None,
    reused: str | None,
    missing: Sequence[str],
    existing: Sequence[JobPartV2],
    deadline: float | None,
    levels: Sequence[int | None],
) -> dict[str, Any]:
    """What the second half (job creation, maybe after a deferral) needs, as plain JSON.

    ``missing_langs``: the languages to create jobs for; ``existing_jobs``: summaries of the jobs the
    other requested languages already have (returned with the new ones); ``workflow_levels``: the
    project's, so the resumed half need not read the project again.
    """
    return {
        "file": file_identity(resolved),
        "download_task_id": download_task_id,
        "download_created": download_created,
        "reused": "partial" if existing else reused,
        "missing_langs": list(missing),
        "existing_jobs": [job_summary(job) for job in existing],
        "deadline": deadline,
        "workflow_levels": list(levels),
    }


class PhraseIngestConnectorFileOperator(PhraseWaitingOperator):
    """Download a connector file into Phrase and create its jobs, in one task: download → wait → create
    jobs (→ optionally wait for the import).

    Waits in the triggerer when ``deferrable`` (else polls on the worker). Safe to retry, clear and
    backfill without duplicating anything, with no state kept outside Phrase:

    1. if the project already has jobs for this file, created at or after the file's ``lastModified``,
       for every target language, this version is already ingested: those jobs are returned, nothing
       is downloaded (``reused="jobs"``);
    2. if it has such jobs for only *some* of the target languages (say the DAG's language list grew),
       jobs are created for the other languages only: the request is narrowed to them (``target_langs``
       and the assignments in ``assignments`` / ``workflow_settings``; workflow steps are kept), and
       the existing jobs are returned together with the new ones (``reused="partial"``);
    3. the jobs still to create need a download task (each is single-use): if one of this version exists
       that no job was created from yet (``NEW`` or ``SUCCESS``; e.g. started by an earlier try), it is
       waited on instead of a new one (``reused="download"``, unless ``"partial"`` applies);
    4. else a download is started (``reused=None``).

    Before creating, jobs already created from the task are looked for (see
    :class:`~airflow_phrase.operators.create_job.PhraseCreateJobFromConnectorTaskOperator`) whenever the
    task state may be stale: after resuming from a deferral, or when the state links a job (``jobUid``).
    Within one ``execute`` that has just listed the file's jobs and read a state linking none, the
    lookup would only repeat those calls and is skipped; an ambiguous create failure is always
    reconciled. A failed download (``ERROR`` / ``CONVERTER_ERROR``) fails the task without retries, with
    Phrase's message (:class:`~airflow_phrase.exceptions.PhraseDownloadFailedError`); so does a failed
    import (:class:`~airflow_phrase.exceptions.PhraseImportFailedError`). With ``wait_for_import``, the
    import of jobs that existed is checked as well as that of new ones.

    Arguments: those of
    :class:`~airflow_phrase.operators.download.PhraseConnectorDownloadOperator` (``connector``,
    ``folder``, ``file``, ``project_uid``, ``source_lang``) and the job fields of
    :class:`~airflow_phrase.operators.create_job.PhraseCreateJobFromConnectorTaskOperator`
    (``target_langs``, ``continuous``, ``due``, ...); all templated. ``wait_for_import``,
    ``deferrable``, ``poll_interval`` and ``wait_timeout`` control the waiting.

    Returns the create-job result (``project_uid``, ``job_uids``, ``jobs``, ``async_request_id``,
    ``unsupported_files``, ``warnings``) plus ``download_task_id``, the file (``connector_id``,
    ``folder``, ``file`` as encoded names, ``file_name``, ``folder_path``, ``last_modified``),
    ``reused``, ``new_job_uids`` and ``existing_job_uids``. ``jobs`` / ``job_uids`` always list the jobs
    of every requested language (existing and new), ordered by requested language then workflow level;
    ``new_job_uids`` are those of them this task created (or an earlier try of it, from the same
    download), ``existing_job_uids`` the others, which were in Phrase before (both in ``job_uids``
    order; with ``reused="jobs"`` every job is existing). ``async_request_id``, ``warnings`` and
    ``download_task_id`` are those of the jobs created now. ``reused`` is

    * ``"jobs"``: every language had jobs for this version; nothing was downloaded or created;
    * ``"partial"``: some languages had jobs; jobs were created for the others only;
    * ``"download"``: no language had jobs; an earlier try's unused download was used for them;
    * ``None``: no language had jobs; the file was downloaded and the jobs created now.

    (A task resumed from a deferral without its state, which ``dag.test()`` of Airflow <= 3.3.2 does,
    reads it back from Phrase and cannot tell ``"download"`` from ``None``.)
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
    template_fields_renderers = JOB_TEMPLATE_RENDERERS
    operator_extra_links = (PhraseProjectLink(), PhraseJobsLink())

    def __init__(
        self,
        *,
        connector: str,
        file: str,
        project_uid: str,
        target_langs: list[str],
        folder: str = "/",
        source_lang: str | None = None,
        continuous: bool = False,
        due: datetime | str | None = None,
        workflow_settings: list[dict[str, Any]] | None = None,
        assignments: list[dict[str, Any]] | None = None,
        import_settings: dict[str, Any] | None = None,
        use_project_file_import_settings: bool | None = None,
        callback_url: str | None = None,
        path: str | None = None,
        pre_translate: bool | None = None,
        semantic_markup: bool | None = None,
        xml_assistant_profile: dict[str, Any] | None = None,
        notify_provider: dict[str, Any] | None = None,
        wait_for_import: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.connector = connector
        self.folder = folder
        self.file = file
        self.project_uid = project_uid
        self.source_lang = source_lang
        self.target_langs = target_langs
        self.continuous = continuous
        self.due = due
        self.workflow_settings = workflow_settings
        self.assignments = assignments
        self.import_settings = import_settings
        self.use_project_file_import_settings = use_project_file_import_settings
        self.callback_url = callback_url
        self.path = path
        self.pre_translate = pre_translate
        self.semantic_markup = semantic_markup
        self.xml_assistant_profile = xml_assistant_profile
        self.notify_provider = notify_provider
        self.wait_for_import = wait_for_import

    def validated_args(self) -> IngestArgs:
        """The rendered arguments, validated (raises ``AirflowFailException`` naming the bad ones)."""
        return self.validate_template_fields(IngestArgs)

    # ------------------------------------------------------------------ first half

    def execute(self, context: Any) -> dict[str, Any]:
        args = self.validate_first(context, self.validated_args)
        with closing(self.new_hook(args.phrase_conn_id)) as hook:
            return self._ingest(context, hook, args)

    def _ingest(self, context: Any, hook: PhraseTmsHook, args: IngestArgs) -> dict[str, Any]:
        self.push_project_link(context, hook, args.project_uid)
        deadline = self.wait_deadline()
        resolved = self.resolve_file(hook, args.connector, args.folder, args.file)

        existing = find_version_jobs(hook, args.project_uid, resolved, args.target_langs)
        missing = missing_languages(args.target_langs, existing)
        if not missing:
            return self._already_ingested(context, hook, args, resolved, existing, deadline=deadline)
        if existing:
            self._log_partial(args, resolved, existing, missing)

        reusable = find_reusable_download(hook, args.project_uid, resolved)
        if reusable is not None:
            self.log.info(
                "Reusing download task %s (%s, created %s) of %s instead of downloading again",
                reusable.id,
                reusable.status.value,
                iso(reusable.date_created),
                resolved.path,
            )
            task_id, created, reused = reusable.id, reusable.date_created, "download"
        else:
            started = hook.start_connector_download(
                resolved.connector_id,
                resolved.encoded_folder,
                resolved.encoded_name,
                DownloadFileRequest(source_lang=args.source_lang),
            )
            self.log.info("Started Phrase download task %s of %s", started.id, resolved.path)
            task_id, created, reused = started.id, started.date_created, None
        progress = _progress(
            resolved,
            task_id,
            download_created=iso(created),
            reused=reused,
            missing=missing,
            existing=existing,
            deadline=deadline,
            levels=workflow_levels(hook, args.project_uid),  # read (and cached) by find_version_jobs
        )
        return self._wait_for_download(context, hook, args, progress, reusable)

    def _log_partial(
        self,
        args: IngestArgs,
        resolved: ResolvedRemoteFile,
        existing: Sequence[JobPartV2],
        missing: Sequence[str],
    ) -> None:
        """The clear log line of a partial ingest: which languages were there, which are created."""
        self.log.info(
            "%s (modified %s) already has jobs in project %s for %s (%s); creating jobs only for %s",
            resolved.path,
            iso(resolved.remote_file.last_modified),
            args.project_uid,
            ", ".join(lang for lang in args.target_langs if lang not in missing),
            ", ".join(job.uid for job in existing),
            ", ".join(missing),
        )

    def _already_ingested(
        self,
        context: Any,
        hook: PhraseTmsHook,
        args: IngestArgs,
        resolved: ResolvedRemoteFile,
        jobs: Sequence[JobPartV2],
        *,
        deadline: float | None,
    ) -> dict[str, Any]:
        """The result when every requested language has jobs for this version: those jobs."""
        identity = file_identity(resolved)
        self.log.info(
            "%s (modified %s) is already in project %s as jobs %s; nothing to do",
            resolved.path,
            identity["last_modified"],
            args.project_uid,
            ", ".join(j.uid for j in jobs),
        )
        result = {
            **jobs_result(args.project_uid, jobs),
            "download_task_id": _single_task_id(jobs),
            **identity,
            "reused": "jobs",
            "new_job_uids": [],
            "existing_job_uids": [job.uid for job in jobs],
        }
        return self._finish(context, hook, args, result, deadline=deadline)

    def _finish(
        self,
        context: Any,
        hook: PhraseTmsHook,
        args: IngestArgs,
        result: dict[str, Any],
        *,
        deadline: float | None,
        existing_job_uids: Sequence[str] = (),
    ) -> dict[str, Any]:
        """Push the jobs links and, with ``wait_for_import``, wait for the import (may defer)."""
        self.push_jobs_links(context, hook, result)
        if not self.wait_for_import:
            return result
        if existing_job_uids and result.get("async_request_id"):
            # The async request covers the jobs created now; the ones that existed are checked one by one.
            wait_for_jobs_import(
                hook,
                args.project_uid,
                existing_job_uids,
                poll_interval=self.poll_interval,
                deadline=deadline,
            )
        return self.wait_until_imported(
            context,
            hook,
            result,
            phrase_conn_id=args.phrase_conn_id,
            deadline=deadline,
            method_name="execute_complete_import",
        )

    def _wait_for_download(
        self,
        context: Any,
        hook: PhraseTmsHook,
        args: IngestArgs,
        progress: dict[str, Any],
        state: ConnectorTaskState | None,
    ) -> dict[str, Any]:
        """Wait until the download task finished, then create the jobs.

        ``state`` is that of a reused download as just listed, ``None`` for a download started just now.
        Neither is looked at again before waiting: the listed state is a moment old, and a download
        started a moment ago has not finished (the waits' first look is one interval later).
        """
        task_id = progress["download_task_id"]
        created_after = _created_after(progress)
        if state is None or not state.is_finished:
            if self.deferrable:
                self.defer(
                    trigger=PhraseConnectorTaskTrigger(
                        phrase_conn_id=args.phrase_conn_id,
                        project_uid=args.project_uid,
                        download_task_id=task_id,
                        poll_interval=self.poll_interval,
                        deadline=progress["deadline"],
                        created_after=iso(created_after),
                    ),
                    method_name="execute_complete",
                    kwargs={"progress": progress},
                    timeout=None,  # the trigger's deadline reports the timeout as an event
                )
            try:
                state = wait_for_download(
                    hook,
                    args.project_uid,
                    task_id,
                    created_after=created_after,
                    poll_interval=self.poll_interval,
                    deadline=progress["deadline"],
                    wait_first=True,
                )
            except PhraseWaitTimeout as timeout:
                raise PhraseWaitTimeout(f"{timeout} File: {_file_label(progress['file'])}.") from None
        # This try listed the file's jobs and read this state moments ago: fresh.
        return self._create_jobs(context, hook, args, progress, state, fresh_state=True)

    # ------------------------------------------------------------------ second half

    def _create_jobs(
        self,
        context: Any,
        hook: PhraseTmsHook,
        args: IngestArgs,
        progress: dict[str, Any],
        state: ConnectorTaskState,
        *,
        fresh_state: bool,
    ) -> dict[str, Any]:
        """Create the jobs of the missing languages from the finished download task.

        ``fresh_state``: ``state`` was read by this very try, moments after it listed the file's jobs
        (see :func:`~airflow_phrase.operators.job_creation.create_jobs_once`); ``False`` after a resume.
        """
        check_download(state, file_label=_file_label(progress["file"]))
        existing: list[dict[str, Any]] = progress["existing_jobs"]
        created = create_jobs_once(
            hook,
            args.project_uid,
            progress["download_task_id"],
            narrow_job_request(args.job_request(), progress["missing_langs"]),
            continuous=args.continuous,
            task_state=state,
            fresh_state=fresh_state,
            levels=progress.get("workflow_levels"),  # absent in the progress of an older provider
        )
        result = {
            **created,
            "download_task_id": progress["download_task_id"],
            **progress["file"],
            "reused": progress["reused"],
            "new_job_uids": list(created["job_uids"]),
            "existing_job_uids": [job["uid"] for job in existing],
        }
        if existing:
            jobs = _union_jobs(args.target_langs, existing, created["jobs"])
            uids = [job["uid"] for job in jobs]
            new = set(result["new_job_uids"])
            result.update(
                jobs=jobs,
                job_uids=uids,
                new_job_uids=[uid for uid in uids if uid in new],
                existing_job_uids=[uid for uid in uids if uid not in new],
            )
        return self._finish(
            context,
            hook,
            args,
            result,
            deadline=progress["deadline"],
            existing_job_uids=[job["uid"] for job in existing],
        )

    def execute_complete(
        self, context: Any, event: dict[str, Any] | None = None, progress: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Resume after :class:`~airflow_phrase.triggers.connector_task.PhraseConnectorTaskTrigger`."""
        parsed = parse_event(ConnectorTaskEvent, event)
        args = self.validated_args()
        label = _file_label(progress["file"]) if progress else f"{args.folder.strip('/')}/{args.file}"
        state = ConnectorTaskState.model_validate(parsed.task_state) if parsed.task_state else None
        if parsed.status == "timeout":
            raise PhraseWaitTimeout(
                f"Timed out waiting for Phrase download task {parsed.download_task_id} of {label}: "
                f"{parsed.message}"
            )
        if parsed.status == "error":
            if state is not None:
                check_download(state, file_label=label)
            raise AirflowFailException(
                f"Waiting for Phrase download task {parsed.download_task_id} of {label} failed: "
                f"{parsed.message}"
            )
        with closing(self.new_hook(args.phrase_conn_id)) as hook:
            if progress is None:
                self.log.warning(RESUMED_WITHOUT_KWARGS)
                return self._resume_from_phrase(context, hook, args, parsed.download_task_id, state)
            return self._resume(context, hook, args, progress, state)

    def _resume_from_phrase(
        self,
        context: Any,
        hook: PhraseTmsHook,
        args: IngestArgs,
        download_task_id: str,
        state: ConnectorTaskState | None,
    ) -> dict[str, Any]:
        """Resume with the deferred task's progress read back from Phrase.

        The languages to create are recomputed: those without jobs for this version, not counting jobs
        created from this very download task (if an earlier resume created them and died,
        ``create_jobs_once`` finds them). Whether the download was reused is lost.
        """
        resolved = self.resolve_file(hook, args.connector, args.folder, args.file)
        deadline = self.wait_deadline()
        existing = [
            job
            for job in find_version_jobs(hook, args.project_uid, resolved, args.target_langs)
            if job.server_task_id != str(download_task_id)
        ]
        missing = missing_languages(args.target_langs, existing)
        if not missing:
            self.log.info(
                "Every requested language of %s got jobs while download task %s ran; creating none from it",
                resolved.path,
                download_task_id,
            )
            return self._already_ingested(context, hook, args, resolved, existing, deadline=deadline)
        if existing:
            self._log_partial(args, resolved, existing, missing)
        progress = _progress(
            resolved,
            download_task_id,
            download_created=iso(state.date_created) if state else None,
            reused=None,
            missing=missing,
            existing=existing,
            deadline=deadline,
            levels=workflow_levels(hook, args.project_uid),  # cached by find_version_jobs
        )
        return self._resume(context, hook, args, progress, state)

    def _rebuild_result(self, async_request_id: str) -> dict[str, Any]:
        """The ingest result read back from Phrase: the jobs of this version of the file.

        The jobs created last (together, by the create call whose import this task waited for) are the
        new ones; any others of this version were there before (``reused="partial"``).
        """
        args = self.validated_args()
        with closing(self.new_hook(args.phrase_conn_id)) as hook:
            resolved = self.resolve_file(hook, args.connector, args.folder, args.file)
            jobs = find_version_jobs(hook, args.project_uid, resolved, args.target_langs)
        new = _created_last(jobs)
        new_uids = {job.uid for job in new}
        return {
            **jobs_result(args.project_uid, jobs, async_request_id=async_request_id),
            "download_task_id": _single_task_id(new),
            **file_identity(resolved),
            "reused": "partial" if len(new) < len(jobs) else None,
            "new_job_uids": [job.uid for job in jobs if job.uid in new_uids],
            "existing_job_uids": [job.uid for job in jobs if job.uid not in new_uids],
        }

    def _resume(
        self,
        context: Any,
        hook: PhraseTmsHook,
        args: IngestArgs,
        progress: dict[str, Any],
        state: ConnectorTaskState | None,
    ) -> dict[str, Any]:
        label = _file_label(progress["file"])
        if state is None:
            state = hook.get_connector_task_state(
                args.project_uid, progress["download_task_id"], created_after=_created_after(progress)
            )
        if state is None or not state.is_finished:
            raise AirflowException(
                f"The trigger reported download task {progress['download_task_id']} of {label} finished, "
                "but Phrase does not list it as finished."
            )
        # The state crossed a deferral: the jobs created from the task are looked for before creating.
        return self._create_jobs(context, hook, args, progress, state, fresh_state=False)

    def execute_complete_import(
        self, context: Any, event: dict[str, Any] | None = None, result: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Resume after :class:`~airflow_phrase.triggers.async_request.PhraseAsyncRequestTrigger`."""
        return self.complete_import(event, result, self._rebuild_result)
