"""The widget's built-in texts keep the placeholders widget.js fills in, in every language."""

from __future__ import annotations

import pytest

from callback import i18n

# key → the placeholder widget.js replaces in it (a text without it would show "{name}" or lose
# the agent's name; "{wait}" becomes "in 2 minutes" from Retry-After).
PLACEHOLDERS = {
    "s_agent_named": "{name}",
    "s_scheduled": "{time}",
    "e_rate_limited": "{wait}",
    "e_unavailable": "{wait}",
}
# The refusals a visitor meets at the limits and in outages (issue #4: "in words").
REFUSALS = ("e_too_fast", "e_daily_cap_reached", "e_rate_limited", "e_unavailable")


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_each_placeholder_is_in_every_language(language: str) -> None:
    texts = i18n.builtin_texts(language)
    for key, placeholder in PLACEHOLDERS.items():
        assert texts[key].count(placeholder) == 1, (language, key)


@pytest.mark.parametrize("language", [lang for lang in i18n.LANGUAGES if lang != "en"])
def test_the_refusals_are_translated(language: str) -> None:
    texts, english = i18n.builtin_texts(language), i18n.builtin_texts("en")
    for key in (*REFUSALS, "s_agent_named"):
        assert texts[key] != english[key], (language, key)
