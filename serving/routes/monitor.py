"""The claim monitor's routes: watched claims (/claims/*), documents checked against them (/documents/*) and the
record of who wrote what (/audit/list). The store's work runs on database threads of its own; the embedding and
matching of documents in the model's copies, beside stance batches."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

import bentoml
from pydantic import StrictBool, StrictInt

from models.embedding import SentenceEmbedder
from serving.access import Level
from serving.monitor.audit import Writer
from serving.monitor.database import where
from serving.monitor.documents import DocumentIngest, IncomingDocument
from serving.monitor.matching import Candidate, ClaimIndex
from serving.monitor.store import MonitorStore
from serving.monitor.summaries import DateRange
from serving.monitor_schemas import (
    AuditLimit,
    ClaimListLimit,
    ClaimsToWatch,
    Day,
    DocumentPageLimit,
    DocumentsToIngest,
    Moment,
    RecentLimit,
    StoredId,
    Tag,
    day,
    moment,
    monitor_schemas,
)
from serving.refusals import Refused, StoreUnavailable, answers_refusals, refusal
from serving.request_ids import request_id
from serving.settings import SETTINGS
from serving.stored import LABELS_SERVED, STORED_EMBEDDER
from serving.worker import StanceWorker

log = logging.getLogger("bentoml.claimstance")

MONITOR_SCHEMAS = monitor_schemas(LABELS_SERVED)
WatchedClaimAnswer = MONITOR_SCHEMAS["WatchedClaim"]
IngestAnswer = MONITOR_SCHEMAS["IngestReport"]
StoredSummaryAnswer = MONITOR_SCHEMAS["StoredClaimSummary"]
StoredDocumentAnswer = MONITOR_SCHEMAS["TrackedDocument"]
RecentAnswer = MONITOR_SCHEMAS["RecentDocument"]
AuditAnswer = MONITOR_SCHEMAS["AuditEntry"]
DeletedAnswer = MONITOR_SCHEMAS["DeletedDocument"]

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
CONFLICT = "The id is taken by another text, or a cap is reached: `detail` names the item (`loc`) or the cap (`limit`)."
UNKNOWN_ID = "No watched claim (or stored document) has the id the body names (`loc`)."
ROUTE_ERRORS = {
    "/claims/register": {"409": CONFLICT},
    "/claims/unretire": {"404": UNKNOWN_ID, "409": CONFLICT},
    "/documents/ingest": {"409": CONFLICT, "413": "The body is over the size limit, or its documents reach more "
                          "pairs than one call can have scored (`limit`)."},
    "/claims/retire": {"404": UNKNOWN_ID},
    "/claims/summary": {"404": UNKNOWN_ID},
    "/claims/picture": {"404": UNKNOWN_ID},
    "/claims/documents": {"404": UNKNOWN_ID},
    "/claims/list": {"404": "No watched claim has the id `after` names (`loc`: after)."},
    "/documents/delete": {"404": UNKNOWN_ID},
}  # fmt: skip
DEPRECATED_ROUTES = {"/claims/picture": "/claims/summary"}
"""Routes kept under their former names, and the route that replaces each: they answer the same, and the service's
document marks them deprecated."""
"""The answers the monitor's routes give beyond every route's (serving/service.py), for the OpenAPI document."""
MONITOR_OFF = {"404": "The claim monitor is off (CLAIMSTANCE_MONITOR=false)."}


@dataclass(frozen=True)
class MatchWork:
    """One document embedded and matched to the watched claims: done in the model's copies (serving/worker.py)."""

    ingest: DocumentIngest
    index: ClaimIndex
    document: IncomingDocument

    def __call__(self) -> tuple[Candidate, ...]:
        return self.ingest.matched(self.index, self.document)


def caller(ctx: bentoml.Context, route: str) -> Writer:
    """Who writes, for the audit: the name of the API key the request came with (None without keys)."""
    return Writer(getattr(ctx.request.state, "api_key", None), route)


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


def at_item(refused: Refused, items: Sequence[Any], field: str, later: bool = False) -> Refused:
    """A conflict pointed at the item of the body's list `field` with the id it names: the first such item, or with
    `later` the last (of two claims with one id, the later is the one that conflicts)."""
    if refused.kind != "conflict":
        return refused
    indices = [i for i, item in enumerate(items) if item.id == refused.extra["id"]]
    index = indices[-1] if later else indices[0]
    return Refused(409, refused.message, [field, index, "id"], "conflict")


class MonitorRoutes(StanceWorker):
    stored_embedder = STORED_EMBEDDER

    def __init__(self) -> None:
        super().__init__()
        self.database = ThreadPoolExecutor(SETTINGS.database_threads, thread_name_prefix="claimstance-database")
        """The monitor's database calls wait here, never on the threads other routes build their answers on."""
        self.embedder: SentenceEmbedder | None = None
        self.store: MonitorStore | None = None
        self.opening = threading.Lock()
        if SETTINGS.monitor:
            stored_embedder = self.stored_embedder
            self.embedder = SentenceEmbedder.served(
                stored_embedder.path, str(stored_embedder.tag), SETTINGS.threads_per_copy
            )
            log.info("claim monitor: %s, embedder %s", where(SETTINGS.url), stored_embedder.tag)
            try:
                self.open_store()
            except Exception as error:  # the stance routes serve meanwhile; the monitor's answer 503 until it opens
                log.warning("claim monitor: its database is unavailable for now (%s)", type(error).__name__)

    def open_store(self) -> MonitorStore:
        """The store, migrated to the newest schema, opened at the first call that finds its database reachable."""
        with self.opening:
            if self.store is None:
                assert self.embedder is not None
                self.store = MonitorStore(SETTINGS.url, self.embedder, SETTINGS.match, SETTINGS.store_limits, SETTINGS)
            return self.store

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
            raise at_item(refused, claims, "claims", later=True) from None
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
        """Stop matching a claim; it and its answers stay, so its summary can still be read (admin)."""
        retired = await self.in_store(ctx, MonitorStore.retire, id, caller(ctx, "/claims/retire"))
        return WatchedClaimAnswer(**asdict(retired))

    @bentoml.api(route="/claims/unretire")
    @answers_refusals
    async def unretire_claim(self, id: StoredId, ctx: bentoml.Context) -> WatchedClaimAnswer:  # noqa: A002
        """Watch a retired claim again, with its answers (admin); one already watched is left as it is."""
        watched = await self.in_store(ctx, MonitorStore.unretire, id, caller(ctx, "/claims/unretire"))
        return WatchedClaimAnswer(**asdict(watched))

    @bentoml.api(route="/claims/summary")
    @answers_refusals
    async def claim_summary(
        self,
        id: StoredId,  # noqa: A002 (the body's field)
        ctx: bentoml.Context,
        since: Day | None = None,
        until: Day | None = None,
        model: StoredId | None = None,
    ) -> StoredSummaryAnswer:
        """A watched claim's summary over the documents published between two days (both included; a document
        without a date only when neither is given): the summary /track gives, computed in the database from one
        model's stored answers (the newest, unless `model` names one); answers by other models are counted beside
        it, never mixed in. Its documents: /claims/documents."""
        return await self.stored_summary(ctx, id, since, until, model)

    @bentoml.api(route="/claims/picture")
    @answers_refusals
    async def claim_picture(
        self,
        id: StoredId,  # noqa: A002 (the body's field)
        ctx: bentoml.Context,
        since: Day | None = None,
        until: Day | None = None,
        model: StoredId | None = None,
    ) -> StoredSummaryAnswer:
        """Deprecated: the former name of /claims/summary, which answers the same."""
        return await self.stored_summary(ctx, id, since, until, model)

    async def stored_summary(
        self, ctx: bentoml.Context, claim_id: str, since: Day | None, until: Day | None, model: str | None
    ) -> StoredSummaryAnswer:
        days = date_range(since, until)
        summary = await self.in_store(ctx, MonitorStore.summary, claim_id, LABELS_SERVED, days, model)
        return StoredSummaryAnswer(**asdict(summary))

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
    async def ingest_documents(self, documents: DocumentsToIngest, ctx: bentoml.Context) -> IngestAnswer:
        """Check documents against every watched claim: each is matched by embeddings, the stance model reads only
        the pairs matching lets through, and the document is stored with those answers. Idempotent by id: a
        document already stored is reported, not scored or stored again; an id stored with other content is a
        409. All the call's new documents are stored, or none. The embedding and scoring run on the worker's
        model copies: a call too large to be scored within the bulk budget is 413, naming its pairs and the most it
        could take."""
        incoming = [document.read_as(IncomingDocument) for document in documents]
        writer = caller(ctx, "/documents/ingest")
        for attempt in range(2):
            try:
                unique, stored = await self.in_store(ctx, MonitorStore.new_documents, incoming)
            except Refused as refused:
                raise at_item(refused, documents, "documents") from None
            new = [document for document in unique if document.id not in stored]
            store = self.store
            assert store is not None
            index = await self.in_store(ctx, MonitorStore.claim_index)
            found = await self.on_model_copies([MatchWork(store.ingest, index, document) for document in new])
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
