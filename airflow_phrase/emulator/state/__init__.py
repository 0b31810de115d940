"""The emulator's state model: plain Python, no HTTP. See ``model`` for the assumptions it makes."""

from .clock import Clock, ManualClock, SystemClock
from .errors import PhraseError
from .model import (
    CANCELLED_STATUS,
    CANCELLED_TASK_ID,
    CreatedJobs,
    EmulatorState,
    JobQuery,
    ProjectQuery,
    TaskPage,
    TaskQuery,
)
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
    "CANCELLED_STATUS",
    "CANCELLED_TASK_ID",
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
    "ProjectQuery",
    "ProjectRecord",
    "RemoteEntry",
    "SystemClock",
    "TaskPage",
    "TaskQuery",
    "Token",
    "User",
    "paginate",
]
