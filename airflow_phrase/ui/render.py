"""HTML pages of the Phrase view, rendered on the server: inline CSS and SVG, nothing loaded from elsewhere.

Pure functions of :mod:`airflow_phrase.ui.run_report`'s figures; every value is HTML-escaped, and only
``http(s)`` URLs become links. Elements carry ``data-*`` attributes naming what they show, for tests and
for anyone scraping the page.

Links to Phrase: Airflow 3.3.2 shows plugin views in a sandboxed iframe without ``allow-popups``, where
``target="_blank"`` links do nothing. A few lines of inline script (allowed by the page's CSP nonce) open
the links marked ``data-open`` through a link added to the Airflow page itself, which the sandbox lets
through (it grants ``allow-same-origin``). Opened on their own, the pages need no script.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape
from urllib.parse import quote

from airflow_phrase.ui.run_report import LanguageBar, RunReport, TrendPoint

# Colours that work on Airflow's light and dark themes.
_CSS = """
:root { color-scheme: light dark; --fg: #1a202c; --muted: #5a6478; --line: #d8dee8; --card: #f5f7fa;
  --ok: #2f855a; --fail: #c53030; --warn: #b7791f; --info: #3182ce; --existing: #a0aec0; }
@media (prefers-color-scheme: dark) { :root { --fg: #e2e8f0; --muted: #a0aec0; --line: #2d3748;
  --card: #1a202c; --ok: #68d391; --fail: #fc8181; --warn: #f6e05e; --info: #63b3ed;
  --existing: #718096; } }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg);
  margin: 16px 20px; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 24px 0 8px; }
.muted { color: var(--muted); } .mono { font-family: ui-monospace, Menlo, Consolas, monospace; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; margin-top: 14px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 8px 12px;
  min-width: 112px; }
.card .n { font-size: 22px; font-weight: 600; } .card .l { color: var(--muted); font-size: 12px; }
.card.ok .n { color: var(--ok); } .card.fail .n { color: var(--fail); }
.card.warn .n { color: var(--warn); }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 500; }
.badge { border-radius: 10px; padding: 1px 8px; font-size: 12px; white-space: nowrap; border: 1px solid; }
.b-ingested, .b-imported { color: var(--ok); }
.b-expected_failure, .b-import_failed { color: var(--warn); }
.b-unexpected_failure { color: var(--fail); }
.b-already_ingested, .b-already_in_Phrase, .b-import_not_checked { color: var(--muted); }
.note { border-left: 3px solid var(--info); padding: 6px 10px; background: var(--card); margin: 12px 0; }
.note.fail { border-color: var(--fail); }
svg text { fill: var(--fg); font-size: 12px; } a { color: var(--info); }
"""

_OPEN_SCRIPT = """
document.addEventListener("click", function (event) {
  var link = event.target.closest && event.target.closest("a[data-open]");
  if (!link || window.top === window) return;
  try {
    var outer = window.top.document.createElement("a");
    outer.href = link.href; outer.target = "_blank"; outer.rel = "noopener noreferrer";
    window.top.document.body.appendChild(outer); outer.click(); outer.remove();
    event.preventDefault();
  } catch (error) { /* not allowed here: the browser follows the link itself */ }
});
"""

#: Bar segments of the language chart, in order, with their colour.
_SEGMENTS = {
    "imported": "var(--ok)",
    "import failed": "var(--warn)",
    "import not checked": "var(--info)",
    "already in Phrase": "var(--existing)",
}


#: Shown where there is no value (an en dash, as an entity so the source stays ASCII).
DASH = "\u2013"


def _e(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def _n(value: int | None) -> str:
    return "" if value is None else str(value)


def _attrs(**data: object) -> str:
    """`` data-x="..."`` attributes (underscores become dashes)."""
    return "".join(f' data-{name.replace("_", "-")}="{_e(value)}"' for name, value in data.items())


def _row(cells: Iterable[str], **data: object) -> str:
    return f"<tr{_attrs(**data)}>{''.join(f'<td>{cell}</td>' for cell in cells)}</tr>"


def _table(headers: Sequence[str], rows: Sequence[str], empty: str) -> str:
    head = "".join(f"<th>{_e(header)}</th>" for header in headers)
    body = "".join(rows) or f'<tr><td colspan="{len(headers)}" class="muted">{_e(empty)}</td></tr>'
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _mono(text: object) -> str:
    return f'<span class="mono">{_e(text)}</span>'


def _link(url: str | None, text: str) -> str:
    if not url or not url.startswith(("http://", "https://")):
        return _e(text)
    return f'<a href="{_e(url)}" target="_blank" rel="noopener noreferrer" data-open>{_e(text)}</a>'


def _svg(label: str, width: int, height: int, parts: Iterable[str]) -> str:
    return (
        f'<svg role="img" aria-label="{_e(label)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">{"".join(parts)}</svg>'
    )


def _bar(x: float, y: float, width: float, height: float, colour: str, title: str, **data: object) -> str:
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:.1f}" style="fill:{colour}"'
        f"{_attrs(**data)}><title>{_e(title)}</title></rect>"
    )


def _legend(items: Iterable[tuple[str, str]], x: float = 0) -> Iterable[str]:
    for name, colour in items:
        yield f'<rect x="{x:.0f}" y="6" width="10" height="10" style="fill:{colour}"/>'
        yield f'<text x="{x + 14:.0f}" y="15">{_e(name)}</text>'
        x += 24 + 7 * len(name)


def page(title: str, body: str, *, nonce: str) -> str:
    """A whole HTML document; ``nonce`` lets the one inline script run under the page's CSP."""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>{body}"
        f'<script nonce="{_e(nonce)}">{_OPEN_SCRIPT}</script></body></html>'
    )


def _card(number: int | None, label: str, kind: str = "") -> str:
    shown = DASH if number is None else str(number)
    return (
        f'<div class="card {kind}"{_attrs(figure=label)}><div class="n">{_e(shown)}</div>'
        f'<div class="l">{_e(label)}</div></div>'
    )


def _badge(kind: str, text: str) -> str:
    return f'<span class="badge b-{_e(kind.replace(" ", "_"))}">{_e(text)}</span>'


def language_chart(bars: Sequence[LanguageBar]) -> str:
    """Jobs per target language: one horizontal bar per language, stacked by import outcome."""
    if not bars:
        return '<p class="muted">No jobs.</p>'
    width, left, row, top = 600, 90, 26, 28
    most = max(bar.created + bar.existing for bar in bars) or 1
    scale = (width - left - 40) / most
    parts = list(_legend(_SEGMENTS.items(), x=left))
    for number, bar in enumerate(bars):
        y = top + number * row
        parts.append(f'<text x="{left - 8}" y="{y + 15}" text-anchor="end">{_e(bar.language)}</text>')
        x = float(left)
        counts = (bar.imported, bar.import_failed, bar.not_checked, bar.existing)
        for (kind, colour), count in zip(_SEGMENTS.items(), counts, strict=True):
            if count:
                title = f"{bar.language}: {count} {kind}"
                parts.append(
                    _bar(
                        x, y + 3, count * scale, 18, colour, title, lang=bar.language, kind=kind, count=count
                    )
                )
                x += count * scale
        parts.append(f'<text x="{x + 6:.1f}" y="{y + 16}">{bar.created + bar.existing}</text>')
    return _svg("Jobs per target language", width, top + row * len(bars) + 6, parts)


def _file_rows(report: RunReport) -> Iterable[str]:
    for line in report.files:
        reason = f'<div class="muted">{_e(line.reason)}</div>' if line.reason else ""
        cells = [
            _mono(line.path),
            _badge(line.outcome, line.label) + reason,
            _e(", ".join(line.languages)) or DASH,
            _e(line.task_state or "not run"),
            _n(line.api_calls),
        ]
        yield _row(cells, path=line.path, outcome=line.outcome)


def _job_rows(report: RunReport) -> Iterable[str]:
    for job in report.jobs:
        cells = [
            f'<span class="mono">{_link(job.url, job.uid)}</span>',
            _mono(job.path),
            _mono(job.target_lang),
            _badge(job.status, job.status),
        ]
        yield _row(cells, job=job.uid, lang=job.target_lang, status=job.status)


def _head(dag_id: str, run_id: str, run_state: str | None) -> str:
    return (
        f'<h1>Phrase TMS ingestion</h1><div class="muted">{_mono(dag_id)} · {_mono(run_id)} · '
        f"run {_e(run_state or 'unknown')}</div>"
    )


def _cards(report: RunReport) -> str:
    def warn(count: int) -> str:
        return "warn" if count else ""

    return "".join(
        [
            _card(report.files_found, "files found"),
            _card(report.files_selected, "selected"),
            _card(report.ingested, "ingested", "ok"),
            _card(report.already_ingested, "already ingested"),
            _card(report.expected_failures, "expected failures", warn(report.expected_failures)),
            _card(
                report.unexpected_failures,
                "unexpected failures",
                "fail" if report.unexpected_failures else "",
            ),
            _card(report.jobs_created, "jobs created", "ok"),
            _card(report.jobs_import_failed, "imports failed", warn(report.jobs_import_failed)),
            _card(report.api_calls, "API calls"),
        ]
    )


def run_page(dag_id: str, run_id: str, run_state: str | None, report: RunReport | None, *, nonce: str) -> str:
    """The Phrase view of one DAG run (``report`` ``None``: the run recorded no summary)."""
    head = _head(dag_id, run_id, run_state)
    if report is None:
        if run_state in ("queued", "running"):
            text = (
                "The run has not recorded its summary yet: it appears here once the <b>summarize</b> task "
                "has run. Reload this tab to see it."
            )
        else:
            text = (
                "This run recorded no Phrase ingestion summary (the <b>summarize</b> task of the ingestion "
                "DAGs writes it). Airflow shows this tab on the runs of every DAG."
            )
        return page("Phrase", f'{head}<p class="note" data-summary="none">{text}</p>', nonce=nonce)
    if report.stopped_at is not None:
        task_id, state = report.stopped_at
        note = (
            f'<p class="note fail"{_attrs(stopped=task_id)}>Nothing was ingested: task {_mono(task_id)} '
            f"ended <b>{_e(state)}</b>. Its log says why; the tasks after it did not run.</p>"
        )
        return page("Phrase", head + note, nonce=nonce)
    window = f" · window {_e(report.window)}" if report.window else ""
    source = (
        f'<div class="muted">Connector {_mono(report.connector)}, folder {_mono(report.folder)} → project '
        f'<span class="mono">{_link(_project_url(report), report.project_uid)}</span>{window}</div>'
    )
    not_selected = ", ".join(report.set_aside)
    aside = f'<div class="muted">Not selected: {_e(not_selected)}.</div>' if not_selected else ""
    listing = f"; {report.listing_api_calls} to list the folder" if report.listing_api_calls else ""
    calls = (
        '<p class="muted">API calls: the requests the run\'s tasks sent to Phrase from workers (retries and '
        f"logins included{_e(listing)}). The triggerer's status polls are shared by every waiting task and "
        "are not counted per run.</p>"
    )
    files = _table(["file", "outcome", "jobs", "task", "API calls"], list(_file_rows(report)), "No files.")
    jobs = _table(["job", "file", "language", "import"], list(_job_rows(report)), "No jobs.")
    body = (
        f'{head}{source}<div class="cards">{_cards(report)}</div>{aside}'
        f"<h2>Jobs per target language</h2>{language_chart(report.languages)}"
        f"<h2>Files</h2>{files}<h2>Jobs in Phrase</h2>{jobs}{calls}"
    )
    return page("Phrase", body, nonce=nonce)


def _project_url(report: RunReport) -> str | None:
    if not report.phrase_url:
        return None
    return f"{report.phrase_url}/project2/show/{quote(report.project_uid, safe='')}"


def trend_chart(points: Sequence[TrendPoint]) -> str:
    """Files selected and jobs created per run, oldest to newest: paired vertical bars."""
    shown = [point for point in points if point.files_selected is not None]
    if not shown:
        return '<p class="muted">No ingestion run has recorded a summary yet.</p>'
    width, height, bottom, top = 640, 220, 30, 30
    most = max(max(p.files_selected or 0, p.jobs_created or 0) for p in shown) or 1
    slot = (width - 40) / len(shown)
    bar = max(min(slot / 3, 28), 3)
    scale = (height - bottom - top) / most
    series = (("files selected", "var(--info)"), ("jobs created", "var(--ok)"))
    parts = [
        *_legend(series, x=40),
        f'<line x1="30" y1="{height - bottom}" x2="{width}" y2="{height - bottom}" '
        'style="stroke:var(--line)"/>',
    ]
    for number, point in enumerate(shown):
        x = 40 + number * slot
        values = (point.files_selected or 0, point.jobs_created or 0)
        for offset, ((kind, colour), value) in enumerate(zip(series, values, strict=True)):
            length = value * scale
            title = f"{point.run_id}: {value} {kind}"
            parts.append(
                _bar(x + offset * bar, height - bottom - length, bar - 1, length, colour, title,
                     run=point.run_id, kind=kind, count=value)
            )  # fmt: skip
        parts.append(f'<text x="{x:.1f}" y="{height - bottom + 16}">{number + 1}</text>')
    return _svg("Files and jobs per run", width, height, parts)


def _run_link(point: TrendPoint) -> str:
    href = f"runs/{quote(point.dag_id, safe='')}/{quote(point.run_id, safe='')}"
    return f'<a class="mono" href="{_e(href)}">{_e(point.run_id)}</a>'


def _overview_row(number: int, point: TrendPoint) -> str:
    cells = [
        str(number),
        _mono(point.dag_id),
        _run_link(point),
        _e(point.when),
        _e(point.state),
        _n(point.files_selected),
        _n(point.jobs_created),
        _n(point.failures),
    ]
    return _row(cells, run=point.run_id)


def overview_page(points: Sequence[TrendPoint], *, nonce: str) -> str:
    """The latest ingestion runs (newest first in the table; the chart runs oldest to newest)."""
    rows = [_overview_row(len(points) - n, point) for n, point in enumerate(points)]
    headers = ["#", "DAG", "run", "date", "state", "files selected", "jobs created", "failures"]
    body = (
        '<h1>Phrase TMS ingestion: latest runs</h1><div class="muted">Runs of the DAGs that record a Phrase '
        "ingestion summary, among those you may read.</div>"
        f"<h2>Files and jobs per run</h2>{trend_chart(list(reversed(points)))}"
        f"<h2>Runs</h2>{_table(headers, rows, 'No runs yet.')}"
    )
    return page("Phrase TMS", body, nonce=nonce)


__all__ = ["language_chart", "overview_page", "page", "run_page", "trend_chart"]
