"""A fresh, migrated monitor database for each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from serving.monitor.database import monitor_engine, sessions, upgrade


@pytest.fixture
def engine(tmp_path) -> Iterator[Engine]:
    engine = monitor_engine(f"sqlite:///{tmp_path / 'data' / 'monitor.sqlite3'}")
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine) -> Iterator[Session]:
    with sessions(engine).begin() as session:
        yield session
