"""The stance routes: one pair (/predict) or many (/predict_batch), each answered with one of the model's labels."""

from __future__ import annotations

from dataclasses import asdict

import bentoml

from serving.refusals import answers_refusals
from serving.schemas import PairList, StancePair, result_schema
from serving.stored import LABELS_SERVED
from serving.worker import StanceWorker

StanceAnswer = result_schema(LABELS_SERVED)
"""The response body of one pair, for the served model's labels."""


class StanceRoutes(StanceWorker):
    @bentoml.api(route="/predict")
    @answers_refusals
    async def predict(self, pair: StancePair, /) -> StanceAnswer:
        """Stance of one text toward one claim, as one of the model's labels, with the text's relevance."""
        self.check_claims([pair.claim], None)
        [result] = await self.scored([pair.pair()])
        return StanceAnswer(id=pair.id, **asdict(result))

    @bentoml.api(route="/predict_batch")
    @answers_refusals
    async def predict_batch(self, pairs: PairList) -> list[StanceAnswer]:
        """Stances of many pairs in one call, answered in the order given."""
        await self.checked_claims([pair.claim for pair in pairs], "pairs")
        results = await self.scored([pair.pair() for pair in pairs])
        return [StanceAnswer(id=pair.id, **asdict(result)) for pair, result in zip(pairs, results, strict=True)]
