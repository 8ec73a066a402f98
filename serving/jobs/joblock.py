"""One job at a time per output: a second `python -m serving.batch` on the same output is refused, naming the first.

Two jobs on one output would delete and rewrite each other's parts and progress in the work folder and race to
rename the outputs. So a job holds a lock on a hidden file beside the output, from before it reads the work
folder until the outputs are written and the folder removed, and writes who it is (pid, host, start time) in a
small file beside the lock, which the refusal quotes.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from errno import ENOSYS
from pathlib import Path

from filelock import FileLock, Timeout

from serving.jobs.durable import remove_stale_temporaries, write_atomically
from serving.jobs.options import JobInputError

ATTEMPTS = 3
"""Takes of the lock before giving up, each after the file locked was found removed by a job that just ended."""
HOLDER_WAIT_SECONDS = 2.0
"""How long a refused job waits for the holder's file, written just after the lock is taken."""
HOLDER_POLL_SECONDS = 0.05


@dataclass(frozen=True)
class LockHolder:
    """The job that holds an output's lock."""

    pid: int
    host: str
    started: str
    """ISO 8601, UTC."""

    @classmethod
    def this_process(cls) -> LockHolder:
        return cls(os.getpid(), socket.gethostname(), datetime.now(UTC).isoformat(timespec="seconds"))

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host}, started {self.started}"


def lock_path(output: Path) -> Path:
    return output.with_name(f".{output.name}.claimstance-lock")


def holder_path(output: Path) -> Path:
    return output.with_name(f".{output.name}.claimstance-lock.json")


def read_holder(output: Path, wait_seconds: float = HOLDER_WAIT_SECONDS) -> str:
    """Who holds the lock, as its holder file says. The holder writes that file just after taking the lock, so a
    job refused in that moment (two started together) waits a little for it."""
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            return LockHolder(**json.loads(holder_path(output).read_text(encoding="utf-8"))).describe()
        except (OSError, ValueError, TypeError):
            if time.monotonic() >= deadline:
                return f"its pid, host and start time not yet written to {holder_path(output)}"
        time.sleep(HOLDER_POLL_SECONDS)


class LockFileGone(Exception):
    """The lock file lost its name between this job opening it and locking it: the job before this one removed it
    as it ended, so the lock taken is on a file no other job can open; take it again, on the file now named."""


def named_lock_file(path: Path) -> Callable[[int], None]:
    """The check run on the locked descriptor: it must be the file that `path` names."""

    def check(descriptor: int) -> None:
        try:
            named = os.path.samestat(os.fstat(descriptor), os.stat(path))
        except FileNotFoundError:
            named = False
        if not named:
            raise LockFileGone(path)

    return check


def os_lock(output: Path) -> FileLock:
    """A FileLock, which on Linux is flock(2) on the lock file: the kernel drops it when its holder exits in any
    way, SIGKILL and a crash included, so a killed job never leaves a stale lock that refuses its own rerun. The
    soft (marker file) fallback filelock offers on file systems without flock is off for that reason: a killed
    job's marker would outlive it. A job removes the lock file as it ends (while still holding it), so each new
    lock is checked to be on the file the path names."""
    path = lock_path(output)
    return FileLock(path, blocking=False, fallback_to_soft=False, thread_local=False, on_acquired=named_lock_file(path))


def take(lock: FileLock, output: Path) -> None:
    """The lock taken, or a JobInputError naming the job that holds it."""
    for _ in range(ATTEMPTS):
        try:
            lock.acquire()
            return
        except LockFileGone:
            continue
        except Timeout:
            raise refused(output) from None
        except OSError as error:
            if error.errno == ENOSYS:
                raise no_os_locks(output) from error
            raise
    raise refused(output)


def refused(output: Path) -> JobInputError:
    return JobInputError(
        f"{output}: another batch job is writing this output ({read_holder(output)}); wait for it to end, or stop "
        "it and run this command again to resume its work"
    )


def no_os_locks(output: Path) -> JobInputError:
    return JobInputError(
        f"{output.parent}: this file system has no OS file locks (flock), which keep a second job off an output "
        "a job is writing; write the output to a local disk"
    )


@contextmanager
def output_lock(output: Path) -> Iterator[LockHolder]:
    """Held for the block; a second job on `output` meanwhile gets a JobInputError naming this one.

    On the way out the holder file and the lock file are removed while the lock is still held (a job that opened
    the file before that takes the lock again on the new one: named_lock_file); a killed job leaves both behind,
    and its rerun takes the lock and rewrites them."""
    output.parent.mkdir(parents=True, exist_ok=True)
    lock = os_lock(output)
    take(lock, output)
    holder = LockHolder.this_process()
    try:
        remove_stale_temporaries(holder_path(output))
        write_atomically(holder_path(output), json.dumps(asdict(holder)))
        yield holder
    finally:
        holder_path(output).unlink(missing_ok=True)
        lock_path(output).unlink(missing_ok=True)
        lock.release()
