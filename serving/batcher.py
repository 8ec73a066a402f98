"""Adaptive micro-batching: concurrent requests are merged into one model call, answers split back.

While the model scores one batch, new requests queue; when it is free, everything queued (up to
`max_batch_size` pairs) goes as the next batch. Under light load a request is scored at once, alone;
under heavy load batches grow by themselves. The predictor sorts each batch by length, so merged
requests pad only to their neighbours. A queue whose estimated wait passes the latency budget
refuses new work (`Overloaded`), so the service answers 503 at once instead of timing out.
"""

from __future__ import annotations

import asyncio
import time
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
    building answers) overlaps the other's model time, which keeps both cores busy.
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
        self._queue: asyncio.Queue[_Request[Item, Result]] | None = None
        self._queued_items = 0
        self._held: _Request[Item, Result] | None = None
        """A request that did not fit the last batch: it opens the next one."""
        self._executor = ThreadPoolExecutor(max_workers=len(self.scorers), thread_name_prefix="claimstance-model")
        self._lanes: list[asyncio.Task[None]] = []

    def estimated_wait(self) -> float:
        return self._queued_items * self.stats.seconds_per_item / len(self.scorers)

    async def submit(self, items: Sequence[Item]) -> list[Result]:
        """Results for `items`, in their order, once the batch holding them has run."""
        if not items:
            return []
        if self._queue is None:
            self._queue = asyncio.Queue()
            loop = asyncio.get_running_loop()
            self._lanes = [loop.create_task(self._run(score)) for score in self.scorers]
        if self.estimated_wait() > self.max_queue:
            raise Overloaded(
                f"queue wait {self.estimated_wait() * 1000:.0f} ms is over the budget of {self.max_queue * 1000:.0f} ms"
            )
        request = _Request(items, asyncio.get_running_loop().create_future())
        self._queued_items += len(items)
        self._queue.put_nowait(request)
        return await request.future

    async def _next_batch(self) -> list[_Request[Item, Result]]:
        assert self._queue is not None
        held, self._held = self._held, None
        batch = [held if held is not None else await self._queue.get()]
        size = len(batch[0].items)
        deadline = time.monotonic() + self.batch_wait
        while size < self.max_batch_size:
            if self._queue.empty():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    request = await asyncio.wait_for(self._queue.get(), remaining)
                except TimeoutError:
                    break
            else:
                request = self._queue.get_nowait()
            if size + len(request.items) > self.max_batch_size:
                self._held = request
                break
            batch.append(request)
            size += len(request.items)
        return batch

    async def _run(self, score: Callable[[list[Item]], list[Result]]) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = await self._next_batch()
            items = [item for request in batch for item in request.items]
            self._queued_items -= len(items)
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
