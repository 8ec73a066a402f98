"""A throwaway PostgreSQL server on this machine, for the tests and the monitor's benchmarks: Debian's binaries
(`make setup` installs them), a cluster in a temporary folder, a free port on 127.0.0.1, gone when done. As root,
the server runs as the `postgres` user (PostgreSQL refuses root)."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def postgres_binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def free_port() -> int:
    """A port nothing listens on now (the OS's pick)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def throwaway_postgres(durable: bool = False) -> Iterator[str]:
    """The server's URL without a database name; `durable`: with fsync on, as a deployment runs (tests turn it off
    for speed). RuntimeError where PostgreSQL is not installed."""
    binaries = postgres_binaries()
    if binaries is None:
        raise RuntimeError("PostgreSQL is not installed here (make setup installs Debian's postgresql)")
    folder = Path(tempfile.mkdtemp(prefix="claimstance-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = folder / "data", free_port()
    initdb = [*as_user, str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "claimstance", "--no-sync"]
    subprocess.run(initdb, check=True, capture_output=True)
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1" + ("" if durable else " -c fsync=off")
    start = [*as_user, str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(folder / "log"), "-w"]
    subprocess.run([*start, "start"], check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://claimstance@127.0.0.1:{port}"
    finally:
        subprocess.run([*start[:-1], "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def fresh_database(server: str) -> str:
    """A new, empty database on the server: each test (or benchmark) its own."""
    from sqlalchemy import text

    from serving.monitor.database import monitor_engine

    name = f"monitor_{uuid.uuid4().hex[:12]}"
    admin = monitor_engine(f"{server}/postgres").execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"{server}/{name}"
