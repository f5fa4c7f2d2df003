"""The 2010-04-01 REST surface: resources, paging, errors, auth — and Twilio's own schema."""

from __future__ import annotations

import json
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
import requests
from openapi_schema_validator import OAS30Validator
from support.receiver import wait_until
from support.simulator import ACCOUNT_SID, AUTH_TOKEN, CALLER_ID
from twilio.base.exceptions import TwilioRestException

SCHEMAS = json.loads(
    (Path(__file__).parent.parent / "contract" / "twilio_api_v2010_calls_messages.json").read_text()
)
TWIML = "<Response><Say>Hello</Say></Response>"
TO = "+3725550303"


def validate(schema_name: str, instance: dict) -> None:
    """Validate against a schema of Twilio's OpenAPI document (refs resolved inside it)."""
    schema = {**SCHEMAS["components"]["schemas"][schema_name], "components": SCHEMAS["components"]}
    OAS30Validator(schema).validate(instance)
    for key, value in instance.items():
        if key.startswith("date_") or (key.endswith("_time") and key != "queue_time"):
            assert value is None or parsedate_to_datetime(value).tzinfo is not None, key


def raw(sim, method: str, path: str, auth=(ACCOUNT_SID, AUTH_TOKEN), **kwargs) -> requests.Response:
    url = f"{sim.base_url}/2010-04-01/Accounts/{ACCOUNT_SID}{path}"
    return sim.http.request(method, url, auth=auth, **kwargs)


def test_call_json_validates_against_twilios_openapi_schema(sim, client):
    sim.phone(TO, outcome="answer", answer_after=1)
    created = raw(sim, "POST", "/Calls.json", data={"To": TO, "From": CALLER_ID, "Twiml": TWIML})
    assert created.status_code == 201
    body = created.json()
    validate("api.v2010.account.call", body)
    assert body["sid"].startswith("CA") and len(body["sid"]) == 34
    assert body["status"] == "queued"
    assert body["direction"] == "outbound-api"
    assert body["api_version"] == "2010-04-01"
    assert body["uri"] == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls/{body['sid']}.json"
    wait_until(
        lambda: raw(sim, "GET", f"/Calls/{body['sid']}.json").json()["status"] == "completed",
        what="the call to complete",
    )
    done = raw(sim, "GET", f"/Calls/{body['sid']}.json").json()
    validate("api.v2010.account.call", done)
    assert int(done["duration"]) >= 1
    assert parsedate_to_datetime(done["end_time"]) >= parsedate_to_datetime(done["start_time"])
    listing = raw(sim, "GET", "/Calls.json").json()
    validate("ListCallResponse", listing)


def test_the_client_reads_every_field(sim, client):
    call = client.calls.create(to=TO, from_=CALLER_ID, twiml=TWIML, timeout=30)
    fetched = client.calls(call.sid).fetch()
    assert fetched.sid == call.sid
    assert fetched.to == TO and fetched._from == CALLER_ID
    assert fetched.account_sid == ACCOUNT_SID
    assert fetched.date_created is not None and fetched.date_created.tzinfo is not None
    assert fetched.parent_call_sid is None
    assert fetched.api_version == "2010-04-01"


def test_list_pages_through_the_official_client(sim, client):
    sim.phone("default", outcome="busy", answer_after=1)
    sids = {
        client.calls.create(to=f"+37255504{n:02d}", from_=CALLER_ID, twiml=TWIML).sid
        for n in range(5)
    }
    listed = client.calls.list(page_size=2)
    assert {c.sid for c in listed} == sids
    page = client.calls.page(page_size=2)
    assert len(list(page)) == 2 and page.next_page_url is not None
    assert len(list(page.next_page().next_page())) == 1
    only = client.calls.list(to="+3725550402")
    assert [c.to for c in only] == ["+3725550402"]


def test_delete_a_finished_call(sim, client):
    sim.phone(TO, outcome="busy", answer_after=1)
    call = client.calls.create(to=TO, from_=CALLER_ID, twiml=TWIML)
    live = raw(sim, "DELETE", f"/Calls/{call.sid}.json")
    if live.status_code == 400:  # still ringing: Twilio refuses to delete a live call
        assert live.json()["code"] == 21220
    wait_until(lambda: client.calls(call.sid).fetch().status == "busy", what="busy")
    assert client.calls(call.sid).delete() is True
    with pytest.raises(TwilioRestException) as missing:
        client.calls(call.sid).fetch()
    assert missing.value.status == 404 and missing.value.code == 20404


def test_updating_a_finished_call_is_21220(sim, client):
    sim.phone(TO, outcome="failed")
    call = client.calls.create(to=TO, from_=CALLER_ID, twiml=TWIML)
    wait_until(lambda: client.calls(call.sid).fetch().status == "failed", what="failed")
    with pytest.raises(TwilioRestException) as error:
        client.calls(call.sid).update(url="http://127.0.0.1:9/next")
    assert error.value.code == 21220


@pytest.mark.parametrize(
    ("form", "code"),
    [
        ({"From": CALLER_ID, "Twiml": TWIML}, 21201),
        ({"To": "not-a-number", "From": CALLER_ID, "Twiml": TWIML}, 21211),
        ({"To": "+15005550001", "From": CALLER_ID, "Twiml": TWIML}, 21211),
        ({"To": "+15005550002", "From": CALLER_ID, "Twiml": TWIML}, 21214),
        ({"To": TO, "Twiml": TWIML}, 21213),
        ({"To": TO, "From": "shop", "Twiml": TWIML}, 21210),
        ({"To": TO, "From": "+15005550007", "Twiml": TWIML}, 21210),
        ({"To": TO, "From": CALLER_ID}, 21205),
        ({"To": TO, "From": CALLER_ID, "Url": "ftp://example.com/x"}, 21205),
        ({"To": TO, "From": CALLER_ID, "Url": "not a url"}, 21205),
        ({"To": TO, "From": CALLER_ID, "Twiml": TWIML, "StatusCallback": "nope"}, 21609),
        ({"To": TO, "From": CALLER_ID, "Twiml": TWIML, "Timeout": "soon"}, 20001),
        ({"To": TO, "From": CALLER_ID, "Twiml": TWIML, "StatusCallbackEvent": "hungup"}, 20001),
        ({"To": TO, "From": CALLER_ID, "Url": "http://127.0.0.1:9/x", "Method": "PUT"}, 20001),
    ],
)
def test_create_call_errors_have_twilios_codes_and_body(sim, form, code):
    response = raw(sim, "POST", "/Calls.json", data=form)
    assert response.status_code == 400
    body = response.json()
    assert body == {
        "code": code,
        "message": body["message"],
        "status": 400,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
    }
    assert body["message"]


def test_errors_reach_the_client_as_twilio_rest_exceptions(sim, client):
    with pytest.raises(TwilioRestException) as error:
        client.calls.create(to="12", from_=CALLER_ID, twiml=TWIML)
    assert error.value.status == 400 and error.value.code == 21211
    assert "12" in error.value.msg


def test_from_not_among_the_accounts_caller_ids_is_21210(sim, client):
    assert sim.put("/sim/config", {"caller_ids": ["+3726000001"]}).status_code == 200
    with pytest.raises(TwilioRestException) as error:
        client.calls.create(to=TO, from_=CALLER_ID, twiml=TWIML)
    assert error.value.code == 21210
    assert client.calls.create(to=TO, from_="+3726000001", twiml=TWIML).status == "queued"


@pytest.mark.parametrize(
    "auth",
    [None, (ACCOUNT_SID, "wrong-token"), ("AC" + "b" * 32, AUTH_TOKEN), ("not-a-sid", AUTH_TOKEN)],
)
def test_bad_credentials_are_401_with_20003(sim, auth):
    response = raw(sim, "GET", "/Calls.json", auth=auth)
    assert response.status_code == 401
    assert response.json()["code"] == 20003
    assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_unknown_resources_are_20404(sim, client):
    assert raw(sim, "GET", "/Calls/CA" + "0" * 32 + ".json").json()["code"] == 20404
    assert raw(sim, "GET", "/Nothing.json").status_code == 404
    with pytest.raises(TwilioRestException) as error:
        client.messages("SM" + "0" * 32).fetch()
    assert error.value.code == 20404


def test_too_many_requests_is_429_with_20429(sim, client):
    assert sim.put("/sim/config", {"api_requests_per_second": 2}).status_code == 200
    codes = [raw(sim, "GET", "/Calls.json").status_code for _ in range(6)]
    assert codes[:2] == [200, 200]
    assert 429 in codes
    limited = next(
        r for r in (raw(sim, "GET", "/Calls.json") for _ in range(5)) if r.status_code == 429
    )
    assert limited.json()["code"] == 20429


def test_messages_create_fetch_and_report_delivery(sim, client, receiver):
    message = client.messages.create(
        to=TO, from_=CALLER_ID, body="We call you at 9:30.", status_callback=receiver.url("/sms")
    )
    assert message.sid.startswith("SM") and message.status == "queued"
    reports = receiver.wait_for("/sms", count=2)
    assert [r.form["MessageStatus"] for r in reports] == ["sent", "delivered"]
    fetched = client.messages(message.sid).fetch()
    assert fetched.status == "delivered" and fetched.body == "We call you at 9:30."
    validate("api.v2010.account.message", raw(sim, "GET", f"/Messages/{message.sid}.json").json())
    validate("ListMessageResponse", raw(sim, "GET", "/Messages.json").json())


@pytest.mark.parametrize(
    ("form", "code"),
    [
        ({"From": CALLER_ID, "Body": "hi"}, 21604),
        ({"To": "x", "From": CALLER_ID, "Body": "hi"}, 21211),
        ({"To": TO, "Body": "hi"}, 21603),
        ({"To": TO, "From": CALLER_ID}, 21602),
        ({"To": TO, "From": CALLER_ID, "Body": "x" * 1601}, 21617),
    ],
)
def test_message_errors(sim, form, code):
    response = raw(sim, "POST", "/Messages.json", data=form)
    assert (response.status_code, response.json()["code"]) == (400, code)


def test_unreachable_handset_is_undelivered(sim, client):
    sim.phone(TO, outcome="failed")
    message = client.messages.create(to=TO, from_=CALLER_ID, body="hello")
    fetched = wait_until(
        lambda: (m := client.messages(message.sid).fetch()).status == "undelivered" and m,
        what="undelivered",
    )
    assert fetched.error_code == 30003


@pytest.mark.parametrize(
    ("number", "body", "code"),
    [
        ("+3725550100", {"outcome": "explode"}, "invalid_behaviour"),
        ("+3725550100", {"answer_after": -1}, "invalid_behaviour"),
        ("+3725550100", {"answer_after": "soon"}, "invalid_behaviour"),
        ("+3725550100", {"digits": "1a"}, "invalid_behaviour"),
        ("+3725550100", {"ring": 3}, "invalid_behaviour"),
        ("5550100", {"outcome": "answer"}, "invalid_number"),
        ("+3725550100", ["answer"], "invalid_json"),
    ],
)
def test_phone_behaviour_is_validated(sim, number, body, code):
    response = sim.put(f"/sim/phones/{number}", body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]


def test_phones_can_be_listed_forgotten_and_reset(sim):
    sim.phone("+3725550100", outcome="busy", answer_after=2)
    sim.phone("default", outcome="no-answer")
    phones = sim.http.get(f"{sim.base_url}/sim/phones").json()
    assert phones["phones"]["+3725550100"]["outcome"] == "busy"
    assert phones["default"]["outcome"] == "no-answer"
    assert sim.http.delete(f"{sim.base_url}/sim/phones/+3725550100").status_code == 204
    assert sim.http.delete(f"{sim.base_url}/sim/phones/+3725550100").status_code == 404
    sim.post("/sim/reset")
    assert sim.http.get(f"{sim.base_url}/sim/phones").json()["default"]["outcome"] == "answer"


def test_reset_hangs_up_live_calls_and_forgets_them(sim, client):
    sim.phone(TO, outcome="no-answer")
    call = client.calls.create(to=TO, from_=CALLER_ID, twiml=TWIML)
    wait_until(lambda: sim.call(call.sid)["status"] == "ringing", what="ringing")
    assert sim.post("/sim/reset").status_code == 200
    assert sim.calls() == []
    assert sim.http.get(f"{sim.base_url}/sim/config").json()["calls_per_second"] is None


@pytest.mark.parametrize(
    "body",
    [
        {"calls_per_second": 0},
        {"calls_per_second": "fast"},
        {"caller_ids": "+3726000000"},
        {"turbo": True},
    ],
)
def test_config_is_validated(sim, body):
    response = sim.put("/sim/config", body)
    assert response.status_code == 400 and response.json()["error"]["message"]


def test_softphone_page_is_served(sim):
    page = sim.http.get(f"{sim.base_url}/sim/phone")
    assert page.status_code == 200 and "Simulator softphones" in page.text
    assert "/sim/calls" in page.text
