"""Writes that survive a crash or a power cut: written under a unique name, flushed, renamed, the rename flushed.

Every file the job commits (a chunk's parts, `progress.json`, the outputs) is written to a new file of its own
beside the destination, flushed to disk (fsync), renamed over the destination, and then the folder is flushed
too: a rename is an entry in the folder, and a power cut can lose it even after the file's data reached the disk.
The temporary name is unique, not a fixed `.tmp`, so two writers of one destination never write into one file.
"""

from __future__ import annotations

import glob
import os
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

TEMPORARY_SUFFIX = ".tmp"
TEMPORARY_NAME = re.compile(rf"[0-9a-f]{{16}}{re.escape(TEMPORARY_SUFFIX)}")
"""What follows `.{destination's name}.` in a temporary file's name."""


def temporary_beside(destination: Path) -> Path:
    """A new empty file in the destination's folder (a rename never crosses file systems), under a name no other
    writer holds: O_EXCL refuses a name taken. Not `mkstemp`, whose files only their owner may read: the outputs
    keep the permissions any new file gets (the umask's)."""
    while True:
        candidate = destination.with_name(f".{destination.name}.{secrets.token_hex(8)}{TEMPORARY_SUFFIX}")
        try:
            os.close(os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        return candidate


def remove_stale_temporaries(destination: Path) -> None:
    """Temporary files of `destination` left by a writer killed before its rename. Only for a caller that alone
    writes `destination` (the job holding the output's lock): another writer's file in progress would go too."""
    for path in destination.parent.glob(f".{glob.escape(destination.name)}.*{TEMPORARY_SUFFIX}"):
        if TEMPORARY_NAME.fullmatch(path.name.removeprefix(f".{destination.name}.")):
            path.unlink(missing_ok=True)


def fsync_file(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def fsync_directory(folder: Path) -> None:
    """The folder's entries (names created, renamed or removed in it) flushed to disk."""
    fsync_file(folder)


def replace_durably(temporary: Path, destination: Path) -> None:
    """`temporary`, flushed, becomes `destination`; then the rename is flushed with the folder."""
    fsync_file(temporary)
    os.replace(temporary, destination)
    fsync_directory(destination.parent)


@contextmanager
def atomic_file(destination: Path) -> Iterator[Path]:
    """A unique temporary path to write; it becomes `destination`, durably, only if the block succeeds."""
    temporary = temporary_beside(destination)
    try:
        yield temporary
        replace_durably(temporary, destination)
    finally:
        temporary.unlink(missing_ok=True)


def write_atomically(path: Path, text: str) -> None:
    with atomic_file(path) as temporary:
        temporary.write_text(text, encoding="utf-8")
