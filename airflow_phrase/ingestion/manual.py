"""The request of a manual ingestion run (the ``phrase_manual_ingestion`` trigger form), validated.

A person chooses files by name, by pattern and/or by a range of modification dates; re-ingesting a
file that is already in the project with the same version creates nothing new (the ingest operator
finds its jobs), so the form is safe to submit twice. Validation happens in the DAG's first task,
before any call to Phrase, and names every bad field of the form.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Annotated, Any

from airflow.sdk.exceptions import AirflowFailException
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from airflow_phrase.ingestion.settings import IngestionSettings, NonEmpty, resolve_settings, split_list
from airflow_phrase.ingestion.window import IngestionWindow
from airflow_phrase.validation import describe_validation_error, invalid_arguments, past_due_problems


def _blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


def _assume_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


#: A date-time from the form; one without a timezone is taken as UTC.
FormMoment = Annotated[datetime, BeforeValidator(_blank_to_none), AfterValidator(_assume_utc)]


class ManualIngestionRequest(BaseModel):
    """What to ingest in a manual run: settings plus the choice of files, the date range and a due date."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    settings: IngestionSettings
    #: File paths relative to the folder (or full paths, or unique file names).
    files: Annotated[list[NonEmpty], BeforeValidator(split_list)] = Field(default_factory=list)
    modified_from: FormMoment | None = None
    modified_to: FormMoment | None = None
    due: FormMoment | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ManualIngestionRequest:
        if not (self.files or self.settings.include or self.modified_from or self.modified_to):
            raise ValueError(
                "choose what to ingest: give files, a pattern, or a date range (modified_from / modified_to)"
            )
        if self.modified_from and self.modified_to and self.modified_from >= self.modified_to:
            raise ValueError("modified_from must be before modified_to")
        return self

    def window(self) -> IngestionWindow | None:
        """The date range as a window (``None`` when no date was given: every chosen file qualifies)."""
        if self.modified_from is None and self.modified_to is None:
            return None
        start = self.modified_from or datetime(1970, 1, 1, tzinfo=timezone.utc)
        end = self.modified_to or datetime.now(timezone.utc)
        return IngestionWindow(start=start, end=end, source="modified_from/modified_to")

    def extra_job_kwargs(self) -> dict[str, Any]:
        return {"due": self.due.isoformat()} if self.due else {}


#: Form fields that are not ingestion settings (the rest are, see IngestionSettings).
REQUEST_FIELDS = ("files", "modified_from", "modified_to", "due")


def validate_manual_request(
    params: Mapping[str, Any],
    *,
    variable: Any = None,
    environ: Mapping[str, str] | None = None,
    task_id: str = "validate_request",
    now: datetime | None = None,
) -> ManualIngestionRequest:
    """Validate the form. ``pattern`` is the form's name for the ``include`` setting."""
    form = dict(params)
    labels = {}
    if form.get("pattern") not in (None, "", []):
        form["include"] = form["pattern"]
        labels["include"] = "pattern"
    settings = resolve_settings(
        params=form, variable=variable, environ=environ, task_id=task_id, param_labels=labels
    )
    values = {name: form.get(name) for name in REQUEST_FIELDS if form.get(name) not in (None, "", [])}
    try:
        request = ManualIngestionRequest.model_validate({"settings": settings, **values})
    except ValidationError as exc:
        raise AirflowFailException(
            describe_validation_error(exc, ManualIngestionRequest, task_id, param_names={"settings": "form"})
        ) from None
    problems = past_due_problems([("due", request.due)], now=now)  # the operators' policy, too
    if problems:
        raise invalid_arguments(task_id, problems)
    return request
