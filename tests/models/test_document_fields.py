from dataclasses import fields

import pytest

from models.document_fields import (
    DETAIL_FIELDS,
    DOCUMENT_FIELDS,
    ID_CHARS,
    OPTIONAL_FIELDS,
    PUBLISHED_CHARS,
    DocumentDetails,
    DocumentLimits,
    SentDocument,
    field_description,
    published_day,
)


def test_a_document_is_its_details_and_its_text():
    assert set(DOCUMENT_FIELDS) == {"id", "text", "title", "source", "url", "published"}
    assert DETAIL_FIELDS == tuple(name for name in DOCUMENT_FIELDS if name != "text")
    assert set(OPTIONAL_FIELDS) == {"title", "source", "url", "published"}
    assert [field.name for field in fields(DocumentDetails)] == list(DETAIL_FIELDS)


def test_every_field_has_a_limit_and_a_description():
    limits = DocumentLimits()
    for name in DOCUMENT_FIELDS:
        assert limits.limit(name) >= 1
        assert field_description(SentDocument, name)


def test_ids_and_dates_may_not_be_longer_than_the_stores_keep():
    with pytest.raises(ValueError, match="max_id_chars"):
        DocumentLimits(max_id_chars=ID_CHARS + 1)
    with pytest.raises(ValueError, match="max_published_chars"):
        DocumentLimits(max_published_chars=PUBLISHED_CHARS + 1)


@pytest.mark.parametrize(
    ("value", "day"),
    [("2015-10-01", "2015-10-01"), ("2015-10-01T23:30:00-05:00", "2015-10-01"), (None, None), ("  ", None)],
)
def test_the_published_day_is_the_day_as_written(value, day):
    found = published_day(value)
    assert (found and found.isoformat()) == day


@pytest.mark.parametrize("value", ["1 Oct 2015", "2015-02-30", "2015-10-01T12:00:00"])
def test_a_date_that_is_not_rfc_3339_is_refused_naming_it(value):
    with pytest.raises(ValueError, match="RFC 3339"):
        published_day(value)
