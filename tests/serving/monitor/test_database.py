from concurrent.futures import ThreadPoolExecutor

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from serving.monitor.database import DatabaseError, current_revision, head_revision, monitor_engine, upgrade
from serving.monitor.tables import Base


def test_migrations_from_empty_build_exactly_the_tables_the_code_declares(engine):
    assert current_revision(engine) == head_revision() == "0001"
    assert set(inspect(engine).get_table_names()) == {"alembic_version", *Base.metadata.tables}
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_upgrading_a_migrated_database_changes_nothing(engine):
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO documents (id, text, content_sha256, ingested_at) VALUES ('d', 't', 'h', '2026-01-01')")
        )
    upgrade(engine)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT id FROM documents")).scalars().all() == ["d"]


def test_a_sqlite_file_is_made_with_its_folder_and_written_durably(tmp_path):
    engine = monitor_engine(f"sqlite:///{tmp_path / 'new' / 'folder' / 'monitor.sqlite3'}")
    upgrade(engine)
    assert (tmp_path / "new" / "folder" / "monitor.sqlite3").is_file()
    with engine.connect() as connection:
        pragma = {
            name: connection.execute(text(f"PRAGMA {name}")).scalar()
            for name in ("foreign_keys", "journal_mode", "synchronous")
        }
    assert pragma == {"foreign_keys": 1, "journal_mode": "wal", "synchronous": 2}
    engine.dispose()


def test_a_url_that_is_not_one_is_named():
    with pytest.raises(DatabaseError, match="database_url 'not a url' is not a database URL"):
        monitor_engine("not a url")


def test_several_starting_at_once_migrate_once_and_all_start(database_url):
    engines = [monitor_engine(database_url) for _ in range(4)]
    with ThreadPoolExecutor(len(engines)) as pool:
        list(pool.map(upgrade, engines))  # a failure raises here
    assert {current_revision(engine) for engine in engines} == {head_revision()}
    for engine in engines:
        engine.dispose()
