"""The admin API and pages through Flask's test client, on SQLite and (with TEST_DATABASE_URL)
PostgreSQL: one migrated database and one app per module and backend (scrypt makes users
slow to create, so the users and tokens in `keys` are shared by a module's tests too: a test
that revokes or deactivates makes principals of its own).

`keys` holds tokens made through `callback.services.accounts` for an owner (read+write), an
owner with read only, a plain admin, and an agent-role user linked to an agent of their own.
Every test makes its own users and objects (unique names), so tests sharing a database do not
see each other's rows in a way that matters.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from admin_support import PASSWORD, Api, Keys, e164_agent, unique, unique_email
from flask import Flask
from support.app import running_app

from callback.services import accounts
from callback.services.setup import add_agent


@pytest.fixture(scope="module")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    with running_app(database_url, tmp_path_factory.mktemp("instance")) as app:
        yield app


@pytest.fixture(scope="module")
def keys(app: Flask) -> Keys:
    with app.app_context():
        owner = accounts.create_user(unique_email("owner"), PASSWORD, "owner")
        admin = accounts.create_user(unique_email("admin"), PASSWORD, "admin")
        agent_id = add_agent(unique("Agent"), e164_agent(), rule=unique("own")).id
        agent_user = accounts.create_user(unique_email("agent"), PASSWORD, "agent", agent_id)
        return Keys(
            owner=accounts.create_token(owner, "owner", ["read", "write"]),
            owner_read=accounts.create_token(owner, "reader", ["read"]),
            admin=accounts.create_token(admin, "admin", ["read", "write"]),
            agent=accounts.create_token(agent_user, "agent", ["read", "write"]),
            agent_id=agent_id,
            owner_id=owner,
            agent_user_id=agent_user,
        )


@pytest.fixture
def api(app: Flask, keys: Keys) -> Api:
    return Api(app.test_client(), keys)
