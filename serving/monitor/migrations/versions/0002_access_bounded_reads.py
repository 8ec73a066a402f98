"""Tags, claim changes, the audit, 64-bit answer ids, and what a claim's summary is read from in the database.

Revision ID: 0002
Revises: 0001

- `claim_tags`: a claim's tags one row each, indexed by tag and registration time (filled from `claims.tags`);
- `claim_changes`: each claim registered, retired or watched again, numbered (one row per existing claim);
- `audit`: every write, with the key that made it;
- `answers.id` 64-bit; `answers.source` and `published_day` (its document's), `label_score`,
  `asserting_strength` and `disputing_strength` (filled from each answer's scores and evidence), and the indexes a
  summary and /documents/recent read through.
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
"""64-bit, counting up by itself: SQLite's INTEGER PRIMARY KEY is 64-bit already, and counts up only under that name."""
BACKFILL_ROWS = 5000
"""Answers read and updated at a time while the new columns are filled."""


def upgrade() -> None:
    op.create_table(
        "claim_tags",
        sa.Column("claim_id", sa.String(256), sa.ForeignKey("claims.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("tag", sa.String(100), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_claim_tags_tag_created", "claim_tags", ["tag", "created_at", "claim_id"])
    op.create_table(
        "claim_changes",
        sa.Column("seq", SERIAL, primary_key=True, autoincrement=True),
        sa.Column("claim_id", sa.String(256), nullable=False),
    )
    op.create_table(
        "audit",
        sa.Column("id", SERIAL, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("key_name", sa.String(100), nullable=True),
        sa.Column("route", sa.String(100), nullable=False),
        sa.Column("ids", sa.JSON(), nullable=False),
    )
    op.create_index("ix_audit_at", "audit", ["at"])
    op.create_index("ix_claims_created", "claims", ["created_at", "id"])
    with op.batch_alter_table("answers") as batch:
        batch.alter_column("id", type_=SERIAL, existing_nullable=False)
        batch.add_column(sa.Column("source", sa.Text(), nullable=True))
        batch.add_column(sa.Column("published_day", sa.Date(), nullable=True))
        batch.add_column(sa.Column("label_score", sa.Float(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("asserting_strength", sa.Float(), nullable=True))
        batch.add_column(sa.Column("disputing_strength", sa.Float(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":  # the serial's own sequence counts in 32 bits until told
        op.execute("ALTER SEQUENCE answers_id_seq AS bigint")
    op.drop_index("ix_answers_claim_model", "answers")
    op.create_index("ix_answers_claim_model", "answers", ["claim_id", "model", "id"])
    op.create_index("ix_answers_pair", "answers", ["document_id", "claim_id", "id"])
    op.create_index("ix_answers_claim_model_asserting", "answers", ["claim_id", "model", "asserting_strength"])
    op.create_index("ix_answers_claim_model_disputing", "answers", ["claim_id", "model", "disputing_strength"])
    fill(op.get_bind())


def fill(connection) -> None:
    """The new tables and columns from what the old ones hold, in pages of answers (a store of months of answers
    is not read into memory at once)."""
    claims = sa.table("claims", sa.column("id"), sa.column("tags", sa.JSON), sa.column("created_at"))
    tags = sa.table("claim_tags", sa.column("claim_id"), sa.column("tag"), sa.column("created_at"))
    changes = sa.table("claim_changes", sa.column("claim_id"))
    rows = connection.execute(sa.select(claims.c.id, claims.c.tags, claims.c.created_at).order_by(claims.c.created_at))
    for claim_id, claim_tags, created_at in rows.all():
        connection.execute(sa.insert(changes).values(claim_id=claim_id))
        for tag in dict.fromkeys(claim_tags or []):
            connection.execute(sa.insert(tags).values(claim_id=claim_id, tag=tag, created_at=created_at))
    answers = sa.table(
        "answers",
        sa.column("id"),
        sa.column("label"),
        sa.column("scores", sa.JSON),
        sa.column("evidence", sa.JSON),
        sa.column("label_score"),
        sa.column("asserting_strength"),
        sa.column("disputing_strength"),
    )
    documents = sa.table("documents", sa.column("id"), sa.column("source"), sa.column("published_day"))
    copied = sa.table("answers", sa.column("document_id"), sa.column("source"), sa.column("published_day"))
    of_document = sa.select(documents.c.source, documents.c.published_day).where(documents.c.id == copied.c.document_id)
    connection.execute(
        sa.update(copied).values(
            source=of_document.with_only_columns(documents.c.source).scalar_subquery(),
            published_day=of_document.with_only_columns(documents.c.published_day).scalar_subquery(),
        )
    )
    last = -1
    while True:
        page = connection.execute(
            sa.select(answers.c.id, answers.c.label, answers.c.scores, answers.c.evidence)
            .where(answers.c.id > last)
            .order_by(answers.c.id)
            .limit(BACKFILL_ROWS)
        ).all()
        if not page:
            return
        for answer_id, label, scores, evidence in page:
            connection.execute(
                sa.update(answers).where(answers.c.id == answer_id).values(label_score=scores.get(label, 0.0),
                    **{f"{side}_strength": strength(evidence, side) for side in ("asserting", "disputing")})
            )  # fmt: skip
        last = page[-1][0]


def strength(evidence: list[dict], side: str) -> float | None:
    scores = [item["scores"][side] for item in evidence or [] if item.get("label") == side]
    return max(scores) if scores else None


def downgrade() -> None:
    op.drop_index("ix_answers_claim_model_disputing", "answers")
    op.drop_index("ix_answers_claim_model_asserting", "answers")
    op.drop_index("ix_answers_pair", "answers")
    op.drop_index("ix_answers_claim_model", "answers")
    op.create_index("ix_answers_claim_model", "answers", ["claim_id", "model"])
    with op.batch_alter_table("answers") as batch:
        batch.drop_column("disputing_strength")
        batch.drop_column("asserting_strength")
        batch.drop_column("label_score")
        batch.drop_column("published_day")
        batch.drop_column("source")
        batch.alter_column("id", type_=sa.Integer(), existing_nullable=False)
    op.drop_index("ix_claims_created", "claims")
    op.drop_table("audit")
    op.drop_table("claim_changes")
    op.drop_table("claim_tags")
