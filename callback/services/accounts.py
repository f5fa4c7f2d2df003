"""Admin accounts and API tokens: the transaction owners for logins and tokens.

Passwords are hashed with scrypt (`werkzeug.security`), a memory-hard current algorithm.
API tokens are `cbk_` followed by 32 random bytes (url-safe base64); only their sha256 is
stored, because a token is as good as a password and a database dump must not hand them out.
The plaintext is returned once by `create_token` and never again.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from ..models import Agent, ApiToken, Role, Scope, User
from . import context
from .admin_errors import AdminError, Forbidden, NotFound

TOKEN_PREFIX = "cbk_"
# "cbk_" and 6 characters of the secret: enough to tell tokens apart, useless to an attacker.
SHOWN_PREFIX_LENGTH = len(TOKEN_PREFIX) + 6
MIN_PASSWORD_LENGTH = 10
PASSWORD_METHOD = "scrypt"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class AccountError(AdminError):
    """Bad input for an account or token; `code`, `message` and `field` go into a 422 body."""


@dataclass(frozen=True)
class Principal:
    """Who is acting: a signed-in user, or the user behind an API token (with its scopes)."""

    user_id: int
    email: str
    role: str
    agent_id: int | None
    scopes: frozenset[str]
    token_id: int | None = None
    # Changes when the password does: a session cookie signed before a reset stops working.
    session_key: str = ""

    @property
    def is_manager(self) -> bool:
        return self.role in (Role.OWNER, Role.ADMIN)


def normalize_email(email: str) -> str:
    return email.strip().lower()


def validate_email(email: str) -> str:
    email = normalize_email(email)
    if not _EMAIL.match(email) or len(email) > 254:
        raise AccountError(
            "invalid_email", "Enter an email address like name@example.com.", "email"
        )
    return email


def validate_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            "weak_password",
            f"The password needs at least {MIN_PASSWORD_LENGTH} characters.",
            "password",
        )


def validate_role(role: str) -> str:
    if role not in {r.value for r in Role}:
        raise AccountError("invalid_role", "The role must be one of owner, admin or agent.", "role")
    return role


@cache
def _dummy_hash() -> str:
    """A scrypt hash checked when the email is unknown, so that a failed login takes as long
    for a stranger's email as for a user's: no user enumeration by timing."""
    return generate_password_hash("not-a-password", method=PASSWORD_METHOD)


def session_key(password_hash: str) -> str:
    """A short fingerprint of the password hash that session cookies carry."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def create_user(email: str, password: str, role: str, agent_id: int | None = None) -> int:
    """Create a login; returns its id. An agent-role user must be linked to an agent."""
    email = validate_email(email)
    validate_password(password)
    validate_role(role)
    if agent_id is not None and not 0 < agent_id < 2**31:
        raise AccountError("unknown_agent", f"There is no agent {agent_id}.", "agent_id")
    if role == Role.AGENT and agent_id is None:
        raise AccountError(
            "agent_required", "An agent login needs the agent it belongs to.", "agent_id"
        )
    with context.transaction() as session:
        if agent_id is not None and session.get(Agent, agent_id) is None:
            raise AccountError("unknown_agent", f"There is no agent {agent_id}.", "agent_id")
        if session.scalar(select(User.id).where(User.email == email)) is not None:
            raise AccountError("email_taken", "A login with this email exists already.", "email")
        user = User(
            email=email,
            password_hash=generate_password_hash(password, method=PASSWORD_METHOD),
            role=role,
            agent_id=agent_id,
        )
        session.add(user)
        session.flush()
        return user.id


def set_password(user_id: int, password: str) -> None:
    validate_password(password)
    with context.transaction() as session:
        user = session.get(User, user_id)
        if user is None:
            raise AccountError("not_found", f"There is no user {user_id}.")
        user.password_hash = generate_password_hash(password, method=PASSWORD_METHOD)


def authenticate(email: str, password: str) -> Principal | None:
    """The user if the email and password match an active login, else None."""
    email = normalize_email(email)
    with context.transaction() as session:
        user = session.scalars(select(User).where(User.email == email)).one_or_none()
        if user is None:
            check_password_hash(_dummy_hash(), password)
            return None
        if not check_password_hash(user.password_hash, password) or not user.active:
            return None
        user.last_login_at = context.now()
        return _principal(user, frozenset(Scope))


def user_principal(user_id: int, key: str) -> Principal | None:
    """The active user behind a session cookie, if the cookie's password fingerprint still fits."""
    with context.transaction() as session:
        user = session.get(User, user_id)
        if user is None or not user.active or session_key(user.password_hash) != key:
            return None
        return _principal(user, frozenset(Scope))


def _principal(user: User, scopes: frozenset[str], token_id: int | None = None) -> Principal:
    return Principal(
        user.id,
        user.email,
        user.role,
        user.agent_id,
        scopes,
        token_id,
        session_key(user.password_hash),
    )


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def validate_scopes(scopes: Iterable[str]) -> list[str]:
    chosen = sorted(set(scopes))
    known = {s.value for s in Scope}
    if not chosen or any(scope not in known for scope in chosen):
        raise AccountError(
            "invalid_scopes", "Scopes must be a non-empty list of 'read' and 'write'.", "scopes"
        )
    return chosen


def create_token(user_id: int, name: str, scopes: Iterable[str]) -> str:
    """Create an API token for the user; returns the plaintext, which is never stored."""
    name = name.strip()
    if not name or len(name) > 120:
        raise AccountError(
            "invalid_name", "Give the token a name (at most 120 characters).", "name"
        )
    chosen = validate_scopes(scopes)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with context.transaction() as session:
        if session.get(User, user_id) is None:
            raise AccountError("not_found", f"There is no user {user_id}.", "user_id")
        session.add(
            ApiToken(
                user_id=user_id,
                name=name,
                prefix=token[:SHOWN_PREFIX_LENGTH],
                token_hash=hash_token(token),
                scopes=chosen,
            )
        )
    return token


def token_principal(token: str) -> Principal | None:
    """The principal of a live (not revoked) token of an active user; records its last use."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    with context.transaction() as session:
        row = session.execute(
            select(ApiToken, User)
            .join(User, User.id == ApiToken.user_id)
            .where(ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None))
        ).one_or_none()
        if row is None or not row.User.active:
            return None
        api_token, user = row.ApiToken, row.User
        now = context.now()
        # One write a minute at most: a busy integration must not turn reads into writes.
        if api_token.last_used_at is None or (now - api_token.last_used_at).total_seconds() > 60:
            api_token.last_used_at = now
        return _principal(user, frozenset(api_token.scopes), api_token.id)


def revoke_token(token_id: int, user_id: int | None = None) -> bool:
    """Revoke a token (only the user's own when `user_id` is given); False if there is none."""
    with context.transaction() as session:
        statement = (
            update(ApiToken)
            .where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=context.now())
        )
        if user_id is not None:
            statement = statement.where(ApiToken.user_id == user_id)
        return bool(cast(CursorResult[Any], session.execute(statement)).rowcount)


@dataclass(frozen=True)
class TokenView:
    id: int
    user_id: int
    user_email: str
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "user": self.user_email,
            "name": self.name,
            "prefix": self.prefix,
            "scopes": self.scopes,
            "created_at": self.created_at.isoformat(),
            "last_used_at": self.last_used_at.isoformat() if self.last_used_at else None,
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
        }


def list_tokens(user_id: int | None = None) -> list[TokenView]:
    """Every token (or the user's own), newest first; never the secret."""
    with context.transaction() as session:
        query = (
            select(ApiToken, User.email)
            .join(User, User.id == ApiToken.user_id)
            .order_by(ApiToken.id.desc())
        )
        if user_id is not None:
            query = query.where(ApiToken.user_id == user_id)
        return [
            TokenView(
                t.id,
                t.user_id,
                email,
                t.name,
                t.prefix,
                list(t.scopes),
                t.created_at,
                t.last_used_at,
                t.revoked_at,
            )
            for t, email in session.execute(query)
        ]


def user_json(user: User) -> dict[str, object]:
    return {
        "id": user.id,
        "email": user.email,
        "role": user.role,
        "active": user.active,
        "agent_id": user.agent_id,
        "created_at": user.created_at.isoformat(),
        "last_login_at": user.last_login_at.isoformat() if user.last_login_at else None,
    }


def list_users() -> list[dict[str, object]]:
    with context.transaction() as session:
        return [user_json(u) for u in session.scalars(select(User).order_by(User.email))]


def get_user(user_id: int) -> dict[str, object]:
    with context.transaction() as session:
        user = session.get(User, user_id)
        if user is None:
            raise NotFound("user", user_id)
        return user_json(user)


def update_user(user_id: int, changes: dict[str, object], acting_role: str) -> dict[str, object]:
    """Change a login's role, active flag, linked agent or password.

    Only an owner may make or unmake owners, so an admin cannot lock the owner out.
    """
    with context.transaction() as session:
        user = session.get(User, user_id)
        if user is None:
            raise NotFound("user", user_id)
        if "role" in changes:
            role = validate_role(str(changes["role"]))
            if Role.OWNER in (role, user.role) and acting_role != Role.OWNER and role != user.role:
                raise Forbidden(
                    "owner_only", "Only an owner may grant or remove the owner role.", "role"
                )
            user.role = role
        if user.role == Role.OWNER and acting_role != Role.OWNER and changes:
            raise Forbidden("owner_only", "Only an owner may change an owner's login.")
        if "active" in changes:
            if not isinstance(changes["active"], bool):
                raise AccountError("invalid_active", "'active' must be true or false.", "active")
            user.active = changes["active"]
        if "agent_id" in changes:
            agent_id = changes["agent_id"]
            if agent_id is not None and (
                isinstance(agent_id, bool)
                or not isinstance(agent_id, int)
                or not 0 < agent_id < 2**31
                or session.get(Agent, agent_id) is None
            ):
                raise AccountError("unknown_agent", f"There is no agent {agent_id}.", "agent_id")
            user.agent_id = agent_id
        if user.role == Role.AGENT and user.agent_id is None:
            raise AccountError("agent_required", "An agent login needs its agent.", "agent_id")
        if "password" in changes:
            password = changes["password"]
            if not isinstance(password, str):
                raise AccountError("weak_password", "The password must be a string.", "password")
            validate_password(password)
            user.password_hash = generate_password_hash(password, method=PASSWORD_METHOD)
        return user_json(user)
