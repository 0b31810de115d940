"""Exactly once under concurrency: which of several downloads of one file may create its jobs.

Phrase has no lock, and two ingests of the same file can run at the same moment: a zombie try beside the
try that replaced it, two runs (or two DAGs) that both selected the file. Each starts its own connector
download. Creating jobs from both would make the file's jobs twice. The rule that settles it, with
Phrase's own record as the only shared state:

* A download **claims** the file version it was started for. Claims are ordered by task id (Phrase
  numbers connector tasks increasingly; ties, which do not happen, by creation time).
* Before creating jobs from its download, an ingest looks at the *rival* downloads Phrase lists in the
  same project: download tasks of a file with the same name (NFC-compared), created at or after the
  version's lower bound (``version_after``), not failed, other than its own.
* A **lower** rival that is still pending (``NEW``, or finished but not used to create jobs yet) wins: the
  ingest waits until it is *resolved*: used (``jobUid`` set), failed, no longer listed in this project (it
  was used in another project), or **abandoned** (finished but unused for ``abandon_after`` seconds: its
  ingest died; a live ingest uses its finished download within a poll interval or two).
* Then, if any rival was used, the jobs of the file version are looked up (rivals are matched by file
  *name* only, because task states do not name the folder: a same-named file in another folder is a rival
  that turns out to be someone else's): languages that already have jobs are not created again.
* Download tasks are single-use: if two ingests ever create from the same task, Phrase refuses the second
  and that ingest reads the jobs the first one created (see ``create_jobs_once``).

Two ingests of the same version therefore create one job per language: the higher claim waits for the
lower and then finds its jobs; the lower never waits for the higher.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from airflow_phrase.hooks.remote_files import as_utc, same_name
from airflow_phrase.models import ConnectorTaskState

#: A finished download nobody used for this long is taken as abandoned (its ingest died).
DEFAULT_ABANDON_AFTER = timedelta(minutes=10)
#: Rivals are concurrent ingests: downloads started up to this long before one's own are looked at.
RIVAL_LOOKBACK = timedelta(hours=1)


def claim_order(state: ConnectorTaskState) -> tuple[int, int, str]:
    """Sort key of a download claim: numeric task id first (Phrase's ids increase), then the id text."""
    return (0, int(state.id), state.id) if state.id.isdigit() else (1, 0, state.id)


def _finished_at(state: ConnectorTaskState) -> datetime | None:
    return as_utc(state.date_processed) or as_utc(state.date_created)


def is_failed(state: ConnectorTaskState) -> bool:
    """The task ended without a file (``ERROR``, ``CONVERTER_ERROR``, or an unknown status once processed)."""
    return state.is_failure


def is_used(state: ConnectorTaskState) -> bool:
    """Jobs were created from the task (Phrase sets ``jobUid``)."""
    return bool(state.job_uid)


def is_finished(state: ConnectorTaskState) -> bool:
    """The task ended, well or not (an unknown status counts once Phrase processed the task)."""
    return state.is_finished


@dataclass(frozen=True)
class ClaimCheck:
    """The rivals of one download, as one listing shows them."""

    #: Lower rivals still pending: the download must not create jobs yet.
    pending: list[ConnectorTaskState] = field(default_factory=list)
    #: Rivals jobs were created from (any id): look up the file version's jobs before creating.
    used: list[ConnectorTaskState] = field(default_factory=list)
    #: Lower rivals finished but unused for longer than ``abandon_after``: ignored.
    abandoned: list[ConnectorTaskState] = field(default_factory=list)

    @property
    def clear(self) -> bool:
        """No pending lower rival: this download may create (after a lookup if some rival was used)."""
        return not self.pending


def rivals(
    own: ConnectorTaskState,
    listed: Iterable[ConnectorTaskState],
    *,
    file_name: str,
    version_after: datetime | None,
) -> list[ConnectorTaskState]:
    """The other download tasks that claim the same file version: same name, created at or after
    ``version_after``, not failed."""
    bound = as_utc(version_after)
    found = []
    for state in listed:
        if state.id == own.id or is_failed(state) or not same_name(state.job_file_name, file_name):
            continue
        created = as_utc(state.date_created)
        if bound is not None and (created is None or created < bound):
            continue
        found.append(state)
    return sorted(found, key=claim_order)


def check_claim(
    own: ConnectorTaskState,
    listed: Mapping[str, ConnectorTaskState],
    *,
    file_name: str,
    version_after: datetime | None,
    now: datetime,
    abandon_after: timedelta = DEFAULT_ABANDON_AFTER,
) -> ClaimCheck:
    """Classify the rivals of ``own`` in ``listed`` (see the module docstring)."""
    check = ClaimCheck()
    for rival in rivals(own, listed.values(), file_name=file_name, version_after=version_after):
        if is_used(rival):
            check.used.append(rival)
            continue
        if claim_order(rival) > claim_order(own):
            continue  # a later claim waits for this one, never the other way round
        if not rival.is_finished:  # still downloading (or a status not known yet, not processed)
            check.pending.append(rival)
            continue
        finished = _finished_at(rival)
        if finished is not None and now - finished >= abandon_after:
            check.abandoned.append(rival)
        else:
            check.pending.append(rival)
    return check


__all__ = [
    "DEFAULT_ABANDON_AFTER",
    "RIVAL_LOOKBACK",
    "ClaimCheck",
    "check_claim",
    "claim_order",
    "is_failed",
    "is_finished",
    "is_used",
    "rivals",
]
