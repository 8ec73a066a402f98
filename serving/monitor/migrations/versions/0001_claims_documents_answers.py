"""Claims, documents and answers.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "claims",
        sa.Column("id", sa.String(256), primary_key=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("embedding", sa.LargeBinary(), nullable=True),
        sa.Column("embedding_model", sa.String(256), nullable=True),
    )
    op.create_table(
        "documents",
        sa.Column("id", sa.String(256), primary_key=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("published", sa.String(64), nullable=True),
        sa.Column("published_day", sa.Date(), nullable=True),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("ingested_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_documents_published_day", "documents", ["published_day"])
    op.create_index("ix_documents_ingested_at", "documents", ["ingested_at"])
    op.create_table(
        "answers",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("document_id", sa.String(256), sa.ForeignKey("documents.id", ondelete="CASCADE"), nullable=False),
        sa.Column("claim_id", sa.String(256), sa.ForeignKey("claims.id", ondelete="CASCADE"), nullable=False),
        sa.Column("model", sa.String(256), nullable=False),
        sa.Column("similarity", sa.Float(), nullable=False),
        sa.Column("label", sa.String(64), nullable=False),
        sa.Column("relevance", sa.Float(), nullable=True),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("text_reduced", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("document_id", "claim_id", "model", name="uq_answers_pair_model"),
    )
    op.create_index("ix_answers_claim_model", "answers", ["claim_id", "model"])


def downgrade() -> None:
    op.drop_table("answers")
    op.drop_table("documents")
    op.drop_table("claims")
