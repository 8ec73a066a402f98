"""The claimstance HTTP service: `bentoml serve serving.service:Claimstance` (or `make serve`).

One model per worker, loaded in `__init__` from the BentoML model store; concurrent requests merged
by an adaptive micro-batcher; readiness only after a warm-up inference. Settings: serving/settings.py.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # workers are forked; threads come from settings

import bentoml  # noqa: E402
from prometheus_client import Counter, Gauge, Histogram  # noqa: E402
from pydantic import StrictBool, StrictInt  # noqa: E402
from starlette.middleware.trustedhost import TrustedHostMiddleware  # noqa: E402
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
from serving.access import AccessControl, Level  # noqa: E402
from serving.admission import LargeBodyGate  # noqa: E402
from serving.batcher import MicroBatcher, Overloaded  # noqa: E402
from serving.body_limit import BodyPace, BodySizeLimit  # noqa: E402
from serving.cancellation import CancelOnDisconnect  # noqa: E402
from serving.headers import SecurityHeaders  # noqa: E402
from serving.json_only import JsonOnly  # noqa: E402
from serving.lifetime import exit_with_parent  # noqa: E402
from serving.monitor.audit import Writer  # noqa: E402
from serving.monitor.database import where  # noqa: E402
from serving.monitor.documents import DocumentIngest, IncomingDocument  # noqa: E402
from serving.monitor.matching import Candidate, ClaimIndex  # noqa: E402
from serving.monitor.pictures import DateRange  # noqa: E402
from serving.monitor.store import MonitorStore  # noqa: E402
from serving.monitor_schemas import (  # noqa: E402
    AuditLimit,
    ClaimListLimit,
    ClaimsToWatch,
    Day,
    DocumentPageLimit,
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
from serving.refusals import Refused, StoreUnavailable, answers_refusals, refusal, retry_later  # noqa: E402
from serving.request_ids import RequestIds, request_id  # noqa: E402
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
KEYS = SETTINGS.key_ring
LARGE_BODY_ROUTES = ("/track", "/predict_batch", "/documents/ingest", "/claims/register")
"""Routes whose bodies run to megabytes: they share `max_large_bodies` places (serving/admission.py)."""
ROUTE_LEVELS = {
    "/claims/register": Level.WRITE,
    "/documents/ingest": Level.WRITE,
    "/claims/retire": Level.ADMIN,
    "/claims/unretire": Level.ADMIN,
    "/documents/delete": Level.ADMIN,
    "/audit/list": Level.ADMIN,
}
"""The scope each route needs beyond `read` (serving/access.py): writes need `write`; retiring, watching again,
deleting and reading the audit need `admin`."""
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
StoredDocumentAnswer = MONITOR_SCHEMAS["TrackedDocument"]
RecentAnswer = MONITOR_SCHEMAS["RecentDocument"]
AuditAnswer = MONITOR_SCHEMAS["AuditEntry"]
DeletedAnswer = MONITOR_SCHEMAS["DeletedDocument"]

WARM_UP_PAIRS = [
    Pair("A meteorite crashed near the airport", "Officials denied that a meteorite crashed near the airport."),
    Pair("A meteorite crashed near the airport", "A long report about the airport. " * 60),
]


def overloaded(error: Overloaded) -> Refused:
    return retry_later(f"service overloaded: {error}", "overloaded")


def count_queued(single: int, bulk: int) -> None:
    QUEUED.labels("predict").set(single)
    QUEUED.labels("track").set(bulk)


@dataclass(frozen=True)
class MatchWork:
    """One document embedded and matched to the watched claims: bulk work of the lanes, beside stance batches, so
    a worker's cores are shared by one queue, counted by its admission, and dropped when its caller goes away."""

    ingest: DocumentIngest
    index: ClaimIndex
    document: IncomingDocument

    def __call__(self) -> tuple[Candidate, ...]:
        return self.ingest.matched(self.index, self.document)


def caller(ctx: bentoml.Context, route: str) -> Writer:
    """Who writes, for the audit: the name of the API key the request came with (None without keys)."""
    return Writer(getattr(ctx.request.state, "api_key", None), route)


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
        exit_with_parent()
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
        # Validation counts claim tokens off the event loop while the model thread tokenizes batches:
        # a tokenizer of its own keeps the two from sharing one Rust tokenizer across threads.
        self.claim_limit = ClaimLimit(load_tokenizer(stored.path), self.predictors[0].max_length)
        self.batcher: MicroBatcher[Pair | MatchWork, StanceResult | tuple[Candidate, ...]] = MicroBatcher(
            [self.scorer(predictor) for predictor in self.predictors],
            SETTINGS.max_batch_size,
            SETTINGS.batch_wait_ms,
            SETTINGS.max_queue_ms,
            SETTINGS.track_batch_documents,
            SETTINGS.max_track_queue_ms,
            SETTINGS.max_track_delay_ms,
            on_queue_change=count_queued,
        )
        self.database = ThreadPoolExecutor(SETTINGS.database_threads, thread_name_prefix="claimstance-database")
        """The monitor's database calls wait here, never on the threads other routes build their answers on."""
        self.embedder: SentenceEmbedder | None = None
        self.store: MonitorStore | None = None
        self.opening = threading.Lock()
        if SETTINGS.monitor:
            stored_embedder = self.stored_embedder
            self.embedder = SentenceEmbedder.served(
                stored_embedder.path, str(stored_embedder.tag), SETTINGS.threads_per_lane
            )
            log.info("claim monitor: %s, embedder %s", where(SETTINGS.url), stored_embedder.tag)
            try:
                self.open_store()
            except Exception as error:  # the stance routes serve meanwhile; the monitor's answer 503 until it opens
                log.warning("claim monitor: its database is unavailable for now (%s)", type(error).__name__)
        if SETTINGS.listens_beyond_this_machine and not KEYS:
            log.warning(
                "listening on %s with no API keys: anyone who can reach the port can change the watched claims "
                "(set CLAIMSTANCE_API_KEYS_FILE; docs/operations.md)",
                SETTINGS.host,
            )
        self.ready = False
        lanes, threads = SETTINGS.lanes, SETTINGS.threads_per_lane
        log.info("loaded %s: %s, %d lane(s) of %d thread(s)", self.model_tag, runtime, lanes, threads)

    def open_store(self) -> MonitorStore:
        """The store, migrated to the newest schema, opened at the first call that finds its database reachable."""
        with self.opening:
            if self.store is None:
                assert self.embedder is not None
                self.store = MonitorStore(SETTINGS.url, self.embedder, SETTINGS.match, SETTINGS.store_limits, SETTINGS)
            return self.store

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
    def scorer(predictor: StancePredictor) -> Callable[[list[Any]], list[Any]]:
        def score(items: list[Any]) -> list[Any]:
            if items and isinstance(items[0], MatchWork):  # a bulk batch is one call's, never mixed
                return [work() for work in items]
            BATCH_SIZE.observe(len(items))
            with BATCH_SECONDS.time():
                return predictor.predict(items)

        return score

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
        try:
            results = await (self.batcher.submit_bulk(pairs) if bulk else self.batcher.submit(pairs))
        except Overloaded as error:
            raise overloaded(error) from None
        for result in results:
            PREDICTIONS.labels(result.label).inc()
        return results

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

    @bentoml.api(route="/track")
    @answers_refusals
    async def track(self, claim: TrackClaim, documents: DocumentList) -> TrackAnswer:
        """One claim across many documents: each document's answer, the most relevant first, and the claim's
        summary (stance shares, each source's prevailing stance, the strongest evidence each way, a timeline).
        Scored in small batches behind single predictions, so a big call does not hold /predict up."""
        self.check_claims([claim], None)
        results = await self.scored([Pair(claim, document.text, document.title) for document in documents], bulk=True)
        return await asyncio.to_thread(self.track_answer, claim, documents, results)

    def track_answer(self, claim: str, documents: list[TrackDocument], results: list[StanceResult]) -> TrackAnswer:
        """Built off the event loop: for 500 documents it takes long enough to hold single predictions up."""
        tracked = [
            TrackedDocument.of(result, document.document_fields(), position)
            for position, (document, result) in enumerate(zip(documents, results, strict=True))
        ]
        return TrackAnswer(**asdict(tracked_claim(claim, self.model_tag, LABELS_SERVED, tracked)))

    # ---- the claim monitor ----------------------------------------------------------------------------------

    async def in_store(self, ctx: bentoml.Context, call: Callable[..., Any], *args: Any) -> Any:
        """A call of the store on the database's own threads, opening the store first if it is not yet; a store or
        database error is answered as `serving.refusals.refusal` says (a database that cannot be reached: 503)."""
        if not SETTINGS.monitor:
            raise Refused(404, "the claim monitor is off in this service (CLAIMSTANCE_MONITOR=false)", ["service"],
                          "monitor_off")  # fmt: skip

        def opened_call() -> Any:
            if self.store is None:
                try:
                    self.open_store()
                except Exception as error:
                    raise StoreUnavailable(f"{type(error).__name__}: {error}") from error
            return call(self.store, *args)

        try:
            return await asyncio.get_running_loop().run_in_executor(self.database, opened_call)
        except Exception as error:
            mapped = refusal(error, request_id(ctx.request.scope))
            if mapped is None:
                raise
            raise mapped from None

    @bentoml.api(route="/claims/register")
    @answers_refusals
    async def register_claims(self, claims: ClaimsToWatch, ctx: bentoml.Context) -> list[WatchedClaimAnswer]:
        """Watch claims, one or many: each is embedded once, and every document ingested after is matched against
        it. An id sent again with the same text adds nothing (a retried call is safe); with another text, 409."""
        await self.checked_claims([claim.text for claim in claims], "claims", "text")
        new = [claim.new_claim() for claim in claims]
        try:
            watched = await self.in_store(ctx, MonitorStore.register, new, caller(ctx, "/claims/register"))
        except Refused as refused:
            if refused.kind == "conflict":  # the later of two claims with one id conflicts
                index = max(i for i, claim in enumerate(claims) if claim.id == refused.extra["id"])
                raise Refused(409, refused.message, ["claims", index, "id"], "conflict") from None
            raise
        return [WatchedClaimAnswer(**asdict(claim)) for claim in watched]

    @bentoml.api(route="/claims/list")
    @answers_refusals
    async def list_claims(
        self,
        ctx: bentoml.Context,
        include_retired: StrictBool = False,
        tag: Tag | None = None,
        limit: ClaimListLimit = SETTINGS.max_listed_claims,
        after: StoredId | None = None,
    ) -> list[WatchedClaimAnswer]:
        """The watched claims, oldest first; retired ones only when asked for; those with a tag only, given one. At
        most `limit` a call (CLAIMSTANCE_MAX_LISTED_CLAIMS at most): the next page is the claims `after` the last
        one of this page."""
        try:
            watched = await self.in_store(ctx, MonitorStore.claims, include_retired, tag, int(limit), after)
        except Refused as refused:
            raise at_field(refused, "after") from None
        return [WatchedClaimAnswer(**asdict(claim)) for claim in watched]

    @bentoml.api(route="/claims/retire")
    @answers_refusals
    async def retire_claim(self, id: StoredId, ctx: bentoml.Context) -> WatchedClaimAnswer:  # noqa: A002 (the body's field)
        """Stop matching a claim; it and its answers stay, so its picture can still be read (admin)."""
        retired = await self.in_store(ctx, MonitorStore.retire, id, caller(ctx, "/claims/retire"))
        return WatchedClaimAnswer(**asdict(retired))

    @bentoml.api(route="/claims/unretire")
    @answers_refusals
    async def unretire_claim(self, id: StoredId, ctx: bentoml.Context) -> WatchedClaimAnswer:  # noqa: A002
        """Watch a retired claim again, with its answers (admin); one already watched is left as it is."""
        watched = await self.in_store(ctx, MonitorStore.unretire, id, caller(ctx, "/claims/unretire"))
        return WatchedClaimAnswer(**asdict(watched))

    @bentoml.api(route="/claims/picture")
    @answers_refusals
    async def claim_picture(
        self,
        id: StoredId,  # noqa: A002 (the body's field)
        ctx: bentoml.Context,
        since: Day | None = None,
        until: Day | None = None,
        model: StoredId | None = None,
    ) -> PictureAnswer:
        """A watched claim's picture over the documents published between two days (both included; a document
        without a date only when neither is given): the summary /track gives, computed in the database from one
        model's stored answers (the newest, unless `model` names one); answers by other models are counted beside
        it, never mixed in. Its documents: /claims/documents."""
        picture = await self.in_store(ctx, MonitorStore.picture, id, LABELS_SERVED, date_range(since, until), model)
        return PictureAnswer(**asdict(picture))

    @bentoml.api(route="/claims/documents")
    @answers_refusals
    async def claim_documents(
        self,
        id: StoredId,  # noqa: A002 (the body's field)
        ctx: bentoml.Context,
        limit: DocumentPageLimit = 50,
        after: StoredId | None = None,
        since: Day | None = None,
        until: Day | None = None,
        model: StoredId | None = None,
    ) -> list[StoredDocumentAnswer]:
        """A page of a watched claim's documents with their answers, in the order they were ingested, without their
        text: at most `limit` (CLAIMSTANCE_MAX_PAGE_DOCUMENTS at most), those after the document `after`."""
        days = date_range(since, until)
        documents = await self.in_store(ctx, MonitorStore.documents, id, int(limit), after, days, model)
        return [StoredDocumentAnswer(**asdict(document)) for document in documents]

    @bentoml.api(route="/documents/ingest")
    @answers_refusals
    async def ingest_documents(self, documents: MonitorDocuments, ctx: bentoml.Context) -> IngestAnswer:
        """Check documents against every watched claim: each is matched by embeddings, the stance model reads only
        the pairs matching lets through, and the document is stored with those answers. Idempotent by id: a
        document already stored is reported, not scored or stored again; an id stored with other content is a
        409. All the call's new documents are stored, or none. The embedding and scoring run in the worker's lanes:
        a call too large to be scored within the bulk budget is 413, naming its pairs and the most it could take."""
        incoming = [document.incoming() for document in documents]
        writer = caller(ctx, "/documents/ingest")
        for attempt in range(2):
            try:
                unique, stored = await self.in_store(ctx, MonitorStore.new_documents, incoming)
            except Refused as refused:
                raise at_document(refused, documents) from None
            new = [document for document in unique if document.id not in stored]
            store = self.store
            assert store is not None
            index = await self.in_store(ctx, MonitorStore.claim_index)
            try:
                found = await self.batcher.submit_bulk([MatchWork(store.ingest, index, document) for document in new])
            except Overloaded as error:
                raise overloaded(error) from None
            plan = await self.in_store(ctx, MonitorStore.planned, unique, stored, tuple(zip(new, found, strict=True)))
            most = min(SETTINGS.max_ingest_pairs, self.batcher.bulk_capacity() or SETTINGS.max_ingest_pairs)
            if len(plan.pairs) > most:
                message = (f"the documents reach {len(plan.pairs)} (document, claim) pairs; one call can have at most "
                           f"{most} scored: send fewer documents a call")  # fmt: skip
                raise Refused(413, message, ["documents"], "too_many_pairs", limit=most)
            results = await self.scored(list(plan.pairs), bulk=True) if plan.pairs else []
            try:
                report = await self.in_store(ctx, MonitorStore.commit, plan, results, writer)
            except Refused as refused:
                if refused.kind == "concurrent_write" and not attempt:
                    continue  # another call stored one of these documents: plan again, it is seen as stored now
                raise
            return IngestAnswer(**asdict(report))
        raise AssertionError("unreachable")

    @bentoml.api(route="/documents/recent")
    @answers_refusals
    async def recent_documents(
        self, ctx: bentoml.Context, limit: RecentLimit = 50, since: Moment | None = None
    ) -> list[RecentAnswer]:
        """The documents lately ingested that are about a watched claim (matched, and not called unrelated), the
        newest first, each with the claims it is about."""
        recent = await self.in_store(ctx, MonitorStore.recent, int(limit), moment(since))
        return [RecentAnswer(**asdict(document)) for document in recent]

    @bentoml.api(route="/documents/delete")
    @answers_refusals
    async def delete_document(self, id: StoredId, ctx: bentoml.Context) -> DeletedAnswer:  # noqa: A002
        """Delete a stored document and every answer about it (admin): an id taken by mistake is free again."""
        deleted = await self.in_store(ctx, MonitorStore.delete_document, id, caller(ctx, "/documents/delete"))
        return DeletedAnswer(**asdict(deleted))

    @bentoml.api(route="/audit/list")
    @answers_refusals
    async def audit(
        self, ctx: bentoml.Context, limit: AuditLimit = 50, before: StrictInt | None = None
    ) -> list[AuditAnswer]:
        """The writes made to the monitor (register, ingest, retire, watch again, delete), the newest first, with
        the name of the key that made each (admin): at most `limit`, those numbered below `before`."""
        entries = await self.in_store(ctx, MonitorStore.audit, int(limit), before)
        return [AuditAnswer(**asdict(entry)) for entry in entries]


def date_range(since: str | None, until: str | None) -> DateRange:
    try:
        return DateRange(day(since), day(until))
    except ValueError as error:
        raise Refused(400, str(error), ["until"], "value_error") from None


def at_field(refused: Refused, field: str) -> Refused:
    """A refusal about an id, pointed at the body's field that named it (`after` rather than `id`)."""
    if refused.status == 404:
        return Refused(refused.status, refused.message, [field], refused.kind, **refused.extra)
    return refused


def at_document(refused: Refused, documents: Sequence[Any]) -> Refused:
    """A conflict pointed at the first document with the id it names."""
    if refused.kind != "conflict":
        return refused
    index = next(i for i, document in enumerate(documents) if document.id == refused.extra["id"])
    return Refused(409, refused.message, ["documents", index, "id"], "conflict")


BODY_ROUTES = [api.route for api in Claimstance.apis.values()]
MONITOR_ROUTES = [route for route in BODY_ROUTES if route.startswith(("/claims/", "/documents/", "/audit/"))]
SMALL_ROUTES = [route for route in MONITOR_ROUTES if route not in LARGE_BODY_ROUTES]
# Outermost first: every answer gets the security headers and a request id; a request for another host is refused;
# a key is checked; a body that is not JSON, or a large one past the worker's places, is refused before a byte of it
# is read; then the size limits and the pace; then cancellation on disconnect.
Claimstance.add_asgi_middleware(SecurityHeaders, page_prefix="/tracker")
Claimstance.add_asgi_middleware(RequestIds)
Claimstance.add_asgi_middleware(TrustedHostMiddleware, allowed_hosts=SETTINGS.allowed_hosts, www_redirect=False)
Claimstance.add_asgi_middleware(AccessControl, keys=KEYS, route_levels=ROUTE_LEVELS)
Claimstance.add_asgi_middleware(JsonOnly, body_routes=BODY_ROUTES)
Claimstance.add_asgi_middleware(
    LargeBodyGate,
    routes=LARGE_BODY_ROUTES,
    places=SETTINGS.max_large_bodies,
    drain_bytes=SETTINGS.max_track_body_bytes,
    drain_s=SETTINGS.refused_body_drain_s,
)
Claimstance.add_asgi_middleware(
    BodySizeLimit,
    max_bytes=SETTINGS.max_body_bytes,
    route_limits={
        "/track": SETTINGS.max_track_body_bytes,
        "/documents/ingest": SETTINGS.max_track_body_bytes,
        "/predict": SETTINGS.pair_body_bytes,
        **dict.fromkeys(SMALL_ROUTES, SETTINGS.small_body_bytes),
    },
    body_routes=BODY_ROUTES,
    pace=BodyPace(SETTINGS.min_body_bytes_per_s, SETTINGS.body_grace_s),
    drain_s=SETTINGS.refused_body_drain_s,
)
Claimstance.add_asgi_middleware(CancelOnDisconnect, deadline_seconds=SETTINGS.request_timeout_s)
CONFLICT = "The id is taken by another text, or a cap is reached: `detail` names the item (`loc`) or the cap (`limit`)."
UNKNOWN_ID = "No watched claim (or stored document) has the id the body names (`loc`)."
OWN_ERRORS = {
    "/claims/register": {"409": CONFLICT},
    "/claims/unretire": {"404": UNKNOWN_ID, "409": CONFLICT},
    "/documents/ingest": {"409": CONFLICT, "413": "The body is over the size limit, or its documents reach more "
                          "pairs than one call can have scored (`limit`)."},
    "/claims/retire": {"404": UNKNOWN_ID},
    "/claims/picture": {"404": UNKNOWN_ID},
    "/claims/documents": {"404": UNKNOWN_ID},
    "/claims/list": {"404": "No watched claim has the id `after` names (`loc`: after)."},
    "/documents/delete": {"404": UNKNOWN_ID},
}  # fmt: skip
ACCESS_ERRORS = {
    "401": "An API key is needed (`Authorization: Bearer <key>`), or the one sent is not this service's.",
    "403": "The key's scope is too low for the route: `detail` names the scope needed.",
}
ROUTE_ERRORS = {
    route: ACCESS_ERRORS
    | ({"404": "The claim monitor is off (CLAIMSTANCE_MONITOR=false)."} if route in MONITOR_ROUTES else {})
    | OWN_ERRORS.get(route, {})
    for route in BODY_ROUTES
}
Claimstance.add_asgi_middleware(ContractDocument, service=Claimstance, route_errors=ROUTE_ERRORS)
Claimstance.mount_asgi_app(StaticFiles(directory=TRACKER_PAGE, html=True), path="/tracker")
