from concurrent.futures import ThreadPoolExecutor

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from serving.monitor.database import (
    DatabaseError,
    alembic_config,
    current_revision,
    head_revision,
    monitor_engine,
    upgrade,
)
from serving.monitor.tables import Base


def test_migrations_from_empty_build_exactly_the_tables_the_code_declares(engine):
    assert current_revision(engine) == head_revision() == "0002"
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


def test_the_upgrade_from_0001_fills_tags_changes_and_strengths(database_url):
    engine = monitor_engine(database_url)
    with engine.begin() as connection:
        config = alembic_config(engine)
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
        connection.execute(
            text("INSERT INTO claims (id, text, tags, created_at) VALUES ('c', 'A claim', :tags, '2026-01-01')"),
            {"tags": '["a", "b"]'},
        )
        connection.execute(
            text(
                "INSERT INTO documents (id, text, source, published_day, content_sha256, ingested_at) "
                "VALUES ('d', 't', 'Wire', '2015-10-01', 'h', '2026-01-01')"
            )
        )
        evidence = (
            '[{"text": "x", "start": 0, "end": 1, "field": "text", "label": "disputing", '
            '"scores": {"asserting": 0.1, "disputing": 0.8, "reporting": 0.1}}]'
        )
        connection.execute(
            text("INSERT INTO answers (document_id, claim_id, model, similarity, label, relevance, scores, evidence, "
                 "text_reduced, created_at) VALUES ('d', 'c', 'm', 0.5, 'disputing', 0.9, :scores, :evidence, false, "
                 "'2026-01-01')"),
            {"scores": '{"asserting": 0.1, "disputing": 0.7, "reporting": 0.2}', "evidence": evidence},
        )  # fmt: skip
    upgrade(engine)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT tag FROM claim_tags ORDER BY tag")).scalars().all() == ["a", "b"]
        assert connection.execute(text("SELECT claim_id FROM claim_changes")).scalars().all() == ["c"]
        row = connection.execute(text("SELECT label_score, asserting_strength, disputing_strength FROM answers")).one()
        copied = connection.execute(text("SELECT source, published_day FROM answers")).one()
    assert tuple(row) == (pytest.approx(0.7), None, pytest.approx(0.8))
    assert (copied[0], str(copied[1])) == ("Wire", "2015-10-01")
    engine.dispose()


def test_a_migration_that_fails_half_way_leaves_the_schema_as_it_was(database_url, monkeypatch):
    """A kill mid-migration (here: an error after its first tables are made) must not leave half a schema that stops
    every later start: the upgrade is one transaction."""
    engine = monitor_engine(database_url)
    with engine.begin() as connection:
        config = alembic_config(engine)
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")

    real = Operations.create_index

    def killed(self, name, *args, **kwargs):
        if name == "ix_answers_pair":  # after the new tables and columns, before the data is filled in
            raise RuntimeError("killed")
        return real(self, name, *args, **kwargs)

    monkeypatch.setattr(Operations, "create_index", killed)
    with pytest.raises(RuntimeError, match="killed"):
        upgrade(engine)
    assert current_revision(engine) == "0001"
    assert "claim_tags" not in inspect(engine).get_table_names()
    monkeypatch.undo()
    upgrade(engine)
    assert current_revision(engine) == "0002"
    engine.dispose()
