"""The monitor's database: where it lives (DatabaseSettings, CLAIMSTANCE_DATA_DIR and CLAIMSTANCE_DATABASE_URL, read
alike by the service, `make monitor` and `make rescore`), an engine for it, and its schema brought to the newest by
Alembic.

SQLite is the default, a file in the data folder (absolute, outside any checkout or bento, so a new build or
`bentoml delete` leaves a desk's data alone); a PostgreSQL URL (`postgresql+psycopg://…`) moves the same code to a
server. On SQLite every connection turns foreign keys on, waits for a writer instead of failing at once, and writes
ahead with `synchronous=FULL`, so a committed ingest is on disk before it is answered and survives a kill. On
PostgreSQL a connection attempt, a statement and a wait for a lock each give up after their timeout.
"""

from __future__ import annotations

import os
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from filelock import FileLock
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).with_name("migrations")
ENV_PREFIX = "CLAIMSTANCE_"
DEFAULT_DATABASE_URL = "sqlite:///monitor.sqlite3"
"""A SQLite file in the data folder (a relative SQLite path is always read under it)."""


def default_data_dir() -> Path:
    """$XDG_DATA_HOME/claimstance, else ~/.local/share/claimstance: absolute, whatever folder a process runs in."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "claimstance"


class DatabaseError(ValueError):
    """A database URL that cannot be used, or a schema this code does not know; the message says which."""


class DatabaseSettings(BaseSettings):
    """Where the monitor's data lives and how long the database may keep a caller waiting: the service's settings
    inherit these, and `make monitor` and `make rescore` read the same variables."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, frozen=True, extra="ignore", case_sensitive=False, use_attribute_docstrings=True
    )

    data_dir: Path = Field(default_factory=default_data_dir)
    """The folder a relative SQLite path is read under (the default database is monitor.sqlite3 there)."""
    database_url: str = Field(default=DEFAULT_DATABASE_URL, min_length=1)
    """The monitor's database, as a SQLAlchemy URL: a SQLite file by default; `postgresql+psycopg://user:password@host/db`
    for a server."""
    connect_timeout_s: float = Field(default=10.0, gt=0)
    """How long a connection attempt may take (PostgreSQL), before the monitor's routes answer 503."""
    statement_timeout_s: float = Field(default=30.0, gt=0)
    """How long one statement may run on PostgreSQL before it is cancelled."""
    lock_timeout_s: float = Field(default=30.0, gt=0)
    """How long a statement waits for a lock another writer holds (PostgreSQL's lock_timeout, SQLite's busy
    timeout: a batch ingest writing beside the service)."""

    @property
    def url(self) -> URL:
        """The database URL, a relative SQLite path resolved under `data_dir`."""
        return resolved_url(self.database_url, self.data_dir)

    def engine(self) -> Engine:
        return monitor_engine(self.url, self)


def database_settings(url_flag: str = "") -> DatabaseSettings:
    """The settings the environment gives (CLAIMSTANCE_*), with a job's `--database_url` flag, where given, instead of
    CLAIMSTANCE_DATABASE_URL: `make monitor` and `make rescore` then find the service's database by default."""
    settings = DatabaseSettings()
    return settings.model_copy(update={"database_url": url_flag}) if url_flag else settings


def resolved_url(url: str | URL, data_dir: Path) -> URL:
    try:
        parsed = make_url(url)
    except Exception as error:  # SQLAlchemy raises ArgumentError, with the URL in its message
        raise DatabaseError(f"database_url {str(url)!r} is not a database URL: {error}") from None
    database = parsed.database
    if parsed.get_backend_name() == "sqlite" and database and database != ":memory:":
        path = Path(database).expanduser()
        parsed = parsed.set(database=str(path if path.is_absolute() else Path(data_dir).expanduser() / path))
    return parsed


def where(url: URL) -> str:
    """The database as a log line may name it: a file's path, or a server without its password."""
    if url.get_backend_name() == "sqlite":
        return f"SQLite file {url.database}"
    return url.render_as_string(hide_password=True)


def monitor_engine(url: str | URL, timeouts: DatabaseSettings | None = None) -> Engine:
    """An engine for `url` (a relative SQLite path read under the data folder); a SQLite file's folder is made if
    missing."""
    timeouts = timeouts or DatabaseSettings()
    parsed = resolved_url(url, timeouts.data_dir)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"timeout": timeouts.lock_timeout_s})
        busy_ms = round(timeouts.lock_timeout_s * 1000)
        event.listen(engine, "connect", lambda connection, _record: sqlite_pragmas(connection, busy_ms))
        return engine
    options = (
        f"-c statement_timeout={round(timeouts.statement_timeout_s * 1000)} "
        f"-c lock_timeout={round(timeouts.lock_timeout_s * 1000)}"
    )
    connect_args = {"connect_timeout": max(1, round(timeouts.connect_timeout_s)), "options": options}
    return create_engine(parsed, pool_pre_ping=True, pool_timeout=timeouts.connect_timeout_s, connect_args=connect_args)


def sqlite_pragmas(connection, busy_ms: int) -> None:
    cursor = connection.cursor()
    for pragma in ("foreign_keys = ON", "journal_mode = WAL", "synchronous = FULL", f"busy_timeout = {busy_ms}"):
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
    """Migrate the database to the newest schema (from empty, too), all of it in one transaction: a kill mid-way
    leaves the schema as it was, and the next start migrates again. What the service's workers and the batch jobs
    do first, so several may start at once: one migrates while the others wait (a lock file beside a SQLite file,
    an advisory lock on PostgreSQL), then finds the schema current."""
    config = alembic_config(engine)
    migrator = migration_engine(engine)
    try:
        with migration_lock(engine), migrator.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    finally:
        if migrator is not engine:
            migrator.dispose()


def migration_engine(engine: Engine) -> Engine:
    """`engine`, or for SQLite an engine on the same file whose transactions SQLAlchemy begins itself: Python's
    sqlite3 driver would commit before each statement that changes the schema, so a migration killed half-way would
    leave half a schema."""
    if engine.dialect.name != "sqlite":
        return engine
    own = create_engine(engine.url, connect_args={"timeout": SQLITE_MIGRATION_WAIT_S})

    @event.listens_for(own, "connect")
    def no_driver_transactions(connection, _record) -> None:
        connection.isolation_level = None
        connection.execute("PRAGMA foreign_keys = OFF")  # as Alembic's batch mode expects, while tables are copied

    @event.listens_for(own, "begin")
    def begin_immediately(connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return own


SQLITE_MIGRATION_WAIT_S = 60.0
"""How long a migration waits for a writer to finish (a batch ingest beside an upgrading service)."""


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
