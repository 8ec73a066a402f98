"""Bodies of the claim monitor's routes (/claims/*, /documents/*): what comes in, checked by pydantic with the
service's limits; what goes out is derived from the monitor's contracts (serving/monitor: WatchedClaim, IngestReport,
StoredClaimSummary, RecentDocument) for the served model's labels, as /track's is."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr, WithJsonSchema

from models.contract import contract_model
from models.tracking import TrackedDocument
from serving.document_schemas import document_body
from serving.monitor.audit import AuditEntry
from serving.monitor.claims import WatchedClaim
from serving.monitor.documents import DeletedDocument, IngestReport
from serving.monitor.store import NewClaim
from serving.monitor.summaries import RecentDocument, StoredClaimSummary
from serving.monitor.tables import TAG_LENGTH
from serving.schemas import EXAMPLE_PAIR, ClaimText, plain_string
from serving.settings import SETTINGS
from serving.tracking_schemas import EXAMPLE_DOCUMENTS

StoredId = plain_string(SETTINGS.max_id_chars)
"""A claim's or a document's id in the store: a string (an id that is a number is sent as one)."""
Tag = plain_string(TAG_LENGTH)

EXAMPLE_CLAIM = {"id": "syria-strikes", "text": EXAMPLE_PAIR["claim"], "tags": ["syria"]}


class ClaimToWatch(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": EXAMPLE_CLAIM})

    text: ClaimText
    id: StoredId | None = Field(None, description="Yours to choose (then a retried call adds nothing); else made up.")
    tags: Annotated[list[Tag], Field(max_length=20)] = []

    def new_claim(self) -> NewClaim:
        return NewClaim(self.text, self.id, tuple(self.tags))


ClaimsToWatch = Annotated[
    list[ClaimToWatch],
    Field(min_length=1, max_length=SETTINGS.max_claims_per_call, json_schema_extra={"example": [EXAMPLE_CLAIM]}),
]


DocumentToIngest = document_body(
    "DocumentToIngest", SETTINGS, {**EXAMPLE_DOCUMENTS[0], "id": "article-17"}, id=StoredId
)
"""A document to check against every watched claim: /track's document, with a string id the store keys it by."""
DocumentsToIngest = Annotated[
    list[DocumentToIngest],
    Field(
        min_length=1,
        max_length=SETTINGS.max_ingest_documents,
        json_schema_extra={"example": [{**EXAMPLE_DOCUMENTS[0], "id": "article-17"}]},
    ),
]


def a_day(value: str) -> str:
    """Checked, and kept a string (BentoML validates the body twice, the second time what the first returned):
    pydantic's own `date` would also take a number (seconds since 1970), which the schema does not allow."""
    if not DAY.fullmatch(value):
        raise ValueError("not a day as YYYY-MM-DD")
    day(value)
    return value


def a_moment(value: str) -> str:
    """An RFC 3339 date-time with its offset; kept a string for the same reasons as `a_day`."""
    if not MOMENT.fullmatch(value):
        raise ValueError("not an RFC 3339 date-time with an offset (like 2015-10-01T12:00:00Z)")
    moment(value)
    return value


def day(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def moment(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value.upper())


def whole(value: int | float) -> int:
    """JSON Schema's integer takes 30.0; pydantic's strict int does not, and its lax one takes "30"."""
    if isinstance(value, float) and not value.is_integer():
        raise ValueError("not a whole number")
    return int(value)


DAY = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})", re.ASCII)
Day = Annotated[
    StrictStr,
    AfterValidator(a_day),
    WithJsonSchema({"type": "string", "format": "date", "description": "YYYY-MM-DD; both ends are included."}),
]
Moment = Annotated[StrictStr, AfterValidator(a_moment), WithJsonSchema({"type": "string", "format": "date-time"})]


def count_up_to(maximum: int) -> Any:
    """A whole number from 1 to `maximum` (2.0 is 2, as JSON numbers go), a 400 naming the limit past it."""
    return Annotated[
        StrictInt | StrictFloat,
        AfterValidator(whole),
        Field(ge=1, le=maximum),
        WithJsonSchema({"type": "integer", "minimum": 1, "maximum": maximum}),
    ]


RecentLimit = count_up_to(SETTINGS.max_recent_documents)
ClaimListLimit = count_up_to(SETTINGS.max_listed_claims)
DocumentPageLimit = count_up_to(SETTINGS.max_page_documents)
AuditLimit = count_up_to(SETTINGS.max_audit_entries)
ANSWERS = (WatchedClaim, IngestReport, StoredClaimSummary, TrackedDocument, RecentDocument, AuditEntry, DeletedDocument)


def monitor_schemas(labels: Sequence[str]) -> dict[str, type[BaseModel]]:
    """The answers' models under a model with these labels."""
    labels = tuple(labels)
    return {cls.__name__: contract_model(cls, labels) for cls in ANSWERS}
