"""The claimstance HTTP service: `bentoml serve serving.service:Claimstance` (or `make serve`).

One model per worker, loaded in `__init__` from the BentoML model store; concurrent requests merged
by an adaptive micro-batcher; readiness only after a warm-up inference. Settings: serving/settings.py.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # workers are forked; threads come from settings

import bentoml  # noqa: E402
from prometheus_client import Counter, Gauge, Histogram  # noqa: E402
from pydantic import StrictBool  # noqa: E402
from sqlalchemy.exc import IntegrityError, OperationalError  # noqa: E402
from starlette.responses import JSONResponse  # noqa: E402
from starlette.staticfiles import StaticFiles  # noqa: E402

from models.embedding import SentenceEmbedder  # noqa: E402
from models.encoding import ClaimLimit  # noqa: E402
from models.labels import LABELS  # noqa: E402
from models.model_config import ModelLoadError, load_tokenizer, read_model_info  # noqa: E402
from models.pair import Pair  # noqa: E402
from models.predictor import StancePredictor  # noqa: E402
from models.result import StanceResult  # noqa: E402
from models.runtime import chosen_runtime  # noqa: E402
from models.tracking import TrackedDocument, tracked_claim  # noqa: E402
from serving.admission import LargeBodyGate  # noqa: E402
from serving.batcher import MicroBatcher, Overloaded  # noqa: E402
from serving.body_limit import BodySizeLimit  # noqa: E402
from serving.cancellation import CancelOnDisconnect  # noqa: E402
from serving.errors import error_response, retry_later  # noqa: E402
from serving.headers import SecurityHeaders  # noqa: E402
from serving.json_only import JsonOnly  # noqa: E402
from serving.monitor.claims import ClaimConflict, UnknownClaim  # noqa: E402
from serving.monitor.documents import DocumentConflict, StoredMeanwhile  # noqa: E402
from serving.monitor.pictures import DateRange  # noqa: E402
from serving.monitor.store import MonitorStore  # noqa: E402
from serving.monitor_schemas import (  # noqa: E402
    ClaimListLimit,
    ClaimsToWatch,
    Day,
    Moment,
    MonitorDocuments,
    RecentLimit,
    StoredId,
    Tag,
    day,
    moment,
    monitor_schemas,
)
from serving.openapi import ContractDocument  # noqa: E402
from serving.schemas import PairList, StancePair, result_schema  # noqa: E402
from serving.settings import SETTINGS  # noqa: E402
from serving.tracking_schemas import DocumentList, TrackClaim, TrackDocument, track_schema  # noqa: E402

log = logging.getLogger("bentoml.claimstance")

TRACKER_PAGE = Path(__file__).with_name("tracker")
"""The claim tracker's static page, served at /tracker/: it posts to /track."""

PREDICTIONS = Counter("claimstance_predictions", "Pairs answered, by predicted label.", ["label"])
BATCH_SIZE = Histogram("claimstance_batch_pairs", "Pairs per model call.", buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256))
BATCH_SECONDS = Histogram(
    "claimstance_batch_seconds",
    "Model time per batch, tokenization included.",
    buckets=(0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0),
)
QUEUED = Gauge("claimstance_queued_items", "Items waiting for a lane, by queue.", ["queue"])
STORED_MODEL = bentoml.models.BentoModel(SETTINGS.model)
STORED_EMBEDDER = bentoml.models.BentoModel(SETTINGS.embedder) if SETTINGS.monitor else None
LARGE_BODY_ROUTES = ("/track", "/predict_batch", "/documents/ingest")
"""Routes whose bodies run to megabytes: they share `max_large_bodies` places (serving/admission.py)."""
TIMEOUT_MARGIN_S = 5.0
"""BentoML's own timeout comes this long after the service's deadline, which cancels the work and answers 503:
BentoML's answers 504."""


def served_labels(stored_model: bentoml.models.BentoModel) -> tuple[str, ...]:
    """The labels of the model this service will load, read when the module is imported: BentoML builds the
    routes' schemas then. A model that is not in the store yet gets every label in the schema; `bentoml serve`
    then stops, naming the missing model, before any answer is given."""
    stored = stored_model.stored
    if stored is None:
        return LABELS
    try:
        return read_model_info(stored.path).labels
    except ModelLoadError:
        return LABELS  # start-up then stops with the load error itself


LABELS_SERVED = served_labels(STORED_MODEL)
StanceAnswer = result_schema(LABELS_SERVED)
"""The response body of one pair, for the served model's labels."""
TrackAnswer = track_schema(LABELS_SERVED)
"""The response body of /track: each document's answer and the claim's summary."""
MONITOR_SCHEMAS = monitor_schemas(LABELS_SERVED)
WatchedClaimAnswer = MONITOR_SCHEMAS["WatchedClaim"]
IngestAnswer = MONITOR_SCHEMAS["IngestReport"]
PictureAnswer = MONITOR_SCHEMAS["ClaimPicture"]
RecentAnswer = MONITOR_SCHEMAS["RecentDocument"]

WARM_UP_PAIRS = [
    Pair("A meteorite crashed near the airport", "Officials denied that a meteorite crashed near the airport."),
    Pair("A meteorite crashed near the airport", "A long report about the airport. " * 60),
]


def overloaded(error: Overloaded) -> JSONResponse:
    return retry_later(f"service overloaded: {error}", "overloaded")


def monitor_off() -> JSONResponse:
    message = "the claim monitor is off in this service (CLAIMSTANCE_MONITOR=false)"
    return error_response(404, message, ["service"], "monitor_off")


def count_queued(single: int, bulk: int) -> None:
    QUEUED.labels("predict").set(single)
    QUEUED.labels("track").set(bulk)


@bentoml.service(
    name="claimstance",
    workers=SETTINGS.workers,
    traffic={"timeout": SETTINGS.request_timeout_s + TIMEOUT_MARGIN_S, "max_concurrency": SETTINGS.max_concurrency},
    logging={"access": {"enabled": SETTINGS.access_log}},
)
class Claimstance:
    stored_model = STORED_MODEL
    stored_embedder = STORED_EMBEDDER

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
                max_evidence=SETTINGS.max_evidence,
                model_tag=self.model_tag,
            )
            for _ in range(SETTINGS.lanes)
        ]
        if self.predictors[0].labels != LABELS_SERVED:
            raise ModelLoadError(
                f"{self.model_tag} has labels {self.predictors[0].labels}, not the {LABELS_SERVED} of the schema"
            )
        # Validation counts claim tokens on the event loop while the model thread tokenizes batches:
        # a tokenizer of its own keeps the two from sharing one Rust tokenizer across threads.
        self.claim_limit = ClaimLimit(load_tokenizer(stored.path), self.predictors[0].max_length)
        self.batcher: MicroBatcher[Pair, StanceResult] = MicroBatcher(
            [self.scorer(predictor) for predictor in self.predictors],
            SETTINGS.max_batch_size,
            SETTINGS.batch_wait_ms,
            SETTINGS.max_queue_ms,
            SETTINGS.track_batch_documents,
            SETTINGS.max_track_queue_ms,
            SETTINGS.max_track_delay_ms,
            on_queue_change=count_queued,
        )
        self.monitor = self.open_monitor() if SETTINGS.monitor else None
        self.ready = False
        lanes, threads = SETTINGS.lanes, SETTINGS.threads_per_lane
        log.info("loaded %s: %s, %d lane(s) of %d thread(s)", self.model_tag, runtime, lanes, threads)

    def open_monitor(self) -> MonitorStore:
        """The store, migrated to the newest schema, with the embedding model (its ONNX export where it has one,
        so the service stays free of torch); claims are vectors of the embedder's tag."""
        stored = self.stored_embedder
        embedder = SentenceEmbedder.served(stored.path, str(stored.tag), SETTINGS.threads_per_lane)
        log.info("claim monitor: %s, embedder %s", SETTINGS.database_url.split("@")[-1], stored.tag)
        return MonitorStore(SETTINGS.database_url, embedder, SETTINGS.match)

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

    @staticmethod
    def scorer(predictor: StancePredictor) -> Callable[[list[Pair]], list[StanceResult]]:
        def score(pairs: list[Pair]) -> list[StanceResult]:
            BATCH_SIZE.observe(len(pairs))
            with BATCH_SECONDS.time():
                return predictor.predict(pairs)

        return score

    def claim_errors(self, claims: list[str], list_field: str | None, field: str = "claim") -> JSONResponse | None:
        errors = self.claim_limit.errors(claims)
        if not errors:
            return None
        index, error = min(errors.items())
        loc = [list_field, index, field] if list_field else [field]
        return error_response(400, str(error), loc, "too_long", limit=error.limit)

    async def answer(self, pairs: list[StancePair]) -> list[StanceAnswer] | JSONResponse:
        try:
            results = await self.batcher.submit([pair.pair() for pair in pairs])
        except Overloaded as error:
            return overloaded(error)
        answers = []
        for pair, result in zip(pairs, results, strict=True):
            PREDICTIONS.labels(result.label).inc()
            answers.append(StanceAnswer(id=pair.id, **asdict(result)))
        return answers

    @bentoml.api(route="/predict")
    async def predict(self, pair: StancePair, /) -> StanceAnswer:
        """Stance of one text toward one claim, as one of the model's labels, with the text's relevance."""
        if error := self.claim_errors([pair.claim], None):
            return error
        results = await self.answer([pair])
        return results if isinstance(results, JSONResponse) else results[0]

    @bentoml.api(route="/predict_batch")
    async def predict_batch(self, pairs: PairList) -> list[StanceAnswer]:
        """Stances of many pairs in one call, answered in the order given."""
        if error := self.claim_errors([pair.claim for pair in pairs], "pairs"):
            return error
        return await self.answer(pairs)

    @bentoml.api(route="/track")
    async def track(self, claim: TrackClaim, documents: DocumentList) -> TrackAnswer:
        """One claim across many documents: each document's answer, the most relevant first, and the claim's
        summary (stance shares, each source's prevailing stance, the strongest evidence each way, a timeline).
        Scored in small batches behind single predictions, so a big call does not hold /predict up."""
        if error := self.claim_errors([claim], None):
            return error
        try:
            pairs = [Pair(claim, document.text, document.title) for document in documents]
            results = await self.batcher.submit_bulk(pairs)
        except Overloaded as error:
            return overloaded(error)
        return await asyncio.to_thread(self.track_answer, claim, documents, results)

    def track_answer(self, claim: str, documents: list[TrackDocument], results: list[StanceResult]) -> TrackAnswer:
        """Built off the event loop: for 500 documents it takes long enough to hold single predictions up."""
        tracked = []
        for position, (document, result) in enumerate(zip(documents, results, strict=True)):
            PREDICTIONS.labels(result.label).inc()
            tracked.append(TrackedDocument.of(result, document.document_fields(), position))
        return TrackAnswer(**asdict(tracked_claim(claim, self.model_tag, LABELS_SERVED, tracked)))

    async def in_store(self, call: Callable[..., Any], *args: Any) -> Any:
        """A store call off the event loop; a database that cannot be reached (or stays locked) is a 503."""
        try:
            return await asyncio.to_thread(call, *args)
        except OperationalError as error:
            log.warning("monitor database: %s", error.orig)
            return retry_later(f"the monitor's database is unavailable: {error.orig}", "database_unavailable")
        except IntegrityError as error:  # a concurrent call wrote the same id first: this one holds nothing now
            return retry_later(f"a concurrent call changed the same records; retry: {error.orig}", "concurrent_write")

    @bentoml.api(route="/claims/register")
    async def register_claims(self, claims: ClaimsToWatch) -> list[WatchedClaimAnswer]:
        """Watch claims, one or many: each is embedded once, and every document ingested after is matched against
        it. An id sent again with the same text adds nothing (a retried call is safe); with another text, 409."""
        if self.monitor is None:
            return monitor_off()
        if error := self.claim_errors([claim.text for claim in claims], "claims", "text"):
            return error
        try:
            watched = await self.in_store(self.monitor.register, [claim.new_claim() for claim in claims])
        except ClaimConflict as error:
            index = max(i for i, claim in enumerate(claims) if claim.id == error.claim_id)  # the later one conflicts
            return error_response(409, str(error), ["claims", index, "id"], "conflict")
        return watched if isinstance(watched, JSONResponse) else [WatchedClaimAnswer(**asdict(c)) for c in watched]

    @bentoml.api(route="/claims/list")
    async def list_claims(
        self,
        include_retired: StrictBool = False,
        tag: Tag | None = None,
        limit: ClaimListLimit = SETTINGS.max_listed_claims,
        after: StoredId | None = None,
    ) -> list[WatchedClaimAnswer]:
        """The watched claims, oldest first; retired ones only when asked for; those with a tag only, given one. At
        most `limit` a call (CLAIMSTANCE_MAX_LISTED_CLAIMS at most): the next page is the claims `after` the last
        one of this page."""
        if self.monitor is None:
            return monitor_off()
        try:
            watched = await self.in_store(self.monitor.claims, include_retired, tag, int(limit), after)
        except UnknownClaim as error:
            return error_response(400, str(error), ["after"], "unknown_claim")
        return watched if isinstance(watched, JSONResponse) else [WatchedClaimAnswer(**asdict(c)) for c in watched]

    @bentoml.api(route="/claims/retire")
    async def retire_claim(self, id: StoredId) -> WatchedClaimAnswer:  # noqa: A002 (the body's field)
        """Stop matching a claim; it and its answers stay, so its picture can still be read."""
        if self.monitor is None:
            return monitor_off()
        try:
            retired = await self.in_store(self.monitor.retire, id)
        except UnknownClaim as error:
            return error_response(400, str(error), ["id"], "unknown_claim")
        return retired if isinstance(retired, JSONResponse) else WatchedClaimAnswer(**asdict(retired))

    @bentoml.api(route="/claims/picture")
    async def claim_picture(
        self,
        id: StoredId,  # noqa: A002 (the body's field)
        since: Day | None = None,
        until: Day | None = None,
        model: StoredId | None = None,
    ) -> PictureAnswer:
        """A watched claim's picture over the documents published between two days (both included; a document
        without a date only when neither is given): the summary /track gives, from one model's stored answers (the
        newest, unless `model` names one); answers by other models are counted beside it, never mixed in."""
        if self.monitor is None:
            return monitor_off()
        try:
            days = DateRange(day(since), day(until))
        except ValueError as error:
            return error_response(400, str(error), ["until"], "value_error")
        try:
            picture = await self.in_store(self.monitor.picture, id, LABELS_SERVED, days, model)
        except UnknownClaim as error:
            return error_response(400, str(error), ["id"], "unknown_claim")
        return picture if isinstance(picture, JSONResponse) else PictureAnswer(**asdict(picture))

    @bentoml.api(route="/documents/ingest")
    async def ingest_documents(self, documents: MonitorDocuments) -> IngestAnswer:
        """Check documents against every watched claim: each is matched by embeddings, the stance model reads only
        the pairs matching lets through, and the document is stored with those answers. Idempotent by id: a
        document already stored is reported, not scored or stored again; an id stored with other content is a
        409. All the call's new documents are stored, or none."""
        if self.monitor is None:
            return monitor_off()
        incoming = [document.incoming() for document in documents]
        for attempt in range(2):
            try:
                plan = await self.in_store(self.monitor.ingest.plan, incoming)
            except DocumentConflict as error:
                index = next(i for i, document in enumerate(documents) if document.id == error.document_id)
                return error_response(409, str(error), ["documents", index, "id"], "conflict")
            if isinstance(plan, JSONResponse):
                return plan
            try:
                results = await self.batcher.submit_bulk(list(plan.pairs)) if plan.pairs else []
            except Overloaded as error:
                return overloaded(error)
            try:
                report = await self.in_store(self.monitor.ingest.commit, plan, results)
            except StoredMeanwhile as error:
                if attempt:
                    return retry_later(
                        f"concurrent calls keep storing these documents; retry: {error}", "concurrent_write"
                    )
                continue  # another call stored one of these documents: plan again, it is seen as stored now
            for result in results:
                PREDICTIONS.labels(result.label).inc()
            return report if isinstance(report, JSONResponse) else IngestAnswer(**asdict(report))
        raise AssertionError("unreachable")

    @bentoml.api(route="/documents/recent")
    async def recent_documents(self, limit: RecentLimit = 50, since: Moment | None = None) -> list[RecentAnswer]:
        """The documents lately ingested that are about a watched claim (matched, and not called unrelated), the
        newest first, each with the claims it is about."""
        if self.monitor is None:
            return monitor_off()
        recent = await self.in_store(self.monitor.recent, int(limit), moment(since))
        return recent if isinstance(recent, JSONResponse) else [RecentAnswer(**asdict(d)) for d in recent]


BODY_ROUTES = [api.route for api in Claimstance.apis.values()]
MONITOR_ROUTES = [route for route in BODY_ROUTES if route.startswith(("/claims/", "/documents/"))]
# Outermost first: every answer gets the security headers; a body that is not JSON, or a large one past the
# worker's places, is refused before a byte of it is read; then the size limits; then cancellation on disconnect.
Claimstance.add_asgi_middleware(SecurityHeaders, page_prefix="/tracker")
Claimstance.add_asgi_middleware(JsonOnly, body_routes=BODY_ROUTES)
Claimstance.add_asgi_middleware(LargeBodyGate, routes=LARGE_BODY_ROUTES, places=SETTINGS.max_large_bodies)
Claimstance.add_asgi_middleware(
    BodySizeLimit,
    max_bytes=SETTINGS.max_body_bytes,
    route_limits={
        "/track": SETTINGS.max_track_body_bytes,
        "/documents/ingest": SETTINGS.max_track_body_bytes,
        "/predict": SETTINGS.pair_body_bytes,
    },
    body_routes=BODY_ROUTES,
)
Claimstance.add_asgi_middleware(CancelOnDisconnect, deadline_seconds=SETTINGS.request_timeout_s)
CONFLICT = "The id is taken by another text: `detail` names the item (`loc`)."
UNKNOWN_ID = "No watched claim has the id (`loc`: id), or the body breaks the schema (as for every route)."
OWN_ERRORS = {
    "/claims/register": {"409": CONFLICT},
    "/documents/ingest": {"409": CONFLICT},
    "/claims/retire": {"400": UNKNOWN_ID},
    "/claims/picture": {"400": UNKNOWN_ID},
    "/claims/list": {"400": "No watched claim has the id `after` names (`loc`: after), or the body breaks the schema."},
}
ROUTE_ERRORS = {
    route: {"404": "The claim monitor is off (CLAIMSTANCE_MONITOR=false)."} | OWN_ERRORS.get(route, {})
    for route in MONITOR_ROUTES
}
Claimstance.add_asgi_middleware(ContractDocument, service=Claimstance, route_errors=ROUTE_ERRORS)
Claimstance.mount_asgi_app(StaticFiles(directory=TRACKER_PAGE, html=True), path="/tracker")
