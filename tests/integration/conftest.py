"""Fixtures the integration tests share."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.app import BACKENDS, migrated_database


@pytest.fixture(scope="module", params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated database per test module: SQLite, and PostgreSQL when TEST_DATABASE_URL is
    set (every test of the module runs on each)."""
    with migrated_database(request.param, tmp_path_factory.mktemp("db")) as url:
        yield url
