"""``PhraseConnectorDownloadOperator``: start the asynchronous download of one connector file."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import closing
from typing import TYPE_CHECKING, Any

from airflow_phrase.links import PhraseProjectLink
from airflow_phrase.operators.base import PhraseBaseOperator

if TYPE_CHECKING:  # imported where used: DAG files import this module (see operators/base.py)
    from airflow_phrase.hooks.phrase_tms import PhraseTmsHook
    from airflow_phrase.operators.params import DownloadArgs


class PhraseConnectorDownloadOperator(PhraseBaseOperator):
    """Start Phrase's asynchronous download of a remote file of a connector; return the task id.

    The connector and the file are resolved first: an unknown connector or a missing file fails the
    task at once (no retries) with the list of what exists, before anything is started. The download
    then runs in Phrase; wait for it with
    :class:`~airflow_phrase.sensors.connector_task.PhraseConnectorTaskSensor` and create jobs with
    :class:`~airflow_phrase.operators.create_job.PhraseCreateJobFromConnectorTaskOperator` (or use
    :class:`~airflow_phrase.operators.ingest.PhraseIngestConnectorFileOperator` for all three).

    All arguments are templated.

    :param connector: connector id (``"1001"``) or exact name (``"Docs Git"``).
    :param folder: folder as a human-readable path (``"docs/guides"``, ``"/"`` for the root) or the
        encoded folder name Phrase gave out.
    :param file: file name in the folder (``"install.md"``) or its encoded name.
    :param project_uid: the project the download is for (where the task is tracked and jobs are created).
    :param source_lang: optional ``sourceLang`` of the download.
    :param target_lang: optional ``targetLang`` of the download.
    :param phrase_conn_id: Airflow connection of type ``phrase_tms``.

    Returns ``{download_task_id, connector_id, folder, file, file_name, folder_path, last_modified,
    project_uid, date_created}``; ``folder`` and ``file`` are Phrase's encoded names, dates ISO 8601.
    """

    template_fields: Sequence[str] = (
        "phrase_conn_id",
        "connector",
        "folder",
        "file",
        "project_uid",
        "source_lang",
        "target_lang",
    )
    operator_extra_links = (PhraseProjectLink(),)

    def __init__(
        self,
        *,
        connector: str,
        file: str,
        project_uid: str,
        folder: str = "/",
        source_lang: str | None = None,
        target_lang: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.connector = connector
        self.folder = folder
        self.file = file
        self.project_uid = project_uid
        self.source_lang = source_lang
        self.target_lang = target_lang

    def validated_args(self) -> DownloadArgs:
        """The rendered arguments, validated (raises ``AirflowFailException`` naming the bad ones)."""
        from airflow_phrase.operators.params import DownloadArgs

        return self.validate_template_fields(DownloadArgs)

    def execute(self, context: Any) -> dict[str, Any]:
        args = self.validate_first(context, self.validated_args)
        with closing(self.new_hook(args.phrase_conn_id)) as hook:
            return self._start(context, hook, args)

    def _start(self, context: Any, hook: PhraseTmsHook, args: DownloadArgs) -> dict[str, Any]:
        from airflow_phrase.models import DownloadFileRequest

        self.push_project_link(context, hook, args.project_uid)
        resolved = self.resolve_file(hook, args.connector, args.folder, args.file)
        started = hook.start_connector_download(
            resolved.connector_id,
            resolved.encoded_folder,
            resolved.encoded_name,
            DownloadFileRequest(source_lang=args.source_lang, target_lang=args.target_lang),
        )
        self.log.info(
            "Started Phrase download task %s of %s (connector %s) for project %s",
            started.id,
            resolved.path,
            resolved.connector_id,
            args.project_uid,
        )
        file = resolved.version
        return {
            "download_task_id": started.id,
            "connector_id": file.connector_id,
            "folder": file.encoded_folder,
            "file": file.encoded_name,
            "file_name": file.name,
            "folder_path": file.folder_path,
            "last_modified": file.last_modified.isoformat() if file.last_modified else None,
            "project_uid": args.project_uid,
            "date_created": started.date_created.isoformat() if started.date_created else None,
        }
