"""Which input file a job read: its path, size, modification time and a fingerprint of its content.

A resumed job joins parts scored by earlier runs to the parts it scores now, so it must read the very file they
read: chunk k of an edited file is other rows. The identity is recorded when the job starts and checked again
at each resume; a change is named (what changed, from what to what), never resumed over.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

FINGERPRINT_BYTES = 1 << 20
"""The fingerprint reads this much at each end of the file: appends, truncations and rewritten headers show there,
at a cost that does not grow with the file."""


def ends_fingerprint(path: Path, size: int) -> str:
    """SHA-256 of the file's first and last MiB (of the whole file, when it is smaller than two): an edit that
    keeps the size and the modification time (a copy that preserves times, a clock set back) still shows."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        digest.update(handle.read(FINGERPRINT_BYTES))
        if size > FINGERPRINT_BYTES:
            handle.seek(max(FINGERPRINT_BYTES, size - FINGERPRINT_BYTES))
            digest.update(handle.read(FINGERPRINT_BYTES))
    return digest.hexdigest()


def timestamp(mtime_ns: int) -> str:
    return datetime.fromtimestamp(mtime_ns / 1e9, UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class InputIdentity:
    path: str
    size: int
    mtime_ns: int
    sha256_ends: str
    """ends_fingerprint of the file."""

    @classmethod
    def of(cls, path: Path) -> InputIdentity:
        stat = path.stat()
        return cls(str(path.resolve()), stat.st_size, stat.st_mtime_ns, ends_fingerprint(path, stat.st_size))

    def job_fields(self) -> dict[str, object]:
        """The identity as entries of the job's identity (job.json)."""
        return {
            "input": self.path,
            "input_size": self.size,
            "input_mtime_ns": self.mtime_ns,
            "input_sha256_ends": self.sha256_ends,
        }

    @classmethod
    def from_job(cls, job: dict[str, object]) -> InputIdentity | None:
        """The identity a job recorded, or None for a job that recorded no full one."""
        fields = ("input", "input_size", "input_mtime_ns", "input_sha256_ends")
        if not all(name in job for name in fields):
            return None
        return cls(*(job[name] for name in fields))

    def changes_since(self, earlier: InputIdentity) -> list[str]:
        """What changed in the same file since `earlier` was recorded, each change with its two values; nothing
        for another file (that is another job, not a changed input)."""
        if self.path != earlier.path:
            return []
        changes = []
        if self.size != earlier.size:
            changes.append(f"its size changed from {earlier.size:,} to {self.size:,} bytes")
        if self.mtime_ns != earlier.mtime_ns:
            changes.append(
                f"its modification time changed from {timestamp(earlier.mtime_ns)} to {timestamp(self.mtime_ns)}"
            )
        if self.sha256_ends != earlier.sha256_ends:
            changes.append(
                f"its content changed (SHA-256 of its first and last MiB {earlier.sha256_ends[:12]}… "
                f"now {self.sha256_ends[:12]}…)"
            )
        return changes
