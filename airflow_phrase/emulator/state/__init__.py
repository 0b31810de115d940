"""The emulator's state model: plain Python, no HTTP. See ``model`` for the assumptions it makes."""

from .clock import Clock, ManualClock, SystemClock
from .errors import PhraseError
from .model import CreatedJobs, EmulatorState, JobQuery, TaskPage, TaskQuery
from .records import (
    AsyncRequestRecord,
    ConnectorRecord,
    DownloadTask,
    FolderView,
    JobRecord,
    PageSlice,
    ProjectRecord,
    RemoteEntry,
    Token,
    User,
    paginate,
)

__all__ = [
    "AsyncRequestRecord",
    "Clock",
    "ConnectorRecord",
    "CreatedJobs",
    "DownloadTask",
    "EmulatorState",
    "FolderView",
    "JobQuery",
    "JobRecord",
    "ManualClock",
    "PageSlice",
    "PhraseError",
    "ProjectRecord",
    "RemoteEntry",
    "SystemClock",
    "TaskPage",
    "TaskQuery",
    "Token",
    "User",
    "paginate",
]
