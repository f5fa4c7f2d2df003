"""Virtual phone behaviours: parsing, validation and the default."""

from __future__ import annotations

import pytest

from callback.simulator.phones import PhoneBehaviour, PhoneBook, PhoneConfigError


def test_partial_behaviour_fills_in_defaults():
    behaviour = PhoneBehaviour.from_json({"outcome": "voicemail", "answer_after": 4})
    assert behaviour == PhoneBehaviour(outcome="voicemail", answer_after=4, digits="1")
    assert not behaviour.presses_keys


@pytest.mark.parametrize(
    "data",
    [
        {"outcome": "maybe"},
        {"answer_after": -0.1},
        {"answer_after": 7200},
        {"answer_after": True},
        {"hangup_after": "later"},
        {"digits": 1},
        {"digits": "12a"},
        {"volume": 3},
    ],
)
def test_malformed_behaviour_is_refused(data):
    with pytest.raises(PhoneConfigError):
        PhoneBehaviour.from_json(data)


def test_phone_book_default_and_forget():
    book = PhoneBook()
    book.configure("+3725550100", {"outcome": "busy"})
    book.configure("default", {"outcome": "no-answer"})
    assert book.behaviour("+3725550100").outcome == "busy"
    assert book.behaviour("+3725550999").outcome == "no-answer"
    assert book.forget("+3725550100")
    assert book.behaviour("+3725550100").outcome == "no-answer"
    book.reset()
    assert book.behaviour("+3725550100") == PhoneBehaviour()


def test_a_manual_phone_waits_for_a_person_and_never_presses_keys():
    behaviour = PhoneBehaviour.from_json({"outcome": "manual", "label": "Anna, agent"})
    assert behaviour.is_manual
    assert not behaviour.presses_keys  # the keypad on the softphone page does that
    assert behaviour.to_json()["label"] == "Anna, agent"


@pytest.mark.parametrize("label", [7, "x" * 41, None])
def test_a_label_must_be_short_text(label):
    with pytest.raises(PhoneConfigError, match="label"):
        PhoneBehaviour.from_json({"outcome": "manual", "label": label})
