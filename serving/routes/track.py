"""The claim tracker: one claim across many documents (/track); its page is serving/routes/tracker_page.py."""

from __future__ import annotations

import asyncio
from dataclasses import asdict

import bentoml

from models.document_fields import DocumentDetails
from models.pair import Pair
from models.result import StanceResult
from models.tracking import TrackedDocument, tracked_claim
from serving.refusals import answers_refusals
from serving.stored import LABELS_SERVED
from serving.tracking_schemas import DocumentsToTrack, DocumentToTrack, TrackClaim, track_schema
from serving.worker import StanceWorker

TrackAnswer = track_schema(LABELS_SERVED)
"""The response body of /track: each document's answer and the claim's summary."""


class TrackRoutes(StanceWorker):
    @bentoml.api(route="/track")
    @answers_refusals
    async def track(self, claim: TrackClaim, documents: DocumentsToTrack) -> TrackAnswer:
        """One claim across many documents: each document's answer, the most relevant first, and the claim's
        summary (stance shares, each source's prevailing stance, the strongest evidence each way, a timeline).
        Scored in small batches behind single predictions, so a big call does not hold /predict up."""
        self.check_claims([claim], None)
        results = await self.scored([Pair(claim, document.text, document.title) for document in documents], bulk=True)
        return await asyncio.to_thread(self.track_answer, claim, documents, results)

    def track_answer(self, claim: str, documents: list[DocumentToTrack], results: list[StanceResult]) -> TrackAnswer:
        """Built off the event loop: for 500 documents it takes long enough to hold single predictions up."""
        tracked = [
            TrackedDocument.of(result, document.read_as(DocumentDetails), position)
            for position, (document, result) in enumerate(zip(documents, results, strict=True))
        ]
        return TrackAnswer(**asdict(tracked_claim(claim, self.model_tag, LABELS_SERVED, tracked)))
