"""The pure parts of accounts: token format and hashing, email, password and scope rules."""

from __future__ import annotations

import hashlib

import pytest

from callback.services.accounts import (
    SHOWN_PREFIX_LENGTH,
    TOKEN_PREFIX,
    AccountError,
    hash_token,
    normalize_email,
    session_key,
    validate_email,
    validate_password,
    validate_role,
    validate_scopes,
)


def test_tokens_are_hashed_with_sha256() -> None:
    token = TOKEN_PREFIX + "abc"
    assert hash_token(token) == hashlib.sha256(token.encode()).hexdigest()
    assert len(hash_token(token)) == 64
    assert len(TOKEN_PREFIX) + 6 == SHOWN_PREFIX_LENGTH


def test_emails_are_compared_lower_case() -> None:
    assert normalize_email("  Boss@Example.COM ") == "boss@example.com"
    assert validate_email("Boss@Example.com") == "boss@example.com"
    for bad in (
        "",
        "boss",
        "boss@",
        "@example.com",
        "a b@example.com",
        "boss@example",
        "x" * 250 + "@e.ee",
    ):
        with pytest.raises(AccountError) as raised:
            validate_email(bad)
        assert (raised.value.code, raised.value.field) == ("invalid_email", "email")


def test_passwords_need_ten_characters() -> None:
    validate_password("0123456789")
    with pytest.raises(AccountError, match="at least 10"):
        validate_password("012345678")


def test_roles_and_scopes() -> None:
    assert [validate_role(r) for r in ("owner", "admin", "agent")] == ["owner", "admin", "agent"]
    with pytest.raises(AccountError):
        validate_role("root")
    assert validate_scopes(["write", "read", "read"]) == ["read", "write"]
    for bad in ([], ["delete"], ["read", "Admin"]):
        with pytest.raises(AccountError) as raised:
            validate_scopes(bad)
        assert raised.value.code == "invalid_scopes"


def test_the_session_key_changes_with_the_password_hash() -> None:
    assert session_key("scrypt:a") != session_key("scrypt:b")
    assert session_key("scrypt:a") == session_key("scrypt:a") and len(session_key("x")) == 16
