"""``make demo`` on this checkout: its summary, its exit status, and that it cleans up after itself."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.dagtest

REPO = Path(__file__).resolve().parents[2]
#: The seed's docs/ files modified within the first run's initial look-back (24 h), and the old ones.
IN_WINDOW = [
    "docs/getting started.md",
    "docs/guides/bad-import.md",
    "docs/guides/install.md",
    "docs/guides/überblick.md",
    "docs/legacy/broken.docx",
    "docs/site/index.html",
]
OUTSIDE_WINDOW = ["docs/api/reference.json", "docs/legacy/gone.md"]


@pytest.fixture(scope="module")
def translations(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("translations")


@pytest.fixture(scope="module")
def demo(translations: Path) -> subprocess.CompletedProcess[str]:
    # The test session's Airflow settings must not reach the demo (it makes its own throwaway home).
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AIRFLOW", "PHRASE_INGEST_", "PHRASE_DELIVERY_"))
    }
    # "-o <stamp>": use the existing .venv as it is; never reinstall it from the network in a test.
    return subprocess.run(
        [
            "make",
            "--no-print-directory",
            "-o",
            ".venv/.installed",
            "demo",
            f"DEMO_ARGS=--output-dir {translations}",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=1500,
    )


def test_the_demo_runs_a_first_scheduled_run_and_reports_every_file_it_took(
    demo: subprocess.CompletedProcess[str],
) -> None:
    out = demo.stdout
    assert demo.returncode == 0, out + demo.stderr[-3000:]
    assert re.search(r"DAG run manual__\S+: success", out)
    # No baseline yet: a first run takes the files modified within the initial look-back.
    assert "Changes       first run: the files modified in the last 24 h (initial look-back)" in out
    assert re.search(
        r"^Files\s+8 listed, 6 selected \(2 older than the look-back\); 0 already", out, re.MULTILINE
    )
    assert "Outcome       4 ingested, 0 already ingested, 2 expected failure(s), 0 unexpected" in out
    table = (
        re.match(r"^  (docs/.+?)\s{2,}(ingested|already ingested|skipped|FAILED)", line)
        for line in out.splitlines()
    )
    rows = {match[1]: match.string for match in table if match}
    assert sorted(rows) == IN_WINDOW
    for path, line in rows.items():
        calls = int(line.split()[-1])
        assert calls > 0, f"no API calls attributed to {path}"
    assert "skipped (expected)" in rows["docs/legacy/broken.docx"]
    assert "skipped (expected)" in rows["docs/guides/bad-import.md"]
    assert re.search(r"docs/site/index.html\s+ingested\s+de, fr_fr, ja", rows["docs/site/index.html"])
    for old in OUTSIDE_WINDOW:
        assert old not in out, f"{old} is days old: older than the initial look-back"


def test_the_demo_explains_failures_jobs_calls_and_time(demo: subprocess.CompletedProcess[str]) -> None:
    out = demo.stdout
    assert "conversion failed: Unable to convert broken.docx" in out
    assert "import failed: Import of bad-import.md failed" in out
    for lang in ("de", "fr_fr", "ja"):
        assert re.search(rf"^  {lang}\s+4\s+jobPart", out, re.MULTILINE), lang
    total = re.search(r"^API calls\s+(\d+) in total: (\d+) to list the folder", out, re.MULTILINE)
    assert total and int(total[1]) > int(total[2]) > 0
    assert re.search(r"^Elapsed\s+[\d.]+ s in total, [\d.]+ s for 'airflow dags test'", out, re.MULTILINE)
    assert "Run the same DAG against your Phrase TMS account" in out
    assert "data_center" in out and "auth_type" in out


def test_the_demo_keeps_airflow_logs_out_of_the_way_and_cleans_up(
    demo: subprocess.CompletedProcess[str],
) -> None:
    out = demo.stdout
    assert len(out.splitlines()) < 80, "the demo output should be a short report, not a log"
    log = Path(re.search(r"^Airflow log\s+(\S+)", out, re.MULTILINE)[1])  # type: ignore[index]
    assert "airflow dags test" in out and "[info" not in out
    log_text = log.read_text(encoding="utf-8")
    assert "$ airflow dags test phrase_connector_ingestion" in log_text
    assert "demo-password" not in log_text and "demo-password" not in out
    home = Path(re.search(r"Throwaway Airflow home \(SQLite\)\s+(\S+)", out)[1])  # type: ignore[index]
    assert not home.exists()
    pid = int(re.search(r"emulator\s+http://127\.0\.0\.1:\d+/web \(pid (\d+)\)", out)[1])  # type: ignore[index]
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    log.unlink()


def test_the_demo_delivers_each_translation_once_and_says_where(
    demo: subprocess.CompletedProcess[str], translations: Path
) -> None:
    out = demo.stdout
    assert re.search(r"DAG run manual__\S+ \(phrase_translation_delivery\): success", out)
    # The four files ingested well, in three languages: each job completed by the emulator, delivered.
    assert f"Translations  12 file(s) written under {translations} (languages: de, fr_fr, ja)" in out
    ingested = ["docs/getting started.md", "docs/guides/install.md", "docs/guides/überblick.md",
                "docs/site/index.html"]  # fmt: skip
    for lang in ("de", "fr_fr", "ja"):
        for path in ingested:
            assert re.search(rf"^  {lang}\s+jobPart\d+\s+{lang}/{re.escape(path)}$", out, re.MULTILINE)
            assert (translations / lang / path).read_text(encoding="utf-8").strip(), (lang, path)
    records = list((translations / ".phrase-delivery").rglob("*.json"))
    assert len(records) == 12
    assert not list(translations.rglob("*.part"))
