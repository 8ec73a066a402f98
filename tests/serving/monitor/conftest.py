"""A fresh, migrated monitor database for each test: a SQLite file always, and a PostgreSQL database too where a
server can be started here (tests/conftest.py: `postgres_server`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from serving.monitor.database import monitor_engine, sessions, upgrade
from tests.conftest import fresh_postgres_database


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'data' / 'monitor.sqlite3'}"
    return fresh_postgres_database(request.getfixturevalue("postgres_server"))


@pytest.fixture
def engine(database_url) -> Iterator[Engine]:
    engine = monitor_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine) -> Iterator[Session]:
    with sessions(engine).begin() as session:
        yield session
