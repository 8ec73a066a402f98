"""The monitor's database: an engine for CLAIMSTANCE_DATABASE_URL, brought to the newest schema by Alembic.

SQLite is the default, a file under a data folder; a PostgreSQL URL (`postgresql+psycopg://…`) moves the same code to
a server. On SQLite every connection turns foreign keys on, waits for a writer instead of failing at once, and
writes ahead with `synchronous=FULL`, so a committed ingest is on disk before it is answered and survives a kill.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from filelock import FileLock
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).with_name("migrations")
DEFAULT_DATABASE_URL = "sqlite:///data/monitor.sqlite3"
"""A SQLite file under the data folder of the directory the service or job runs in."""
SQLITE_BUSY_TIMEOUT_MS = 30_000
"""How long a connection waits for another process's write (a batch ingest beside the service) before failing."""


class DatabaseError(ValueError):
    """A database URL that cannot be used, or a schema this code does not know; the message says which."""


def monitor_engine(url: str) -> Engine:
    """An engine for `url`; a SQLite file's folder is made if missing."""
    try:
        parsed = make_url(url)
    except Exception as error:  # SQLAlchemy raises ArgumentError, with the URL in its message
        raise DatabaseError(f"database_url {url!r} is not a database URL: {error}") from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", sqlite_pragmas)
        return engine
    return create_engine(parsed, pool_pre_ping=True)


def sqlite_pragmas(connection, _record) -> None:
    cursor = connection.cursor()
    for pragma in (
        "foreign_keys = ON",
        "journal_mode = WAL",
        "synchronous = FULL",
        f"busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}",
    ):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


MIGRATION_LOCK_KEY = 0x636C61696D
"""PostgreSQL advisory lock taken while migrating ("claim" in ASCII)."""


def upgrade(engine: Engine) -> None:
    """Migrate the database to the newest schema (from empty, too): what the service's workers and the batch jobs
    do first, so several may start at once. One migrates while the others wait (a lock file beside a SQLite file,
    an advisory lock on PostgreSQL), then finds the schema current."""
    config = alembic_config(engine)
    with migration_lock(engine), engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def migration_lock(engine: Engine) -> AbstractContextManager:
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database and database != ":memory:":
        return FileLock(f"{Path(database).expanduser()}.migrate.lock")
    return nullcontext()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config(None)).get_current_head()


def sessions(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
