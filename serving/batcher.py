"""Adaptive micro-batching: concurrent requests are merged into one model call, answers split back.

While the model scores one batch, new requests queue; when a lane is free, everything queued (up to
`max_batch_size` pairs) goes as its next batch. Under light load a request is scored at once, alone;
under heavy load batches grow by themselves. The predictor sorts each batch by length, so merged
requests pad only to their neighbours. A queue whose estimated wait passes the latency budget
refuses new work (`Overloaded`), so the service answers 503 at once instead of timing out.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class Overloaded(RuntimeError):
    """The queue's estimated wait is over the latency budget."""


@dataclass
class _Request(Generic[Item, Result]):
    items: Sequence[Item]
    future: asyncio.Future[list[Result]]


@dataclass
class BatchStats:
    batches: int = 0
    items: int = 0
    largest: int = 0
    recent_seconds: float = 0.0
    recent_items: float = 0.0
    """Exponentially decayed totals of model time and items: their ratio estimates the queue's wait."""

    @property
    def seconds_per_item(self) -> float:
        return self.recent_seconds / self.recent_items if self.recent_items else 0.0


class MicroBatcher(Generic[Item, Result]):
    """Runs `score(items) -> results` (same length, same order) in merged batches, one thread per scorer.

    With two scorers (two model copies on one thread each), one batch's Python work (tokenizing,
    building answers) overlaps the other's model time, which keeps both cores busy. All lanes take
    from one first-in-first-out queue; a request that does not fit a batch stays at its head.
    """

    def __init__(
        self,
        scorers: Sequence[Callable[[list[Item]], list[Result]]],
        max_batch_size: int = 64,
        batch_wait_ms: float = 0.0,
        max_queue_ms: float = 2000.0,
    ) -> None:
        self.scorers = list(scorers)
        self.max_batch_size = max_batch_size
        self.batch_wait = batch_wait_ms / 1000
        self.max_queue = max_queue_ms / 1000
        self.stats = BatchStats()
        self._pending: deque[_Request[Item, Result]] = deque()
        self._queued_items = 0
        self._arrived: asyncio.Event | None = None
        self._executor = ThreadPoolExecutor(max_workers=len(self.scorers), thread_name_prefix="claimstance-model")
        self._lanes: list[asyncio.Task[None]] = []

    def estimated_wait(self) -> float:
        return self._queued_items * self.stats.seconds_per_item / len(self.scorers)

    async def submit(self, items: Sequence[Item]) -> list[Result]:
        """Results for `items`, in their order, once the batch holding them has run."""
        if not items:
            return []
        if self._arrived is None:
            self._arrived = asyncio.Event()
            loop = asyncio.get_running_loop()
            self._lanes = [loop.create_task(self._run(score)) for score in self.scorers]
        if self.estimated_wait() > self.max_queue:
            raise Overloaded(
                f"queue wait {self.estimated_wait() * 1000:.0f} ms is over the budget of {self.max_queue * 1000:.0f} ms"
            )
        request = _Request(items, asyncio.get_running_loop().create_future())
        self._queued_items += len(items)
        self._pending.append(request)
        self._arrived.set()
        return await request.future

    def _take_fitting(self, batch: list[_Request[Item, Result]], size: int) -> int:
        """Move queued requests into `batch` while they fit; callers that are gone are dropped unscored."""
        while self._pending and (not batch or size + len(self._pending[0].items) <= self.max_batch_size):
            request = self._pending.popleft()
            self._queued_items -= len(request.items)
            if request.future.done():  # cancelled: the caller timed out or went away
                continue
            batch.append(request)
            size += len(request.items)
        return size

    async def _next_batch(self) -> list[_Request[Item, Result]]:
        assert self._arrived is not None
        batch: list[_Request[Item, Result]] = []
        size = 0
        deadline: float | None = None
        while True:
            size = self._take_fitting(batch, size)
            if batch and (self._pending or size >= self.max_batch_size):
                return batch  # full, or the next request does not fit: it stays first in line
            timeout = None
            if batch:
                deadline = deadline if deadline is not None else time.monotonic() + self.batch_wait
                timeout = deadline - time.monotonic()
                if timeout <= 0:
                    return batch
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), timeout)
            except TimeoutError:
                return batch

    async def _run(self, score: Callable[[list[Item]], list[Result]]) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = await self._next_batch()
            if self._pending and self._arrived is not None:
                self._arrived.set()  # more is queued: wake another free lane for it
            items = [item for request in batch for item in request.items]
            started = time.perf_counter()
            try:
                results = await loop.run_in_executor(self._executor, score, items)
            except Exception as error:  # the callers get the error; the batcher keeps serving
                for request in batch:
                    if not request.future.done():
                        request.future.set_exception(error)
                continue
            self._record(len(items), time.perf_counter() - started)
            start = 0
            for request in batch:
                end = start + len(request.items)
                if not request.future.done():  # a caller that went away
                    request.future.set_result(results[start:end])
                start = end

    def _record(self, size: int, seconds: float) -> None:
        stats = self.stats
        stats.recent_seconds = 0.9 * stats.recent_seconds + seconds
        stats.recent_items = 0.9 * stats.recent_items + size
        stats.batches += 1
        stats.items += size
        stats.largest = max(stats.largest, size)
