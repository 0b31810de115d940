"""``PhraseDownloadTargetFileOperator``: write jobs' translated files to an Airflow ``ObjectStoragePath``.

File names
----------
Each job's file goes to ``<base_path>/<file_pattern>``; the pattern's placeholders (Python
``str.format`` fields) are:

=================  ===========================================================================
``{target_lang}``  the job's target language as Phrase writes it (``de``, ``fr_fr``)
``{path}``         the source file's path in the connector's repository (``docs/guides/install.md``);
                   the job's file name when the job did not come from a connector
``{folder}``       the folder part of ``{path}`` (``docs/guides``; empty at the root)
``{filename}``     the source file name (``install.md``)
``{stem}``         the file name without its last extension (``install``)
``{ext}``          the last extension with its dot (``.md``; empty without one)
``{job_uid}``      the job's uid
``{project_uid}``  the project's uid
``{workflow_level}`` the job's workflow level
=================  ===========================================================================

The default ``{target_lang}/{path}`` writes ``de/docs/guides/install.md``. A pattern that is absolute
(``/etc/{path}``, a URL) or has a ``..`` segment is refused before any call; in a name rendered from
what Phrase says, leading slashes are dropped and ``..`` segments refused.

Never a half-written file: each file is streamed to a temporary name in the same folder
(``.<name>.<random>.part``) and moved into place once complete; a failed download removes it.

Idempotency: beside the files, ``<base_path>/.phrase-delivery/<project_uid>/<job_uid>.json`` records
what was delivered (the job's fingerprint, where, size, sha256, when). A job whose record matches its
current state, whose file is still there, and whose status has not changed since (one ``GET
.../jobs/{jobUid}/statusChanges`` per such job) is not downloaded again (see
:mod:`airflow_phrase.operators.delivery`).
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import secrets
import string
from collections.abc import Iterator, Sequence
from contextlib import closing, suppress
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_phrase.identifiers import RENDERED_NONE
from airflow_phrase.links import PhraseProjectLink
from airflow_phrase.operators.delivery import DeliveryJob, DeliveryState
from airflow_phrase.operators.delivery_base import PhraseDeliveryOperator

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

    from airflow_phrase.hooks.phrase_tms import PhraseTmsHook
    from airflow_phrase.operators.delivery_params import TargetFileArgs

PLACEHOLDERS: tuple[str, ...] = (
    "target_lang",
    "path",
    "folder",
    "filename",
    "stem",
    "ext",
    "job_uid",
    "project_uid",
    "workflow_level",
)
#: The folder (under the base path) of the delivery records.
RECORD_FOLDER = ".phrase-delivery"


def check_file_pattern(pattern: str) -> str:
    """``pattern`` if it names a file under the base path with :data:`PLACEHOLDERS` only; else a
    ``ValueError`` saying what is wrong and the fix: an unknown placeholder, a placeholder with a
    conversion or format spec (``{path!r}``, ``{target_lang:>9}``), no placeholder at all, an absolute
    path or URL, or a ``..`` segment. (What Phrase puts into the placeholders is checked per job by
    :func:`render_file_name`.)"""
    try:
        parsed = [(name, spec, conversion) for _, name, spec, conversion in string.Formatter().parse(pattern)]
    except ValueError as error:
        raise ValueError(f"is not a valid pattern ({error}); e.g. '{{target_lang}}/{{path}}'") from None
    fields = [name for name, _, _ in parsed if name is not None]
    styled = sorted(
        "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
        for name, spec, conversion in parsed
        if name is not None and (spec or conversion)
    )
    if styled:
        raise ValueError(
            f"uses {', '.join(styled)}: placeholders take no conversion or format spec; write them plain, "
            "e.g. '{target_lang}/{path}'"
        )
    unknown = sorted({name for name in fields if name not in PLACEHOLDERS})
    if unknown:
        raise ValueError(
            f"uses unknown placeholder(s) {', '.join('{' + n + '}' for n in unknown)}; "
            f"use {', '.join('{' + n + '}' for n in PLACEHOLDERS)}"
        )
    if not fields:
        raise ValueError(
            "has no placeholder: every job would write the same file; e.g. '{target_lang}/{path}'"
        )
    literal = pattern.replace("\\", "/")
    if literal.startswith("/") or "://" in literal:
        raise ValueError(
            f"{pattern!r} is absolute: the pattern names a file under base_path; put the location into "
            "base_path instead, e.g. base_path='file:///srv/l10n', file_pattern='{target_lang}/{path}'"
        )
    sample = literal.format(**dict.fromkeys(PLACEHOLDERS, "x"))
    if ".." in sample.split("/"):
        raise ValueError(
            f"{pattern!r} climbs out of base_path with '..'; name a file under base_path (to write "
            "elsewhere, change base_path)"
        )
    return pattern


def check_base_path(value: str) -> str:
    """``value`` if it is an absolute location: a local absolute path (``/srv/l10n``) or a URL with a
    scheme and, but for ``file://``, a bucket or host (``file:///srv/l10n``, ``s3://bucket/prefix``).
    Else a ``ValueError`` with the fix: a relative path would be resolved against the worker's working
    directory, ``file://dir/sub`` names a host ``dir``, which fsspec writes under it too, and credentials
    (``s3://key:secret@bucket``) would show wherever the path does (refused without echoing them)."""
    from urllib.parse import urlsplit

    if value == RENDERED_NONE:
        raise ValueError(
            "'None' is what a template renders from an XCom or param that holds None; check that the "
            "param is set"
        )
    fix = "give an absolute path ('/srv/l10n') or a URL ('file:///srv/l10n', 's3://bucket/prefix')"
    if "://" not in value:
        if not value.startswith("/"):
            raise ValueError(
                f"{value!r} is relative: it would be resolved against the worker's working directory; {fix}"
            )
        return value
    parts = urlsplit(value)
    if "@" in parts.netloc:  # never echoed: it holds a secret
        raise ValueError(
            "holds a user name or password (user:secret@...), which would show in the task log, XCom and "
            "rendered fields; put credentials into the storage connection (object_storage_conn_id)"
        )
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise ValueError(
                f"{value!r} names the host {parts.netloc!r}, not a folder; a local folder takes three "
                f"slashes: 'file:///{parts.netloc}{parts.path}' (or {fix})"
            )
    elif not parts.scheme or not parts.netloc:
        raise ValueError(f"{value!r} names no bucket or host; {fix}")
    return value


def render_file_name(pattern: str, job: DeliveryJob, project_uid: str) -> str:
    """The relative name of ``job``'s file (``ValueError`` if it would leave the base path)."""
    folder = (job.remote_folder or "").strip("/")
    name = job.remote_file or job.filename or job.uid
    path = f"{folder}/{name}" if folder else name
    stem, dot, ext = name.rpartition(".")
    rendered = pattern.format(
        target_lang=job.target_lang or "unknown",
        path=path,
        folder=folder,
        filename=name,
        stem=stem if dot else name,
        ext=f".{ext}" if dot and stem else "",
        job_uid=job.uid,
        project_uid=project_uid,
        workflow_level=job.workflow_level or 1,
    )
    parts = [part for part in rendered.replace("\\", "/").split("/") if part not in ("", ".")]
    if not parts:
        raise ValueError(
            f"job {job.uid}: file_pattern {pattern!r} renders an empty name; add {{filename}} or {{job_uid}}"
        )
    if ".." in parts:  # the pattern itself cannot climb (check_file_pattern): Phrase's names do
        raise ValueError(
            f"job {job.uid}: its name {rendered!r} leaves the base path: Phrase gave the folder "
            f"{job.remote_folder!r} and the file name {name!r}; nothing was downloaded. Check the file's "
            "path in the connector, or name the files without Phrase's folder, e.g. "
            "file_pattern='{target_lang}/{job_uid}{ext}'"
        )
    return posixpath.join(*parts)


class PhraseDownloadTargetFileOperator(PhraseDeliveryOperator):
    """Download jobs' target (translated) files into object storage, exactly once per job state.

    validate → list the jobs (one paged read) → skip those whose delivery record matches → per job
    ``PUT /api2/v3/projects/{projectUid}/jobs/{jobUid}/targetFile`` (an async request) → wait (deferrable,
    one request at a time) → ``GET /api2/v2/projects/{projectUid}/jobs/{jobUid}/downloadTargetFile/
    {asyncRequestId}`` streamed to a temporary name, moved into place → delivery record.

    All arguments but ``object_storage_conn_id`` are templated.

    :param project_uid: the project of the jobs.
    :param job_uids: job uids (a list or a comma-separated string), each once.
    :param base_path: where to write: any ``ObjectStoragePath`` URL (``file:///srv/l10n``,
        ``s3://bucket/l10n``, ``gs://bucket/l10n``) or a local absolute path.
    :param file_pattern: the file name under ``base_path`` (default ``{target_lang}/{path}``; see the
        module docstring for the placeholders).
    :param object_storage_conn_id: the Airflow connection of the storage (e.g. ``aws_default``);
        ``None``: the URL's scheme default.
    :param workflow_level: the level the jobs are at (``None``: 1).
    :param force: download again even files the record shows delivered at the job's current state.

    Returns ``{project_uid, base_path, delivered: [{uid, status, targetLang, filename, workflowLevel,
    path, url, size, sha256, file_name}], already_delivered: [...same...], job_uids, target_langs}``.
    """

    template_fields: Sequence[str] = (
        "phrase_conn_id",
        "project_uid",
        "job_uids",
        "base_path",
        "file_pattern",
        "workflow_level",
        "force",
    )
    operator_extra_links = (PhraseProjectLink(),)
    state_key: ClassVar[str] = "phrase_target_file_state"
    work: ClassVar[str] = "target file download"

    def __init__(
        self,
        *,
        project_uid: str,
        job_uids: list[str] | str,
        base_path: str,
        file_pattern: str = "{target_lang}/{path}",
        object_storage_conn_id: str | None = None,
        workflow_level: int | str | None = None,
        force: bool | str = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.project_uid = project_uid
        self.job_uids = job_uids
        self.base_path = base_path
        self.file_pattern = file_pattern
        self.object_storage_conn_id = object_storage_conn_id
        self.workflow_level = workflow_level
        self.force = force

    def validated_args(self) -> TargetFileArgs:
        """The rendered arguments, validated (raises ``AirflowFailException`` naming the bad ones)."""
        from airflow_phrase.operators.delivery_params import TargetFileArgs
        from airflow_phrase.validation import invalid_arguments

        args: TargetFileArgs = self.validate_template_fields(
            TargetFileArgs, **{"base_path": str(self.base_path)}
        )
        try:
            self.base(args)
        except ValueError as error:  # e.g. "Unsupported filesystem: 's4'": no fsspec filesystem for it
            problem = (
                f"base_path: {error}; use a scheme Airflow's object storage has a filesystem for (file, s3, "
                "gs, ... with its provider installed)"
            )
            raise invalid_arguments(self.task_id, [problem]) from None
        return args

    def validate_template_fields(self, model_cls: Any, **extra: Any) -> Any:
        from airflow_phrase.validation import validate_params

        values = {name: getattr(self, name) for name in self.template_fields}
        values.update(extra)
        return validate_params(model_cls, self.task_id, **values)

    # ------------------------------------------------------------------ storage

    def base(self, args: TargetFileArgs) -> ObjectStoragePath:
        from airflow.sdk import ObjectStoragePath

        url = args.base_path if "://" in args.base_path else f"file://{args.base_path}"
        return ObjectStoragePath(url, conn_id=self.object_storage_conn_id)

    @staticmethod
    def record_path(base: ObjectStoragePath, project_uid: str, job_uid: str) -> ObjectStoragePath:
        return base / RECORD_FOLDER / project_uid / f"{job_uid}.json"

    @staticmethod
    def read_record(path: ObjectStoragePath) -> dict[str, Any] | None:
        try:
            if not path.exists():
                return None
            value = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        return value if isinstance(value, dict) else None

    @staticmethod
    def write_atomically(target: ObjectStoragePath, write: Any) -> Any:
        """Call ``write(file)`` on a temporary file beside ``target``, then move it into place."""
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.parent / f".{target.name}.{secrets.token_hex(4)}.part"
        try:
            with temporary.open("wb") as handle:
                result = write(handle)
            temporary.rename(target)
        except BaseException:
            with suppress(Exception):
                temporary.unlink()
            raise
        return result

    # ------------------------------------------------------------------ the steps

    def execute(self, context: Any) -> dict[str, Any]:
        from airflow.sdk.exceptions import AirflowFailException

        from airflow_phrase.operators.delivery import (
            list_delivery_jobs,
            record_matches,
            status_unchanged_since,
        )

        args = self.validate_first(context, self.validated_args)
        base = self.base(args)
        with closing(self.new_hook(args.phrase_conn_id)) as hook:
            self.push_project_link(context, hook, args.project_uid)
            jobs = list_delivery_jobs(
                hook, self.task_id, args.project_uid, args.job_uids, args.workflow_level
            )
            try:
                names = {job.uid: render_file_name(args.file_pattern, job, args.project_uid) for job in jobs}
            except ValueError as error:
                raise AirflowFailException(f"Task {self.task_id!r}: {error}") from None
            if len(set(names.values())) < len(names):
                raise AirflowFailException(
                    f"Task {self.task_id!r}: file_pattern: {args.file_pattern!r} gives several jobs the same "
                    "file name; add {target_lang} or {job_uid}"
                )
            already: list[DeliveryJob] = []
            todo: list[DeliveryJob] = []
            for job in jobs:
                record_path = self.record_path(base, args.project_uid, job.uid)
                record = None if args.force else self.read_record(record_path)
                if (
                    record is not None
                    and record_matches(record, job)
                    and record.get("path") == names[job.uid]
                    and (base / names[job.uid]).exists()
                    and status_unchanged_since(hook, args.project_uid, job, record)
                ):
                    already.append(job)
                else:
                    todo.append(job)
            state = self.start_state(context, args.project_uid, todo)
            state.already = already
            if state.already:
                self.log.info(
                    "Already delivered at their current state: %s",
                    ", ".join(f"{job.uid} ({job.status})" for job in state.already),
                )
            for job in state.unstarted():
                request_id = hook.start_target_file_download(args.project_uid, job.uid)
                state.requests[request_id] = [job.uid]
            return self.advance(context, hook, state)

    def complete(self, context: Any, hook: PhraseTmsHook, state: DeliveryState) -> dict[str, Any]:
        from airflow_phrase.exceptions import PhraseTargetFileRequestGoneError
        from airflow_phrase.operators.delivery import now_iso

        args = self.validated_args()
        base = self.base(args)
        restarted = False
        for uid in list(state.ready):
            job = state.job(uid)
            name = render_file_name(args.file_pattern, job, args.project_uid)
            request_id = state.ready[uid]
            try:
                delivered = self._download(hook, base, name, job, request_id, args.project_uid)
            except PhraseTargetFileRequestGoneError:
                # Spent (an earlier try downloaded with it, then failed before the move): ask again.
                self.log.warning("The target file request of job %s is spent; starting a new one", uid)
                del state.ready[uid]
                state.requests[hook.start_target_file_download(args.project_uid, uid)] = [uid]
                restarted = True
                continue
            record = {**delivered, **job.record_fields(), "delivered_at": now_iso()}
            self.write_atomically(
                self.record_path(base, args.project_uid, uid),
                lambda handle, record=record: handle.write(json.dumps(record, indent=2).encode("utf-8")),
            )
            state.done[uid] = {**job.item(), **delivered}
            del state.ready[uid]
            self.log.info("Delivered job %s (%s) to %s (%d bytes)", uid, job.target_lang, delivered["url"],
                          delivered["size"])  # fmt: skip
        if restarted:
            return self.advance(context, hook, state)
        delivered_items = [state.done[job.uid] for job in state.jobs if job.uid in state.done]
        already = []
        for job in state.already:
            name = render_file_name(args.file_pattern, job, args.project_uid)
            already.append({**job.item(), "path": name, "url": str(base / name)})
        result = {
            "project_uid": state.project_uid,
            "base_path": str(base),
            "delivered": delivered_items,
            "already_delivered": already,
            "job_uids": [item["uid"] for item in delivered_items],
            "target_langs": sorted({str(i["targetLang"]) for i in delivered_items if i["targetLang"]}),
        }
        return self.fail_if_any_failed(state, result)

    def _download(
        self,
        hook: PhraseTmsHook,
        base: ObjectStoragePath,
        name: str,
        job: DeliveryJob,
        request_id: str,
        project_uid: str,
    ) -> dict[str, Any]:
        target = base / name
        digest = hashlib.sha256()
        size = 0

        def write(handle: Any) -> Any:
            def into_file(chunks: Iterator[bytes]) -> None:
                nonlocal size
                for chunk in chunks:
                    digest.update(chunk)
                    size += len(chunk)
                    handle.write(chunk)

            return hook.download_target_file(project_uid, job.uid, request_id, into_file)

        info = self.write_atomically(target, write)
        return {
            "path": name,
            "url": str(target),
            "size": size,
            "sha256": digest.hexdigest(),
            "file_name": getattr(info, "file_name", None),
        }


__all__ = [
    "PLACEHOLDERS",
    "PhraseDownloadTargetFileOperator",
    "check_base_path",
    "check_file_pattern",
    "render_file_name",
]
