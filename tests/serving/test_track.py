"""POST /track over HTTP, on a real `bentoml serve` of the tiny model (see conftest.py)."""

from __future__ import annotations

import copy
import json

import httpx
import numpy as np
import pytest

from models.labels import LABELS, STANCES
from models.pair import Pair
from models.predictor import StancePredictor
from models.runtime import Runtime
from tests.helpers import CLAIM

pytestmark = pytest.mark.e2e

LONG = " ".join(f"Farmers in the valley planted barley during week {i} of the season." for i in range(40))
DOCUMENTS = [
    {"id": "d1", "text": "Officials confirmed that a meteorite crashed near the airport.", "source": "Wire",
     "published": "2015-10-01"},
    {"id": 2, "text": LONG + " Officials denied that a meteorite hit Managua.", "title": "No meteorite, say officials",
     "source": "Daily", "url": "https://example.org/2", "published": "2015-10-02T08:00:00Z"},
    {"id": "d3", "text": "The zoo's panda gave birth to triplets.", "source": "Wire"},
    {"id": "d4", "text": "Reports say a meteorite may have crashed near the airport in Managua."},
    {"id": "d5", "text": "Nobody saw a meteorite near the airport in Managua, police said.", "source": "Daily",
     "published": "2015-10-01"},
]  # fmt: skip


def track(server, body) -> httpx.Response:
    return httpx.post(f"{server.url}/track", json=body, timeout=60)


@pytest.fixture(scope="module")
def answer(server):
    response = track(server, {"claim": CLAIM, "documents": DOCUMENTS})
    assert response.status_code == 200, response.text
    return response.json()


def test_each_document_gets_the_models_own_answer_with_its_fields_echoed(answer, served_model):
    predictor = StancePredictor.from_dir(served_model.model_dir, Runtime.ONNX, num_threads=1)
    expected = predictor.predict([Pair(CLAIM, d["text"], d.get("title")) for d in DOCUMENTS])
    assert answer["claim"] == CLAIM and answer["model"] == served_model.tag
    by_position = {d["position"]: d for d in answer["documents"]}
    assert sorted(by_position) == list(range(len(DOCUMENTS)))
    for position, sent in enumerate(DOCUMENTS):
        got, want = by_position[position], expected[position]
        assert got["id"] == sent["id"] and got["label"] == want.label
        for field in ("title", "source", "url", "published"):
            assert got[field] == sent.get(field)
        np.testing.assert_allclose([got["scores"][k] for k in LABELS], [want.scores[k] for k in LABELS], atol=1e-5)
        assert [(e["start"], e["end"], e["field"]) for e in got["evidence"]] == [
            (e.start, e.end, str(e.field)) for e in want.evidence
        ]
    assert "text" not in by_position[0]  # the caller has it; the answer does not send articles back


def test_documents_come_most_relevant_first_then_in_input_order(answer):
    keys = [(-d["relevance"], d["position"]) for d in answer["documents"]]
    assert keys == sorted(keys)


def test_the_summary_counts_add_up_and_agree_with_the_documents(answer):
    summary, documents = answer["summary"], answer["documents"]
    related = [d for d in documents if d["label"] != "unrelated"]
    assert summary["documents"] == len(DOCUMENTS) == summary["related"] + summary["unrelated"]
    assert summary["related"] == len(related)
    assert sum(share["count"] for share in summary["labels"].values()) == summary["related"]
    for stance in STANCES:
        assert summary["labels"][stance]["count"] == sum(d["label"] == stance for d in related)
    assert {s["source"]: s["documents"] for s in summary["sources"]} == {"Wire": ["d1", "d3"], "Daily": [2, "d5"]}
    for source in summary["sources"]:
        assert sum(source["counts"].values()) == source["related"]
    dated = [d for d in related if d["published"]]
    assert sum(sum(day["counts"].values()) for day in summary["timeline"]) == len(dated)
    assert set(summary["strongest"]) == {"asserting", "disputing"}


@pytest.mark.parametrize(
    ("body", "loc", "message"),
    [
        ({"claim": CLAIM, "documents": []}, ["documents"], "at least 1 item"),
        ({"claim": CLAIM, "documents": [{"id": i, "text": "t"} for i in range(9)]}, ["documents"], "at most 8 items"),
        ({"claim": CLAIM, "documents": [{"id": 1, "text": "t", "published": "last week"}]},
         ["documents", 0, "published"], "not an RFC 3339 date"),
        ({"claim": CLAIM, "documents": [{"id": 1, "text": "t"}, {"id": 2, "text": "t", "published": "2015-02-30"}]},
         ["documents", 1, "published"], "not an RFC 3339 date"),
        ({"claim": CLAIM, "documents": [{"text": "t"}]}, ["documents", 0, "id"], "required"),
        ({"claim": CLAIM, "documents": [{"id": "i" * 257, "text": "t"}]},
         ["documents", 0, "id", "constrained-str"], "at most 256 characters"),
        ({"claim": CLAIM, "documents": [{"id": 1, "text": "t", "published": "2015-10-01" + " " * 60}]},
         ["documents", 0, "published"], "at most 64 characters"),
        ({"claim": CLAIM, "documents": [{"id": 1, "text": "\u200b\u200b\u200b"}]},
         ["documents", 0, "text"], "must have a visible character"),
        ({"claim": "word " * 100, "documents": [{"id": 1, "text": "t"}]}, ["claim"], "over the limit of 96 tokens"),
    ],
)  # fmt: skip
def test_bad_input_is_400_naming_the_field_and_the_limit(server, body, loc, message):
    response = track(server, body)
    assert response.status_code == 400, response.text
    details = response.json()["detail"]
    assert any(d["loc"][-len(loc) :] == loc and message in d["msg"] for d in details), details


def test_the_route_takes_a_body_over_the_other_routes_limit_but_not_over_its_own(server):
    documents = [{"id": i, "text": "Officials confirmed that a meteorite fell. " * 100} for i in range(8)]
    assert track(server, {"claim": CLAIM, "documents": documents}).status_code == 200  # ~35 kB: over 30,000
    big = [{"id": i, "text": "x" * 4900} for i in range(8)] * 2
    assert track(server, {"claim": CLAIM, "documents": big}).status_code == 413


def test_the_batch_job_tracks_the_same_documents_to_the_same_summary(answer, served_model, tmp_path):
    from serving.batch.__main__ import main

    source = tmp_path / "documents.jsonl"
    source.write_text("".join(json.dumps({"claim": CLAIM, **document}) + "\n" for document in DOCUMENTS))
    flags = ["--model", str(served_model.model_dir), "--track", "true", "--title_column", "title", "--workers", "1"]
    assert main(["--input", str(source), "--output", str(tmp_path / "out.jsonl"), "--progress", "false", *flags]) == 0
    [line] = [json.loads(text) for text in (tmp_path / "out.claim_summaries.jsonl").read_text().splitlines()]
    batch, http = line["summary"], copy.deepcopy(answer["summary"])
    assert line["claim"] == CLAIM
    for source in http["sources"]:  # a file's id column of strings and numbers is read as text
        source["documents"] = [str(document_id) for document_id in source["documents"]]
    for key in ("documents", "related", "unrelated", "labels", "sources", "timeline"):
        assert batch[key] == http[key], key
    for side, found in http["strongest"].items():  # the batch job rounds its scores to 6 decimals
        if found is None:
            assert batch["strongest"][side] is None
            continue
        for field in ("id", "source", "url"):
            assert batch["strongest"][side][field] == (str(found[field]) if field == "id" else found[field])
        batch_evidence, http_evidence = batch["strongest"][side]["evidence"], found["evidence"]
        assert {k: v for k, v in batch_evidence.items() if k != "scores"} == {
            k: v for k, v in http_evidence.items() if k != "scores"
        }
        assert batch_evidence["scores"] == pytest.approx(http_evidence["scores"], abs=1e-5)
