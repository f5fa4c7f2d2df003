"""Helpers for the admin browser tests (imported by their conftest and test modules)."""

from __future__ import annotations

from dataclasses import dataclass

from playwright.sync_api import Page

PASSWORD = "correct horse battery staple"
TIME_SCALE = 10


@dataclass(frozen=True)
class Login:
    email: str
    password: str
    user_id: int
    agent_id: int | None = None


def sign_in(page: Page, login: Login) -> None:
    page.goto("/admin/login")
    page.get_by_label("Email").fill(login.email)
    page.get_by_label("Password").fill(login.password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/admin/login" not in url)
