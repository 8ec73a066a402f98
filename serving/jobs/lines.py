"""Reading a job's input line by line without holding a line past its limit: how many lines a file has, and each
line, or its length where it is longer than the reader allows."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO


def count_lines(path: Path) -> int:
    lines, last = 0, b"\n"
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            lines += block.count(b"\n")
            last = block[-1:]
    return lines + (last != b"\n")


@dataclass(frozen=True)
class OverlongLine:
    """A line over a reader's limit: how long it was. It was read past in pieces, never held whole."""

    length: int
    """Bytes, its line break left out."""


def bounded_lines(handle: BinaryIO, max_bytes: int) -> Iterator[bytes | OverlongLine]:
    """The lines of a binary file, as iterating over it gives them, except that a line over `max_bytes` (its line
    break, \\n or \\r\\n, left out) comes out as its length: the limit is checked before the memory is spent."""
    while line := handle.readline(max_bytes + 2):
        if line.endswith(b"\n") or len(line) <= max_bytes:  # the whole line
            yield line if without_break(line) <= max_bytes else OverlongLine(without_break(line))
            continue
        length, tail = len(line), line[-2:]
        while not tail.endswith(b"\n") and (piece := handle.readline(1 << 20)):
            length, tail = length + len(piece), (tail + piece)[-2:]
        yield OverlongLine(length - (len(tail) - without_break(tail)))


def without_break(line: bytes) -> int:
    """A line's length without its line break (\\n or \\r\\n)."""
    return len(line) - (2 if line.endswith(b"\r\n") else 1 if line.endswith(b"\n") else 0)
