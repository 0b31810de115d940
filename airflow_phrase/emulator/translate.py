"""The emulator's "linguist": a plausible target file for a source file, by its format.

Every translatable text gets the target language as a prefix (``"Welcome"`` → ``"[de] Welcome"``) and the
file keeps its format, so a test can read a delivered file back and tell which language it is and that
it is still valid JSON, YAML, HTML, ... Formats: JSON (string values), YAML and ``.properties`` (values),
Markdown and plain text (lines; code blocks kept), HTML/XML (text between tags), XLIFF (a ``<target>``
after each ``<source>``), gettext PO (``msgstr`` from ``msgid``). Anything that is not UTF-8 text (a
``.docx``) is returned unchanged.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any


def _prefix(lang: str) -> str:
    return f"[{lang}] "


def _json(text: str, lang: str) -> str:
    def walk(value: Any) -> Any:
        if isinstance(value, str):
            return _prefix(lang) + value if value.strip() else value
        if isinstance(value, list):
            return [walk(item) for item in value]
        if isinstance(value, dict):
            return {key: walk(item) for key, item in value.items()}
        return value

    try:
        data = json.loads(text)
    except ValueError:
        return _lines(text, lang)
    return json.dumps(walk(data), ensure_ascii=False, indent=2) + "\n"


_YAML_VALUE = re.compile(r"^(\s*(?:-\s+)?[^#:\s][^:]*:\s+)(\S.*)$")
_YAML_ITEM = re.compile(r"^(\s*-\s+)([^\s{\[&*!|>#].*)$")


def _yaml_scalar(value: str, lang: str) -> str:
    if value[0] in "\"'":
        return value[0] + _prefix(lang) + value[1:]
    if value[0] in "{[&*!|>#" or value in ("true", "false", "null", "~") or _is_number(value):
        return value
    return _prefix(lang) + value


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def _yaml(text: str, lang: str) -> str:
    out = []
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        ending = line[len(body) :]
        match = _YAML_VALUE.match(body) or _YAML_ITEM.match(body)
        out.append(match.group(1) + _yaml_scalar(match.group(2), lang) + ending if match else line)
    return "".join(out)


_PROPERTY = re.compile(r"^(\s*[^#!\s][^=:]*?\s*[=:]\s*)(\S.*)$")


def _properties(text: str, lang: str) -> str:
    out = []
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        match = _PROPERTY.match(body)
        out.append(match.group(1) + _prefix(lang) + match.group(2) + line[len(body) :] if match else line)
    return "".join(out)


_MARKUP_LEAD = re.compile(r"^(\s*(?:#{1,6}\s+|[-*+]\s+|>\s*|\d+[.)]\s+)*)(.*)$")


def _lines(text: str, lang: str) -> str:
    """Markdown and plain text: each line of prose, after its list/heading/quote markers; fenced code and
    front-matter delimiters are kept as they are."""
    out = []
    in_code = False
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        stripped = body.strip()
        if stripped.startswith(("```", "~~~")):
            in_code = not in_code
            out.append(line)
            continue
        if in_code or not stripped or stripped == "---":
            out.append(line)
            continue
        match = _MARKUP_LEAD.match(body)
        assert match is not None  # the pattern matches every line
        out.append(match.group(1) + _prefix(lang) + match.group(2) + line[len(body) :])
    return "".join(out)


_TEXT_NODE = re.compile(r">([^<>]*\S[^<>]*)<")
_SKIPPED_ELEMENT = re.compile(r"(<(script|style)\b.*?</\2>)", re.IGNORECASE | re.DOTALL)
_HTML_LANG = re.compile(r'(<html\b[^>]*\blang=")[^"]*(")', re.IGNORECASE)


def _markup(text: str, lang: str) -> str:
    def text_node(match: re.Match[str]) -> str:
        node = match.group(1)
        lead = node[: len(node) - len(node.lstrip())]
        return f">{lead}{_prefix(lang)}{node.lstrip()}<"

    parts = _SKIPPED_ELEMENT.split(text)
    # re.split with two groups yields [text, whole element, tag name, text, ...]: translate the text only.
    translated = [
        _TEXT_NODE.sub(text_node, part) if index % 3 == 0 else part
        for index, part in enumerate(parts)
        if index % 3 != 2
    ]
    return _HTML_LANG.sub(lambda m: f"{m.group(1)}{lang.replace('_', '-')}{m.group(2)}", "".join(translated))


_XLIFF_SOURCE = re.compile(r"(<source\b[^>]*>)(.*?)(</source>)(\s*<target\b[^>]*>.*?</target>)?", re.DOTALL)


def _xliff(text: str, lang: str) -> str:
    def unit(match: re.Match[str]) -> str:
        source = match.group(2)
        return f"{match.group(1)}{source}{match.group(3)}<target>{_prefix(lang)}{source}</target>"

    text = re.sub(r'target-language="[^"]*"', f'target-language="{lang.replace("_", "-")}"', text)
    return _XLIFF_SOURCE.sub(unit, text)


_PO_ENTRY = re.compile(r'^msgid "(.*)"\r?\nmsgstr ""', re.MULTILINE)


def _po(text: str, lang: str) -> str:
    return _PO_ENTRY.sub(
        lambda m: f'msgid "{m.group(1)}"\nmsgstr "{_prefix(lang) + m.group(1) if m.group(1) else ""}"', text
    )


TRANSLATORS: dict[str, Callable[[str, str], str]] = {
    "json": _json,
    "yaml": _yaml,
    "yml": _yaml,
    "properties": _properties,
    "md": _lines,
    "markdown": _lines,
    "txt": _lines,
    "html": _markup,
    "htm": _markup,
    "xml": _markup,
    "xliff": _xliff,
    "xlf": _xliff,
    "po": _po,
}


def translate(content: bytes, file_name: str, target_lang: str) -> bytes:
    """The target file for ``content`` (the source file ``file_name``) in ``target_lang``."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return content  # a binary format (docx, ...): delivered as it came
    extension = file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
    return TRANSLATORS.get(extension, _lines)(text, target_lang).encode("utf-8")


__all__ = ["TRANSLATORS", "translate"]
