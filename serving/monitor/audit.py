"""Who changed the store: every write (register, ingest, retire, watch again, delete) is recorded in the same
transaction as the write itself, with the name of the API key that made it (none where the service runs without
keys), its route and the ids it touched; an admin key reads them back, the newest first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

import pydantic
from sqlalchemy import select
from sqlalchemy.orm import Session

from serving.monitor.claims import as_utc
from serving.monitor.tables import AuditRow


@dataclass(frozen=True)
class Writer:
    """Who writes: the API key's name (None without keys, or for a batch job), and the route or job."""

    key: str | None
    route: str


@dataclass(frozen=True, kw_only=True)
class AuditEntry:
    id: Annotated[int, pydantic.Field(description="Numbered in the order the writes were made.")]
    at: datetime
    key: Annotated[str | None, pydantic.Field(description="The API key's name; null: the service runs without keys.")]
    route: str
    ids: tuple[str, ...]
    """The claims or documents the write touched."""


def record(session: Session, writer: Writer, ids: Sequence[str]) -> None:
    session.add(AuditRow(at=datetime.now(UTC), key_name=writer.key, route=writer.route, ids=list(ids)))


def audit_entries(session: Session, limit: int, before: int | None = None) -> list[AuditEntry]:
    """The newest writes first, at most `limit`, those numbered below `before` (the last of the page before)."""
    query = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
    if before is not None:
        query = query.where(AuditRow.id < before)
    return [
        AuditEntry(id=row.id, at=as_utc(row.at), key=row.key_name, route=row.route, ids=tuple(row.ids))
        for row in session.scalars(query)
    ]
