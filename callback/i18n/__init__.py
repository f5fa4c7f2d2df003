"""The widget's built-in texts, one JSON file per language, and the choice of language.

Translations live on the server, not in widget.js: the config endpoint resolves the texts for
the visitor's language once, so the script stays inside its byte budget whatever the number of
languages. Each `<lang>.json` holds the same keys as `en.json` (a test checks it); `{time}` in a
text is filled in by the widget with a time formatted in the visitor's locale.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from typing import Any

__all__ = ["LANGUAGES", "builtin_texts", "choose_language", "parse_language_list"]

LANGUAGES = ("en", "et", "fi", "pl", "ru", "de", "lv", "lt")
# "et", "et-EE", "zh-Hant-TW": what a page's lang or navigator.languages holds.
_TAG = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8}){0,3}$")
MAX_TAGS = 10


@cache
def builtin_texts(language: str) -> Mapping[str, str]:
    """The built-in texts of a supported language (read once per process, on first use)."""
    if language not in LANGUAGES:
        raise KeyError(language)
    raw = resources.files(__package__).joinpath(f"{language}.json").read_text("utf-8")
    texts: dict[str, str] = json.loads(raw)
    return texts


def parse_language_list(raw: str) -> list[str] | None:
    """ "et-EE,en;q=0.8, fi" -> ["et-ee", "en", "fi"]; None when the list is malformed."""
    tags = []
    for part in raw.split(","):
        tag = part.split(";", 1)[0].strip()
        if not tag:
            continue
        if not _TAG.match(tag):
            return None
        tags.append(tag.lower())
    return tags[:MAX_TAGS] if len(tags) <= MAX_TAGS * 3 else None


def choose_language(wanted: Iterable[str], available: Iterable[str], default: str) -> str:
    """The first wanted language (its primary subtag) that is available, else `default`."""
    offered = set(available)
    for tag in wanted:
        primary = tag.split("-", 1)[0].lower()
        if primary in offered:
            return primary
    return default if default in offered else "en"


def merged(language: str, overrides: Mapping[str, Any] | None) -> dict[str, str]:
    """Built-in texts of `language` with the admin's string overrides on top."""
    texts = dict(builtin_texts(language if language in LANGUAGES else "en"))
    for key, value in (overrides or {}).items():
        if isinstance(value, str):
            texts[key] = value
    return texts
