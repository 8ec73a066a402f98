"""Adaptive micro-batching: concurrent requests are merged into one model call, answers split back.

While the model scores one batch, new requests queue; when a scorer is free, everything queued (up to
`max_batch_size` pairs) goes as its next batch. Under light load a request is scored at once, alone;
under heavy load batches grow by themselves. The predictor sorts each batch by length, so merged
requests pad only to their neighbours. A queue whose estimated wait passes the latency budget
refuses new work (`Overloaded`), so the service answers 503 at once instead of timing out.

Bulk work (the documents of one `/track` call) is cut into small requests of its own queue, taken when no
single prediction waits, and never merged with one: a tracking call of hundreds of articles then delays a
`/predict` by at most one small bulk batch per scorer, instead of making it wait behind all of them. Under a
steady stream of single predictions, one bulk batch still goes every `max_bulk_delay_ms`, so a tracking call
always finishes. While single predictions are coming, bulk work holds at most all scorers but one, so a single
prediction finds a scorer free rather than waiting behind an article. A bulk call is admitted by what that share
of the scorers will really take: the scorers' recent load from single predictions is measured, and the bulk queue's
wait is estimated at what remains of their time (never less than the guaranteed one batch per
`max_bulk_delay_ms`).

A request whose caller went away (its task cancelled: serving/cancellation.py) leaves the queue at once. A batch
whose scoring fails is scored again request by request, so only the request that caused the failure gets it.

BentoML's own `@bentoml.api(batchable=True)` batches across requests too, but it merges every caller into one
queue with one latency budget, and cannot put one route's work behind another's: this batcher can.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class Overloaded(RuntimeError):
    """The queue's estimated wait is over the latency budget."""


SINGLE_TRAFFIC_SCORERS = 0.005
"""Single predictions keep this share of a scorer busy (10 ms of model time in ~2 s) or more: one scorer is kept for
them."""


def refuse_past_budget(queue: str, wait: float, budget: float) -> None:
    if wait > budget:
        raise Overloaded(f"{queue} wait {wait * 1000:.0f} ms is over the budget of {budget * 1000:.0f} ms")


@dataclass
class _Request(Generic[Item, Result]):
    items: Sequence[Item]
    future: asyncio.Future[list[Result]]
    bulk: bool = False


@dataclass
class BusyRate:
    """Model seconds spent per wall second on one kind of work, averaged over the last `horizon` seconds or so
    (an exponentially weighted rate: it falls back to 0 by itself when that work stops)."""

    horizon: float = 2.0
    busy: float = 0.0
    updated: float = field(default_factory=time.monotonic)

    def add(self, seconds: float) -> None:
        self.busy = self.decayed() + seconds
        self.updated = time.monotonic()

    def decayed(self) -> float:
        return self.busy * math.exp(-(time.monotonic() - self.updated) / self.horizon)

    @property
    def scorers_busy(self) -> float:
        return self.decayed() / self.horizon


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


def settle(
    request: _Request[Item, Result], results: list[Result] | None = None, error: Exception | None = None
) -> None:
    """Give a caller its results or its error, unless it went away meanwhile."""
    if request.future.done():
        return
    if error is not None:
        request.future.set_exception(error)
    else:
        request.future.set_result(results or [])


class MicroBatcher(Generic[Item, Result]):
    """Runs `score(items) -> results` (same length, same order) in merged batches, one thread per scorer.

    With two scorers (two model copies on one thread each), one batch's Python work (tokenizing,
    building answers) overlaps the other's model time, which keeps both cores busy. All scorers take
    from one first-in-first-out queue; a request that does not fit a batch stays at its head.
    """

    def __init__(
        self,
        scorers: Sequence[Callable[[list[Item]], list[Result]]],
        max_batch_size: int = 64,
        batch_wait_ms: float = 0.0,
        max_queue_ms: float = 2000.0,
        bulk_batch_size: int = 4,
        max_bulk_queue_ms: float = 30000.0,
        max_bulk_delay_ms: float = 250.0,
        on_queue_change: Callable[[int, int], None] | None = None,
    ) -> None:
        self.scorers = list(scorers)
        self.max_batch_size = max_batch_size
        self.batch_wait = batch_wait_ms / 1000
        self.max_queue = max_queue_ms / 1000
        self.bulk_batch_size = bulk_batch_size
        self.max_bulk_queue = max_bulk_queue_ms / 1000
        self.max_bulk_delay = max_bulk_delay_ms / 1000
        self._bulk_served = 0.0
        """When bulk work last went to a scorer (or, if none was queued then, when some arrived)."""
        self.stats = BatchStats()
        self.bulk_stats = BatchStats()
        """Bulk items (whole articles) take longer than single pairs: their waits are estimated apart."""
        self.single_load = BusyRate()
        """How many scorers single predictions keep busy now: bulk work gets the rest."""
        self._bulk_running = 0
        self.on_queue_change = on_queue_change
        """Told (single items queued, bulk items queued) whenever either changes: the service's queue gauges."""
        self._pending: deque[_Request[Item, Result]] = deque()
        self._bulk: deque[_Request[Item, Result]] = deque()
        self._queued_items = 0
        self._queued_bulk_items = 0
        self._arrived: asyncio.Event | None = None
        self._executor = ThreadPoolExecutor(max_workers=len(self.scorers), thread_name_prefix="claimstance-model")
        self._runners: list[asyncio.Task[None]] = []

    def estimated_wait(self) -> float:
        """Of a single prediction: only the other single predictions are ahead of it."""
        return self._queued_items * self.stats.seconds_per_item / len(self.scorers)

    def estimated_bulk_wait(self, more_items: int = 0) -> float:
        """Of bulk work with `more_items` of its own, at the pace bulk work gets beside single predictions now: the
        scorers they leave free, but at least one bulk batch per `max_bulk_delay` (single predictions' pace stands in
        for bulk's own until bulk has one)."""
        items = self._queued_bulk_items + more_items
        pace = self.bulk_items_per_second()
        return items / pace if pace and items else 0.0

    def bulk_items_per_second(self) -> float | None:
        """Bulk items scored a second now (None: no work timed yet, so no estimate)."""
        seconds_per_item = self.bulk_stats.seconds_per_item or self.stats.seconds_per_item
        if not seconds_per_item:
            return None
        free_scorers = min(max(0.0, len(self.scorers) - self.single_load.scorers_busy), self.bulk_scorers())
        return max(free_scorers / seconds_per_item, self.bulk_batch_size / self.max_bulk_delay)

    def bulk_capacity(self) -> int | None:
        """The most bulk items one call could have scored within the bulk budget, were nothing else queued: past it,
        a call is too large ever to be taken, however long its caller waits (None: no estimate yet)."""
        pace = self.bulk_items_per_second()
        return None if pace is None else max(1, int(self.max_bulk_queue * pace))

    def bulk_scorers(self) -> int:
        """Scorers bulk work may hold at once: every scorer, or all but one while single predictions are coming."""
        scorers = len(self.scorers)
        return scorers - 1 if scorers > 1 and self.single_load.scorers_busy > SINGLE_TRAFFIC_SCORERS else scorers

    def _start(self) -> None:
        if self._arrived is None:
            self._arrived = asyncio.Event()
            loop = asyncio.get_running_loop()
            self._runners = [loop.create_task(self._run(score)) for score in self.scorers]

    def _enqueue(self, items: Sequence[Item], bulk: bool) -> asyncio.Future[list[Result]]:
        request = _Request(items, asyncio.get_running_loop().create_future(), bulk)
        if bulk:
            if not self._bulk:
                self._bulk_served = time.monotonic()
            self._queued_bulk_items += len(items)
            self._bulk.append(request)
        else:
            self._queued_items += len(items)
            self._pending.append(request)
        self._queues_changed()
        assert self._arrived is not None
        self._arrived.set()
        return request.future

    async def submit(self, items: Sequence[Item]) -> list[Result]:
        """Results for `items`, in their order, once the batch holding them has run."""
        if not items:
            return []
        self._start()
        refuse_past_budget("queue", self.estimated_wait(), self.max_queue)
        future = self._enqueue(items, bulk=False)
        try:
            return await future
        except asyncio.CancelledError:
            future.cancel()
            self._drop_cancelled()
            raise

    async def submit_bulk(self, items: Sequence[Item]) -> list[Result]:
        """Results for many `items`, in their order: scored `bulk_batch_size` at a time, between single
        predictions. Refused whole (`Overloaded`) when the bulk queue's wait, these items included, is over its
        budget."""
        if not items:
            return []
        self._start()
        refuse_past_budget("bulk queue", self.estimated_bulk_wait(len(items)), self.max_bulk_queue)
        size = self.bulk_batch_size
        futures = [self._enqueue(items[start : start + size], bulk=True) for start in range(0, len(items), size)]
        try:
            parts = await asyncio.gather(*futures)
        except BaseException:
            for future in futures:
                future.cancel()
            self._drop_cancelled()
            raise
        return [result for part in parts for result in part]

    def _drop_cancelled(self) -> None:
        """A caller that failed or went away takes its queued items (and its share of the wait) with it."""
        self._pending = deque(request for request in self._pending if not request.future.done())
        self._bulk = deque(request for request in self._bulk if not request.future.done())
        self._queued_items = sum(len(request.items) for request in self._pending)
        self._queued_bulk_items = sum(len(request.items) for request in self._bulk)
        self._queues_changed()

    def _queues_changed(self) -> None:
        if self.on_queue_change is not None:
            self.on_queue_change(self._queued_items, self._queued_bulk_items)

    def _take_fitting(self, batch: list[_Request[Item, Result]], size: int) -> int:
        """Move queued requests into `batch` while they fit: single predictions first, merged; a bulk request
        only into an empty batch, alone, when no single prediction waits or bulk work has waited
        `max_bulk_delay`, and a scorer is free for bulk work (`bulk_scorers`). Callers that are gone are dropped
        unscored."""
        while not (batch and batch[0].bulk):
            queue = self._pending if (batch or self._pending and not self._bulk_due()) else self._bulk
            if not queue or (batch and size + len(queue[0].items) > self.max_batch_size):
                break
            if queue is self._bulk and self._bulk_running >= self.bulk_scorers():
                break
            request = queue.popleft()
            if request.bulk:
                self._queued_bulk_items -= len(request.items)
                self._bulk_served = time.monotonic()
            else:
                self._queued_items -= len(request.items)
            self._queues_changed()
            if request.future.done():  # cancelled: the caller timed out or went away
                continue
            batch.append(request)
            size += len(request.items)
        return size

    def _bulk_due(self) -> bool:
        return bool(self._bulk) and time.monotonic() - self._bulk_served >= self.max_bulk_delay

    async def _next_batch(self) -> list[_Request[Item, Result]]:
        assert self._arrived is not None
        batch: list[_Request[Item, Result]] = []
        size = 0
        deadline: float | None = None
        while True:
            size = self._take_fitting(batch, size)
            if batch and (batch[0].bulk or self._pending or self._bulk or size >= self.max_batch_size):
                return batch  # full, bulk, or more is queued: what did not fit stays first in line
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
            if (self._pending or self._bulk) and self._arrived is not None:
                self._arrived.set()  # more is queued: wake another free scorer for it
            items = [item for request in batch for item in request.items]
            bulk = batch[0].bulk
            self._bulk_running += bulk
            started = time.perf_counter()
            try:
                results = await loop.run_in_executor(self._executor, score, items)
            except Exception as error:
                await self._score_alone(score, batch, error)
                continue
            finally:
                self._bulk_running -= bulk
                if bulk and self._bulk and self._arrived is not None:
                    self._arrived.set()  # a scorer kept from bulk work may take it now
            seconds = time.perf_counter() - started
            if not bulk:
                self.single_load.add(seconds)
            self._record(self.bulk_stats if bulk else self.stats, len(items), seconds)
            start = 0
            for request in batch:
                end = start + len(request.items)
                settle(request, results=results[start:end])
                start = end

    async def _score_alone(
        self, score: Callable[[list[Item]], list[Result]], batch: list[_Request[Item, Result]], error: Exception
    ) -> None:
        """A failed batch of several requests is scored again one request at a time, so that one bad request fails
        only its own caller; the batcher keeps serving either way."""
        if len(batch) == 1:
            settle(batch[0], error=error)
            return
        loop = asyncio.get_running_loop()
        for request in batch:
            if request.future.done():
                continue
            try:
                results = await loop.run_in_executor(self._executor, score, list(request.items))
            except Exception as own_error:
                settle(request, error=own_error)
            else:
                settle(request, results=results)

    @staticmethod
    def _record(stats: BatchStats, size: int, seconds: float) -> None:
        stats.recent_seconds = 0.9 * stats.recent_seconds + seconds
        stats.recent_items = 0.9 * stats.recent_items + size
        stats.batches += 1
        stats.items += size
        stats.largest = max(stats.largest, size)
