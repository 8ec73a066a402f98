"""`--track` on the local engine: each claim's summary beside the scored rows, as POST /track gives it."""

import json
from dataclasses import asdict
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from batch_files import CLAIMS, tracked_rows, write_rows

from models.document_fields import DocumentDetails
from models.labels import LABELS
from models.result import StanceResult
from models.tracking import SummaryBuilder, TrackedDocument
from serving.batch.__main__ import main
from serving.batch.rows import tracking_reason
from serving.tracking_schemas import track_schema


def track(model: Path, source: Path, output: Path, *flags: str) -> int:
    return main(["--input", str(source), "--output", str(output), "--model", str(model), "--progress", "false",
                 "--track", "true", "--chunk_rows", "7", *flags])  # fmt: skip


def summaries(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def tracked(batch_model, tmp_path_factory):
    folder = tmp_path_factory.mktemp("track")
    rows = tracked_rows(40)
    rows[5]["published"] = "last week"
    rows[6]["id"] = None
    assert track(batch_model, write_rows(rows, folder / "in.jsonl"), folder / "out.parquet") == 0
    return folder, rows


def test_each_claim_gets_one_summary_in_first_row_order_built_from_its_scored_rows(tracked):
    folder, _ = tracked
    scored = pq.read_table(folder / "out.parquet").to_pylist()
    lines = summaries(folder / "out.claim_summaries.jsonl")
    assert [line["claim"] for line in lines] == list(CLAIMS)
    for line in lines:
        rows = [row for row in scored if row["claim"] == line["claim"]]
        builder = SummaryBuilder(LABELS)
        for position, row in enumerate(rows):
            result = StanceResult(label=row["label"], scores={k: row[f"score_{k}"] for k in LABELS}, relevance=None,
                                  text_reduced=False, model=row["model"])  # fmt: skip
            fields = DocumentDetails(id=row["id"], source=row["source"], published=row["published"])
            builder.add(TrackedDocument.of(result, fields, position))
        expected = asdict(builder.summary())
        summary = line["summary"]
        for key in ("documents", "related", "unrelated", "labels", "sources", "timeline"):
            assert summary[key] == expected[key]
        assert summary["related"] + summary["unrelated"] == len(rows)
        assert sum(share["count"] for share in summary["labels"].values()) == summary["related"]


def test_the_summary_has_the_fields_of_the_http_summary(tracked):
    folder, _ = tracked
    summary_model = track_schema(LABELS).model_fields["summary"].annotation
    for line in summaries(folder / "out.claim_summaries.jsonl"):
        summary_model.model_validate(line["summary"])
        strongest = line["summary"]["strongest"]["disputing"] or line["summary"]["strongest"]["asserting"]
        assert strongest is None or strongest["evidence"]["text"]


def test_rows_without_an_id_or_with_a_bad_date_go_to_rejects_and_no_row_is_lost(tracked):
    folder, rows = tracked
    rejects = [json.loads(line) for line in (folder / "out.rejects.jsonl").read_text().splitlines()]
    assert [(r["row"], r["reason"].split(":")[0]) for r in rejects] == [(6, "published"), (7, "id")]
    assert "not an RFC 3339 date" in rejects[0]["reason"]
    assert pq.read_table(folder / "out.parquet").num_rows + len(rejects) == len(rows)
    assert (
        sum(line["summary"]["documents"] for line in summaries(folder / "out.claim_summaries.jsonl")) == len(rows) - 2
    )


def test_a_file_without_the_id_column_stops_at_once_naming_it(batch_model, tmp_path, capsys):
    rows = [{key: value for key, value in row.items() if key != "id"} for row in tracked_rows(3)]
    assert track(batch_model, write_rows(rows, tmp_path / "in.jsonl"), tmp_path / "out.jsonl") == 2
    error = capsys.readouterr().err
    assert "no column 'id'" in error and "--id_column" in error


def test_tracking_needs_the_claim_column_in_the_output(batch_model, tmp_path, capsys):
    source = write_rows(tracked_rows(3), tmp_path / "in.jsonl")
    assert track(batch_model, source, tmp_path / "out.jsonl", "--keep_claim_text", "false") == 2
    assert "--keep_claim_text true" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("document_id", "published", "reason"),
    [("a", "2015-10-01", None), (7, None, None), (None, None, "id: missing"), (True, None, "id: expected"),
     (1.5, None, "id: expected"), ("a", "01/10/2015", "published: not an RFC 3339 date")],
)  # fmt: skip
def test_tracking_reason(document_id, published, reason):
    found = tracking_reason(("id", "published"), document_id, published)
    assert found == reason if reason is None else found.startswith(reason)
