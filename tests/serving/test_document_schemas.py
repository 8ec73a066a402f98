"""One declaration of a document (models/document_fields.py) drives every surface's form of it."""

from dataclasses import dataclass, fields
from typing import Annotated

import pydantic
import pytest
from pydantic import Field

from models.document_fields import (
    DETAIL_FIELDS,
    DOCUMENT_FIELDS,
    ID_CHARS,
    PUBLISHED_CHARS,
    DocumentLimits,
    SentDocument,
)
from serving.batch.config import BatchConfig
from serving.batch.tracking import TrackColumns
from serving.document_schemas import document_body
from serving.monitor.document_lines import field_reason
from serving.monitor.documents import IncomingDocument
from serving.monitor.tables import DocumentRow
from serving.monitor_schemas import DocumentToIngest
from serving.routes.tracker_page import document_fields
from serving.settings import SETTINGS
from serving.tracking_schemas import DocumentToTrack


@pytest.mark.parametrize("body", [DocumentToTrack, DocumentToIngest])
def test_the_request_bodies_have_the_declared_fields_with_the_service_limits(body):
    schema = body.model_json_schema()
    assert list(schema["properties"]) == list(DOCUMENT_FIELDS)
    assert set(schema["required"]) == {"id", "text"}
    for name in ("title", "source", "url", "published", "text"):
        property_schema = schema["properties"][name]
        declared = property_schema.get("anyOf", [property_schema])[0]
        assert declared["maxLength"] == SETTINGS.limit(name), name


def test_each_field_is_checked_as_its_markers_say():
    document = {"id": 7, "text": "Officials confirmed it."}
    assert DocumentToTrack.model_validate(document).id == 7
    with pytest.raises(pydantic.ValidationError, match="id"):
        DocumentToIngest.model_validate(document)  # the store's ids are strings
    with pytest.raises(pydantic.ValidationError, match="visible character"):
        DocumentToTrack.model_validate({"id": "a", "text": "\u200b "})
    with pytest.raises(pydantic.ValidationError, match="RFC 3339"):
        DocumentToTrack.model_validate({"id": "a", "text": "t", "published": "Monday"})
    with pytest.raises(pydantic.ValidationError, match="source"):
        DocumentToTrack.model_validate({"id": "a", "text": "t", "source": "a\x00b"})


def test_a_body_reads_as_the_declarations_dataclasses():
    body = DocumentToIngest.model_validate({"id": "a", "text": "t", "source": "Reuters", "published": "2015-10-01"})
    incoming = body.read_as(IncomingDocument)
    assert (incoming.id, incoming.source, incoming.published, incoming.text) == ("a", "Reuters", "2015-10-01", "t")
    assert isinstance(incoming, SentDocument)


class AuthorLimits(DocumentLimits):
    max_author_chars: int = Field(default=80, ge=1)


@dataclass(frozen=True, kw_only=True)
class WithAuthor(SentDocument):
    author: Annotated[str | None, pydantic.Field(description="Who wrote it.")] = None


def test_a_field_added_to_the_declaration_reaches_the_request_body_with_its_limit():
    body = document_body("DocumentWithAuthor", AuthorLimits(), {}, WithAuthor)
    author = body.model_json_schema()["properties"]["author"]
    assert author["description"] == "Who wrote it." and author["anyOf"][0]["maxLength"] == 80
    with pytest.raises(pydantic.ValidationError, match="at most 80"):
        body.model_validate({"id": "a", "text": "t", "author": "x" * 81})


def test_the_monitor_table_keeps_every_declared_field_in_columns_as_wide_as_the_limits():
    columns = DocumentRow.__table__.columns
    assert set(DOCUMENT_FIELDS) <= set(columns.keys())
    assert columns["id"].type.length == ID_CHARS and columns["published"].type.length == PUBLISHED_CHARS
    assert SETTINGS.max_id_chars <= ID_CHARS and SETTINGS.max_published_chars <= PUBLISHED_CHARS


def test_the_monitor_file_job_checks_every_declared_field_by_its_limit():
    for name in DOCUMENT_FIELDS:
        record = {"id": "a", "text": "t", name: "x" * (SETTINGS.limit(name) + 1)}
        assert field_reason(record) == f"{name}: {SETTINGS.limit(name) + 1:,} characters, over the limit of " + (
            f"{SETTINGS.limit(name):,}"
        )


def test_the_batch_job_has_a_column_flag_for_every_detail_and_tracks_them_all():
    config = BatchConfig(input="in.jsonl", output="out.jsonl", source_column="outlet", title_column="headline")
    flags = {field.name for field in fields(BatchConfig)}
    assert {f"{name}_column" for name in DOCUMENT_FIELDS} <= flags
    assert config.detail_columns == {"id": "id", "title": "headline", "source": "outlet", "url": "url",
                                     "published": "published"}  # fmt: skip
    columns = TrackColumns(config.claim_column, config.detail_columns, predictions=None)
    row = {"id": 3, "headline": "H", "outlet": "Reuters", "published": "2015-10-01"}
    document = columns.document(row)
    assert [getattr(document, name) for name in DETAIL_FIELDS] == [3, "H", "Reuters", None, "2015-10-01"]


def test_the_page_reads_the_declared_fields():
    listed = document_fields()
    assert [field["name"] for field in listed] == list(DOCUMENT_FIELDS)
    assert {field["name"] for field in listed if field["required"]} == {"id", "text"}
