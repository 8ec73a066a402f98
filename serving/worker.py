"""What every route of a worker stands on: the stance model's copies, the micro-batcher that shares them between
single predictions and bulk work, the claim's token check, warm-up and readiness.

The routes (serving/routes/) are mixins of `StanceWorker`; serving/service.py puts them together as one BentoML
service, so one worker process loads the model once for all of them.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
from collections.abc import Callable, Sequence
from typing import Any

import bentoml

from models.encoding import ClaimLimit
from models.model_config import ModelLoadError, load_tokenizer
from models.pair import Pair
from models.predictor import StancePredictor
from models.result import StanceResult
from models.runtime import chosen_runtime
from serving.batcher import MicroBatcher, Overloaded
from serving.lifetime import exit_with_parent
from serving.metrics import BATCH_SECONDS, BATCH_SIZE, PREDICTIONS, count_queued
from serving.refusals import Refused, retry_later
from serving.settings import SETTINGS
from serving.stored import LABELS_SERVED, STORED_MODEL

log = logging.getLogger("bentoml.claimstance")

BulkWork = Callable[[], Any]
"""Work other than scoring pairs that runs in the model's copies as bulk work (the monitor's embedding and matching
of a document), so a worker's cores are shared by one queue, counted by its admission, and dropped when its caller
goes away."""

WARM_UP_PAIRS = [
    Pair("A meteorite crashed near the airport", "Officials denied that a meteorite crashed near the airport."),
    Pair("A meteorite crashed near the airport", "A long report about the airport. " * 60),
]


def overloaded(error: Overloaded) -> Refused:
    return retry_later(f"service overloaded: {error}", "overloaded")


def scorer(predictor: StancePredictor) -> Callable[[list[Any]], list[Any]]:
    """One model copy's work: a batch of pairs it scores, or a bulk batch of other work done in it."""

    def score(items: list[Any]) -> list[Any]:
        if items and not isinstance(items[0], Pair):  # a bulk batch is one call's, never mixed
            return [work() for work in items]
        BATCH_SIZE.observe(len(items))
        with BATCH_SECONDS.time():
            return predictor.predict(items)

    return score


class StanceWorker:
    """The stance model in one worker, loaded once in `__init__` and shared by every route."""

    stored_model = STORED_MODEL

    def __init__(self) -> None:
        # Workers run each model copy on its own threads (CLAIMSTANCE_THREADS): the tokenizer's own pool would add more.
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        exit_with_parent()
        stored = self.stored_model  # `bentoml serve` has checked it exists, and names it if not
        self.model_tag = str(stored.tag)
        runtime = chosen_runtime(stored.path, SETTINGS.runtime)
        self.predictors = [
            StancePredictor.from_dir(
                stored.path,
                runtime=runtime,
                num_threads=SETTINGS.threads_per_copy,
                batch_size=SETTINGS.model_batch_pairs or None,
                max_evidence=SETTINGS.max_evidence,
                model_tag=self.model_tag,
            )
            for _ in range(SETTINGS.model_copies)
        ]
        if self.predictors[0].labels != LABELS_SERVED:
            raise ModelLoadError(
                f"{self.model_tag} has labels {self.predictors[0].labels}, not the {LABELS_SERVED} of the schema"
            )
        # Validation counts claim tokens off the event loop while the model thread tokenizes batches:
        # a tokenizer of its own keeps the two from sharing one Rust tokenizer across threads.
        self.claim_limit = ClaimLimit(load_tokenizer(stored.path), self.predictors[0].max_length)
        self.batcher: MicroBatcher[Pair | BulkWork, Any] = MicroBatcher(
            [scorer(predictor) for predictor in self.predictors],
            SETTINGS.max_batch_size,
            SETTINGS.batch_wait_ms,
            SETTINGS.max_queue_ms,
            SETTINGS.track_batch_documents,
            SETTINGS.max_track_queue_ms,
            SETTINGS.max_track_delay_ms,
            on_queue_change=count_queued,
        )
        self.ready = False
        copies, threads = SETTINGS.model_copies, SETTINGS.threads_per_copy
        log.info("loaded %s: %s, %d model copies of %d thread(s)", self.model_tag, runtime, copies, threads)

    @bentoml.on_startup
    async def warm_up(self) -> None:
        """One inference per model copy before readiness: the first call pays for memory allocation and
        kernel choice. Outside the batcher, so its slow first timing does not enter the queue's estimate."""
        loop = asyncio.get_running_loop()
        await asyncio.gather(*(loop.run_in_executor(None, p.predict, WARM_UP_PAIRS) for p in self.predictors))
        gc.collect()
        gc.freeze()  # the model and tokenizers stay for good: full collections stop rescanning them mid-request
        self.ready = True

    def __is_ready__(self) -> bool:
        return self.ready

    def check_claims(self, claims: Sequence[str], list_field: str | None, field: str = "claim") -> None:
        """Refused (400, naming the first claim and the limit) where a claim is over the model's token limit."""
        errors = self.claim_limit.errors(list(claims))
        if errors:
            index, error = min(errors.items())
            loc = [list_field, index, field] if list_field else [field]
            raise Refused(400, str(error), loc, "too_long", limit=error.limit)

    async def checked_claims(self, claims: Sequence[str], list_field: str | None, field: str = "claim") -> None:
        """`check_claims` off the event loop, for a list long enough to hold other requests up while tokenized."""
        if len(claims) <= 4:
            return self.check_claims(claims, list_field, field)
        await asyncio.to_thread(self.check_claims, claims, list_field, field)

    async def scored(self, pairs: list[Pair], bulk: bool = False) -> list[StanceResult]:
        """The pairs' answers from the model copies: single predictions first, bulk ones (/track, ingest) beside."""
        try:
            results = await (self.batcher.submit_bulk(pairs) if bulk else self.batcher.submit(pairs))
        except Overloaded as error:
            raise overloaded(error) from None
        for result in results:
            PREDICTIONS.labels(result.label).inc()
        return results

    async def on_model_copies(self, work: list[BulkWork]) -> list[Any]:
        """Other bulk work done on the model copies, in order (the monitor's matching)."""
        try:
            return await self.batcher.submit_bulk(work)
        except Overloaded as error:
            raise overloaded(error) from None
