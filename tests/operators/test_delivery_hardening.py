"""Bad arguments of the delivery operators, found by a tester: each fails before any call to Phrase
(the emulator's journal stays empty), naming the argument and the fix, without retries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException

from airflow_phrase.operators.target_file import PhraseDownloadTargetFileOperator
from tests.operators.conftest import calls
from tests.operators.test_delivery_operators import run_context, run_to_the_end
from tests.triggers.jobs_support import WEBSITE


def download(base_path: str, **kwargs: Any) -> PhraseDownloadTargetFileOperator:
    return PhraseDownloadTargetFileOperator(
        task_id="download_translations",
        project_uid=WEBSITE,
        job_uids=["jobPart000000000000001"],
        base_path=base_path,
        poll_interval=0.2,
        **kwargs,
    )


@pytest.mark.parametrize(
    ("file_pattern", "message"),
    [
        ("../{path}", r"file_pattern: .*'\.\.'"),
        ("{target_lang}/../../{path}", r"file_pattern: .*'\.\.'"),
        ("/etc/{path}", r"file_pattern: .*absolute.*base_path"),
        ("\\\\server\\{path}", r"file_pattern: .*absolute.*base_path"),
        ("s3://other-bucket/{path}", r"file_pattern: .*absolute.*base_path"),
        ("{path!r}", r"file_pattern: .*\{path!r\}.*no conversion or format spec"),
        ("{target_lang:>99999999}/{path}", r"file_pattern: .*no conversion or format spec"),
    ],
)
def test_a_file_pattern_that_leaves_the_base_path_is_refused_before_any_call(
    emulator: Any, tmp_path: Path, file_pattern: str, message: str
) -> None:
    with pytest.raises(AirflowFailException, match=message):
        run_to_the_end(download(str(tmp_path), file_pattern=file_pattern), run_context())

    assert calls(emulator) == []
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("base_path", "message"),
    [
        # Relative: resolved against whatever the worker's working directory is.
        ("translations/site", r"base_path: 'translations/site' is relative.*absolute path.*URL"),
        ("None", r"base_path: 'None' is what a template renders"),
        ("file:translations", r"base_path: .*relative"),
        # file://relative/dir names a host 'relative' (and fsspec writes under the working directory).
        ("file://translations/site", r"base_path: .*host 'translations'.*file:///"),
        ("s3://", r"base_path: .*names no bucket"),
        ("s4://bucket/site", r"base_path: .*s4.*"),
    ],
)
def test_a_base_path_that_is_not_an_absolute_location_is_refused_before_any_call(
    emulator: Any, base_path: str, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # where a relative base path would have been written

    with pytest.raises(AirflowFailException, match=message):
        run_to_the_end(download(base_path), run_context())

    assert calls(emulator) == []
    assert list(tmp_path.iterdir()) == []
