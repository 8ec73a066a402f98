"""A bounded HTTP load generator: N concurrent clients posting JSON bodies, with latency percentiles."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import numpy as np


@dataclass
class LoadResult:
    concurrency: int
    requests: int
    pairs: int
    seconds: float
    latencies_ms: list[float]
    statuses: dict[int, int]
    """Count of each HTTP status; transport failures (refused, timed out) count as status 0."""

    @property
    def errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status != 200)

    def summary(self) -> dict[str, float | int | dict]:
        ok = np.asarray(self.latencies_ms) if self.latencies_ms else np.zeros(1)
        return {
            "concurrency": self.concurrency,
            "requests": self.requests,
            "pairs_per_s": round(self.pairs / self.seconds, 1),
            "requests_per_s": round(self.requests / self.seconds, 1),
            "p50_ms": round(float(np.percentile(ok, 50)), 2),
            "p95_ms": round(float(np.percentile(ok, 95)), 2),
            "p99_ms": round(float(np.percentile(ok, 99)), 2),
            "errors": self.errors,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
        }


class RawHttpClient:
    """A minimal HTTP/1.1 keep-alive client on asyncio streams.

    The load generator shares the two cores with the server it measures; httpx spends ~3 ms of CPU
    per request here, this spends a small fraction of that, so the figures are the server's. It
    speaks only what the benchmark needs: POST with a JSON body, a Content-Length response.
    """

    def __init__(self, host: str, port: int, timeout_s: float) -> None:
        self.host, self.port, self.timeout = host, port, timeout_s
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes) -> int:
        """Send one request and read the whole answer; returns the status (0 on a broken connection)."""
        try:
            return await asyncio.wait_for(self._post(path, body), self.timeout)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ValueError, IndexError):
            await self.close()
            return 0

    async def _post(self, path: str, body: bytes) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        assert self.reader is not None
        header = await self.reader.readuntil(b"\r\n\r\n")
        lines = header.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        fields = dict(line.split(":", 1) for line in lines[1:] if ":" in line)
        lowered = {k.strip().lower(): v.strip() for k, v in fields.items()}
        if "transfer-encoding" in lowered or ("content-length" not in lowered and status != 204):
            raise ValueError("only Content-Length answers are read")  # the connection is closed, status 0
        length = int(lowered.get("content-length", "0"))
        await self.reader.readexactly(length)
        if lowered.get("connection", "").lower() == "close":
            await self.close()
        return status

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


async def run_load(
    url: str,
    bodies: Sequence[dict | list],
    concurrency: int,
    max_requests: int,
    max_seconds: float,
    pairs_per_body: Callable[[dict | list], int] = lambda body: 1,
    timeout_s: float = 30.0,
) -> LoadResult:
    """Each of `concurrency` clients posts the next body as soon as its last answer came back.

    Stops at `max_requests` or `max_seconds`, whichever comes first. Latencies are of 200 answers only.
    """
    target = urlsplit(url)
    encoded = [json.dumps(body).encode() for body in bodies]
    statuses: Counter[int] = Counter()
    latencies: list[float] = []
    pairs = 0
    sent = 0
    deadline = time.perf_counter() + max_seconds

    async def client() -> None:
        nonlocal sent, pairs
        http = RawHttpClient(target.hostname or "127.0.0.1", target.port or 80, timeout_s)
        while sent < max_requests and time.perf_counter() < deadline:
            index = sent % len(bodies)
            sent += 1
            started = time.perf_counter()
            status = await http.post(target.path, encoded[index])
            statuses[status] += 1
            if status == 200:
                latencies.append((time.perf_counter() - started) * 1000)
                pairs += pairs_per_body(bodies[index])
        await http.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    seconds = time.perf_counter() - started
    return LoadResult(concurrency, sum(statuses.values()), pairs, seconds, latencies, dict(statuses))
