"""Which listed files are translations Phrase exported beside their source (``<folder>/<lang>/<name>``)."""

from __future__ import annotations

import unicodedata

from airflow_phrase.ingestion.selection import split_delivered_translations
from tests.ingestion.test_selection import T0, make_file


def _paths(files: list) -> list[str]:
    return [file.path for file in files]


def test_a_file_in_a_target_language_folder_beside_its_source_is_a_translation() -> None:
    files = [
        make_file(path, T0)
        for path in (
            "guides/install.md",
            "guides/de/install.md",
            "guides/fr_fr/install.md",  # Phrase's code
            "guides/fr-FR/install.md",  # the same language written the other way
            "guides/de/only-german.md",  # no source beside it: a source of its own
            "guides/es/install.md",  # not a target language
            "de/index.md",  # no source one folder up
        )
    ]

    sources, translations = split_delivered_translations(files, ["de", "fr_fr"])

    assert _paths(translations) == [
        "docs/guides/de/install.md",
        "docs/guides/fr_fr/install.md",
        "docs/guides/fr-FR/install.md",
    ]
    assert _paths(sources) == [
        "docs/guides/install.md",
        "docs/guides/de/only-german.md",
        "docs/guides/es/install.md",
        "docs/de/index.md",
    ]


def test_names_are_compared_in_nfc() -> None:
    source = make_file(unicodedata.normalize("NFD", "guides/überblick.md"), T0)
    translation = make_file(unicodedata.normalize("NFC", "guides/de/überblick.md"), T0)

    sources, translations = split_delivered_translations([source, translation], ["de"])

    assert translations == [translation] and sources == [source]


def test_without_target_languages_nothing_is_a_translation() -> None:
    files = [make_file("guides/install.md", T0), make_file("guides/de/install.md", T0)]

    assert split_delivered_translations(files, []) == (files, [])
