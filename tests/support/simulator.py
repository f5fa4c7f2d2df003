"""Talking to a running simulator process from tests: its /sim endpoints and test credentials."""

from __future__ import annotations

from dataclasses import dataclass

import requests

ACCOUNT_SID = "AC" + "a" * 32
AUTH_TOKEN = "test-auth-token"
CALLER_ID = "+3726000000"
# Every scripted delay runs 20x faster: a 2 s ring takes 0.1 s of wall time.
TIME_SCALE = 20


@dataclass
class Simulator:
    base_url: str
    http: requests.Session

    def phone(self, number: str, **behaviour: object) -> None:
        response = self.http.put(f"{self.base_url}/sim/phones/{number}", json=behaviour)
        assert response.status_code == 200, response.text

    def calls(self, **filters: str) -> list[dict]:
        return self.http.get(f"{self.base_url}/sim/calls", params=filters).json()["calls"]

    def call(self, sid: str) -> dict:
        response = self.http.get(f"{self.base_url}/sim/calls/{sid}")
        assert response.status_code == 200, response.text
        return response.json()

    def post(self, path: str, json: object | None = None) -> requests.Response:
        return self.http.post(self.base_url + path, json=json or {})

    def put(self, path: str, json: object) -> requests.Response:
        return self.http.put(self.base_url + path, json=json)
