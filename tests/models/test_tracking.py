from datetime import UTC, date, datetime

import pytest

from models.document_fields import DocumentDetails, published_day
from models.evidence import Evidence, Field
from models.labels import LABELS, STANCES
from models.result import StanceResult
from models.tracking import SummaryBuilder, TrackedDocument, relevance_order


def scores(label: str, p: float = 0.7) -> dict[str, float]:
    rest = (1 - p) / (len(LABELS) - 1)
    return {name: p if name == label else rest for name in LABELS}


def sentence(label: str, p: float, text: str = "s.") -> Evidence:
    return Evidence(text=text, start=0, end=len(text), label=label, scores=scores(label, p), field=Field.TEXT)


def document(id, label, source=None, published=None, evidence=(), p=0.7, labels=LABELS) -> TrackedDocument:
    result = StanceResult(
        label=label,
        scores=scores(label, p) if labels == LABELS else {name: 1 / len(labels) for name in labels},
        relevance=None,
        text_reduced=False,
        model="tiny",
        evidence=tuple(evidence),
    )
    fields = DocumentDetails(id=id, source=source, published=published and published.isoformat())
    return TrackedDocument.of(result, fields, position=0)


DOCUMENTS = [
    document("a", "asserting", "TASS", date(2015, 10, 1), [sentence("asserting", 0.9, "ISIS hit.")]),
    document("b", "disputing", "Reuters", date(2015, 10, 1), [sentence("disputing", 0.8, "Rebels hit.")]),
    document("c", "unrelated", "Reuters", date(2015, 10, 2), [sentence("disputing", 0.99, "Off topic.")]),
    document("d", "disputing", "Reuters", date(2015, 10, 3), [sentence("disputing", 0.95, "Not ISIS.")]),
    document("e", "reporting", None, None, [sentence("reporting", 0.9)]),
    document("f", "asserting", "AP", date(2015, 10, 1), p=0.6),
    document("g", "disputing", "AP", date(2015, 10, 1), p=0.9),
]


def test_counts_add_up_and_shares_are_over_the_related_documents():
    summary = SummaryBuilder(LABELS).add_all(DOCUMENTS).summary()
    assert (summary.documents, summary.related, summary.unrelated) == (7, 6, 1)
    assert {s: summary.labels[s].count for s in STANCES} == {"asserting": 2, "disputing": 3, "reporting": 1}
    assert sum(share.share for share in summary.labels.values()) == pytest.approx(1.0)
    assert summary.labels["disputing"].share == pytest.approx(0.5)


def test_each_source_lists_its_documents_and_prevails_with_its_related_majority():
    sources = {s.source: s for s in SummaryBuilder(LABELS).add_all(DOCUMENTS).summary().sources}
    assert [s.source for s in SummaryBuilder(LABELS).add_all(DOCUMENTS).summary().sources] == ["Reuters", "AP", "TASS"]
    reuters = sources["Reuters"]
    assert reuters.documents == ["b", "c", "d"] and reuters.related == 2  # the unrelated one is listed, not counted
    assert reuters.counts == {"asserting": 0, "disputing": 2, "reporting": 0} and reuters.prevailing == "disputing"
    assert sources["AP"].prevailing == "disputing"  # one each: the surer document decides
    only_unrelated = SummaryBuilder(LABELS).add_all([document("x", "unrelated", "Blog")]).summary().sources[0]
    assert only_unrelated.prevailing is None and only_unrelated.related == 0


def test_the_strongest_evidence_each_way_comes_from_related_documents_only():
    strongest = SummaryBuilder(LABELS).add_all(DOCUMENTS).summary().strongest
    assert set(strongest) == {"asserting", "disputing"}
    assert strongest["disputing"].id == "d" and strongest["disputing"].evidence.text == "Not ISIS."
    assert strongest["asserting"].id == "a" and strongest["asserting"].source == "TASS"
    assert SummaryBuilder(LABELS).add_all(DOCUMENTS[4:5]).summary().strongest == {"asserting": None, "disputing": None}


def test_the_timeline_counts_related_documents_per_day_in_date_order():
    timeline = SummaryBuilder(LABELS).add_all(reversed(DOCUMENTS)).summary().timeline
    assert [day.date for day in timeline] == ["2015-10-01", "2015-10-03"]  # the 2nd's only document is unrelated
    assert timeline[0].counts == {"asserting": 2, "disputing": 2, "reporting": 0}
    assert SummaryBuilder(LABELS).add_all(DOCUMENTS[4:5]).summary().timeline == []


def test_a_model_without_unrelated_takes_every_document_as_related():
    labels = STANCES
    docs = [document(i, "reporting", labels=labels) for i in range(3)]
    summary = SummaryBuilder(labels).add_all(docs).summary()
    assert (summary.related, summary.unrelated) == (3, 0) and summary.labels["reporting"].share == 1.0


def test_the_summary_dumps_to_plain_json():
    import json
    from dataclasses import asdict

    dumped = json.loads(json.dumps(asdict(SummaryBuilder(LABELS).add_all(DOCUMENTS).summary())))
    assert dumped["strongest"]["disputing"]["evidence"]["field"] == "text"
    assert dumped["sources"][0]["documents"] == ["b", "c", "d"]


@pytest.mark.parametrize(
    ("value", "day"),
    [
        ("2015-10-01", date(2015, 10, 1)),
        ("2015-10-01T23:30:00-05:00", date(2015, 10, 1)),
        ("2015-10-01T12:00:00Z", date(2015, 10, 1)),
        (datetime(2015, 10, 1, 23, tzinfo=UTC), date(2015, 10, 1)),
        (date(2015, 10, 1), date(2015, 10, 1)),
        (None, None),
        ("  ", None),
    ],
)
def test_published_day_reads_iso_dates_as_written(value, day):
    assert published_day(value) == day


@pytest.mark.parametrize("value", ["yesterday", "2015-13-01", "01/10/2015", 20151001])
def test_published_day_refuses_anything_else_by_value(value):
    with pytest.raises(ValueError, match="not an RFC 3339 date"):
        published_day(value)


def test_relevance_order_puts_the_most_relevant_first_and_keeps_input_order_on_ties():
    assert relevance_order([0.2, 0.9, 0.2, None, 0.9]) == [1, 4, 0, 2, 3]
