"""The claimstance HTTP service: `bentoml serve serving.service:Claimstance` (or `make serve`).

One model per worker, loaded in `__init__` from the BentoML model store; concurrent requests merged
by an adaptive micro-batcher; readiness only after a warm-up inference. Settings: serving/settings.py.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # workers are forked; threads come from settings

import bentoml  # noqa: E402
from prometheus_client import Counter, Histogram  # noqa: E402
from starlette.responses import JSONResponse  # noqa: E402

from models.encoding import claim_token_counts, claim_token_limit  # noqa: E402
from models.model_config import load_tokenizer  # noqa: E402
from models.predictor import Prediction, StancePredictor  # noqa: E402
from models.runtime import chosen_runtime  # noqa: E402
from serving.batcher import MicroBatcher, Overloaded  # noqa: E402
from serving.body_limit import BodySizeLimit  # noqa: E402
from serving.errors import error_response  # noqa: E402
from serving.json_only import JsonOnly  # noqa: E402
from serving.schemas import PairList, StancePair, StanceResult  # noqa: E402
from serving.settings import SETTINGS  # noqa: E402

log = logging.getLogger("bentoml.claimstance")

PREDICTIONS = Counter("claimstance_predictions", "Pairs answered, by predicted label.", ["label"])
BATCH_SIZE = Histogram("claimstance_batch_pairs", "Pairs per model call.", buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256))
BATCH_SECONDS = Histogram(
    "claimstance_batch_seconds",
    "Model time per batch, tokenization included.",
    buckets=(0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0),
)
WARM_UP_PAIRS = [
    ("A meteorite crashed near the airport", "Officials denied that a meteorite crashed near the airport."),
    ("A meteorite crashed near the airport", "A long report about the airport. " * 60),
]


@bentoml.service(
    name="claimstance",
    workers=SETTINGS.workers,
    traffic={"timeout": 60, "max_concurrency": SETTINGS.max_concurrency},
    logging={"access": {"enabled": SETTINGS.access_log}},
)
class Claimstance:
    stored_model = bentoml.models.BentoModel(SETTINGS.model)

    def __init__(self) -> None:
        stored = self.stored_model  # `bentoml serve` has checked it exists, and names it if not
        self.model_tag = str(stored.tag)
        runtime = chosen_runtime(stored.path, SETTINGS.runtime)
        self.predictors = [
            StancePredictor.from_dir(
                stored.path,
                runtime=runtime,
                num_threads=SETTINGS.threads_per_lane,
                batch_size=SETTINGS.model_batch_pairs or None,
            )
            for _ in range(SETTINGS.lanes)
        ]
        # Validation counts claim tokens on the event loop while the model thread tokenizes batches:
        # a tokenizer of its own keeps the two from sharing one Rust tokenizer across threads.
        self.request_tokenizer = load_tokenizer(stored.path)
        self.claim_limit = claim_token_limit(self.request_tokenizer, self.predictors[0].max_length)
        self.batcher: MicroBatcher[tuple[str, str], Prediction] = MicroBatcher(
            [self.scorer(predictor) for predictor in self.predictors],
            SETTINGS.max_batch_size,
            SETTINGS.batch_wait_ms,
            SETTINGS.max_queue_ms,
        )
        self.ready = False
        lanes, threads = SETTINGS.lanes, SETTINGS.threads_per_lane
        log.info("loaded %s: %s, %d lane(s) of %d thread(s)", self.model_tag, runtime, lanes, threads)

    @bentoml.on_startup
    async def warm_up(self) -> None:
        """One inference per model copy before readiness: the first call pays for memory allocation and
        kernel choice. Outside the batcher, so its slow first timing does not enter the queue's estimate."""
        loop = asyncio.get_running_loop()
        await asyncio.gather(*(loop.run_in_executor(None, p.predict, WARM_UP_PAIRS) for p in self.predictors))
        self.ready = True

    def __is_ready__(self) -> bool:
        return self.ready

    @staticmethod
    def scorer(predictor: StancePredictor) -> Callable[[list[tuple[str, str]]], list[Prediction]]:
        def score(pairs: list[tuple[str, str]]) -> list[Prediction]:
            BATCH_SIZE.observe(len(pairs))
            with BATCH_SECONDS.time():
                return predictor.predict(pairs)

        return score

    def claim_errors(self, pairs: list[StancePair], list_field: str | None) -> JSONResponse | None:
        counts = claim_token_counts(self.request_tokenizer, [pair.claim for pair in pairs])
        for index, count in enumerate(counts):
            if count > self.claim_limit:
                loc = [list_field, index, "claim"] if list_field else ["claim"]
                message = f"claim has {count} tokens, over the limit of {self.claim_limit} tokens"
                return error_response(400, message, loc, "too_long", limit=self.claim_limit)
        return None

    async def answer(self, pairs: list[StancePair]) -> list[StanceResult] | JSONResponse:
        try:
            predictions = await self.batcher.submit([(pair.claim, pair.text) for pair in pairs])
        except Overloaded as error:
            response = error_response(503, f"service overloaded: {error}", ["service"], "overloaded")
            response.headers["Retry-After"] = "1"
            return response
        results = []
        for pair, prediction in zip(pairs, predictions, strict=True):
            PREDICTIONS.labels(prediction.label).inc()
            results.append(
                StanceResult(
                    id=pair.id,
                    label=prediction.label,
                    scores=prediction.scores,
                    text_reduced=prediction.text_reduced,
                    model=self.model_tag,
                )
            )
        return results

    @bentoml.api(route="/predict")
    async def predict(self, pair: StancePair, /) -> StanceResult:
        """Stance of one text toward one claim: asserting, disputing or reporting."""
        if error := self.claim_errors([pair], None):
            return error
        results = await self.answer([pair])
        return results if isinstance(results, JSONResponse) else results[0]

    @bentoml.api(route="/predict_batch")
    async def predict_batch(self, pairs: PairList) -> list[StanceResult]:
        """Stances of many pairs in one call, answered in the order given."""
        if error := self.claim_errors(pairs, "pairs"):
            return error
        return await self.answer(pairs)


Claimstance.add_asgi_middleware(BodySizeLimit, max_bytes=SETTINGS.max_body_bytes)
Claimstance.add_asgi_middleware(JsonOnly)
