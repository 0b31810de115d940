"""Helpers of the hook's delivery verbs (export, target file, job status): argument checks before any
call, and reading a streamed file's name and size. Pure Python, no HTTP."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from email.message import Message
from urllib.parse import unquote

from airflow_phrase.identifiers import NUMERIC_ID_PATTERN, RENDERED_NONE, UID_PATTERN
from airflow_phrase.models import JOB_STATUS_VALUES, MAX_EXPORT_JOBS, JobStatus, TargetFile


def _check_uid(name: str, value: object, example: str) -> str:
    text = value.strip() if isinstance(value, str) else value
    if not isinstance(text, str) or not text:
        raise ValueError(f"{name}: must be a non-empty string (a Phrase uid such as {example!r})")
    if text == RENDERED_NONE:
        raise ValueError(
            f"{name}: 'None' is what a template renders from an XCom or param that holds None; check that "
            "the upstream task returned a value"
        )
    if not UID_PATTERN.fullmatch(text):
        raise ValueError(f"{name}: {text!r} is not a Phrase uid (letters and digits only, e.g. {example!r})")
    return text


def check_project_uid(project_uid: object) -> str:
    """``project_uid`` stripped; ``ValueError`` naming it if it is not a Phrase uid."""
    return _check_uid("project_uid", project_uid, "prjWebsite000000000001")


def check_job_uid(job_uid: object) -> str:
    """``job_uid`` stripped; ``ValueError`` naming it if it is not a Phrase uid."""
    return _check_uid("job_uid", job_uid, "jobPart000000000000001")


def check_job_uids(job_uids: Iterable[object], *, limit: int | None = MAX_EXPORT_JOBS) -> list[str]:
    """The job uids, stripped, in their order: 1 to ``limit`` (``None``: any number) distinct Phrase uids.

    Raises ``ValueError`` naming ``job_uids`` (and the offending entry) otherwise, before any call.
    """
    if isinstance(job_uids, (str, bytes)):
        raise ValueError("job_uids: must be a list of job uids, not a single string; wrap it in a list")
    uids = [
        _check_uid(f"job_uids[{index}]", uid, "jobPart000000000000001") for index, uid in enumerate(job_uids)
    ]
    if not uids:
        raise ValueError("job_uids: is empty; give at least one job uid")
    if limit is not None and len(uids) > limit:
        raise ValueError(f"job_uids: {len(uids)} jobs, Phrase takes at most {limit} per call; split the list")
    duplicates = sorted({uid for uid in uids if uids.count(uid) > 1})
    if duplicates:
        raise ValueError(f"job_uids: lists {', '.join(duplicates)} more than once; give each job once")
    return uids


def check_async_request_id(async_request_id: object) -> str:
    """``async_request_id`` as a string of digits (Phrase's async request ids are int64); a JSON number is
    accepted. ``ValueError`` naming it otherwise."""
    if isinstance(async_request_id, int) and not isinstance(async_request_id, bool):
        async_request_id = str(async_request_id)
    text = async_request_id.strip() if isinstance(async_request_id, str) else None
    if not text or not NUMERIC_ID_PATTERN.fullmatch(text):
        raise ValueError(
            f"async_request_id: {async_request_id!r} is not a Phrase async request id (digits, e.g. "
            "'5200001'); pass the id start_target_file_download returned"
        )
    return text


def check_job_status(status: object) -> JobStatus:
    """``status`` as a :class:`JobStatus`; ``ValueError`` naming it and the allowed values otherwise."""
    value = getattr(status, "value", status)
    if isinstance(value, str) and value.strip().upper() in JOB_STATUS_VALUES:
        return JobStatus(value.strip().upper())
    raise ValueError(
        f"status: {status!r} is not a Phrase job status; use one of {', '.join(JOB_STATUS_VALUES)}"
    )


#: RFC 5987 ``filename*=charset'lang'percent-encoded``.
_EXTENDED_FILENAME = re.compile(r"filename\*\s*=\s*([A-Za-z0-9_-]*)'[^']*'([^;\s]+)", re.IGNORECASE)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), None)


def content_disposition_file_name(value: str | None) -> str | None:
    """The file name of a ``Content-Disposition`` header (``filename*`` per RFC 6266/5987 preferred over
    ``filename``); only its last path segment, so a name can never point elsewhere. ``None`` if absent."""
    if not value:
        return None
    extended = _EXTENDED_FILENAME.search(value)
    if extended:
        try:
            name: str | None = unquote(
                extended.group(2), encoding=extended.group(1) or "utf-8", errors="replace"
            )
        except LookupError:  # a charset Python does not know
            name = unquote(extended.group(2), errors="replace")
    else:
        message = Message()
        message["Content-Disposition"] = value
        name = message.get_filename()
    if not name:
        return None
    name = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    return name if name not in ("", ".", "..") else None


def target_file_info(headers: Mapping[str, str], size: int) -> TargetFile:
    """The :class:`TargetFile` of a download answer's headers and the bytes written."""
    content_type = _header(headers, "Content-Type")
    return TargetFile(
        file_name=content_disposition_file_name(_header(headers, "Content-Disposition")),
        content_type=content_type.split(";", 1)[0].strip() or None if content_type else None,
        size=size,
    )


class CountingWriter:
    """Wraps a ``write(chunks)`` callable and counts the bytes that pass through it."""

    def __init__(self, write: Callable[[Iterator[bytes]], None]) -> None:
        self._write = write
        self.size = 0

    def _count(self, chunks: Iterator[bytes]) -> Iterator[bytes]:
        for chunk in chunks:
            self.size += len(chunk)
            yield chunk

    def __call__(self, chunks: Iterator[bytes]) -> None:
        self._write(self._count(chunks))


__all__ = [
    "CountingWriter",
    "check_async_request_id",
    "check_job_status",
    "check_job_uid",
    "check_job_uids",
    "check_project_uid",
    "content_disposition_file_name",
    "target_file_info",
]
