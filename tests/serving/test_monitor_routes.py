"""The claim monitor over HTTP, on a real `bentoml serve` of the tiny stance model and the tiny embedder. Matching
lets every pair through here (threshold -1): the tiny embedder's cosines mean nothing, and what is tested is what
happens to the pairs that reach the stance model."""

from __future__ import annotations

import threading
import time

import httpx
import pytest
from sqlalchemy import text

from eval.harness.server_process import MONITOR_OFF
from serving.monitor.database import monitor_engine
from serving.settings import ServiceSettings
from tests.conftest import fresh_postgres_database
from tests.helpers import CLAIM, LONG_TEXT, post
from tests.serving.conftest import SERVER_LIMITS, start_server

pytestmark = pytest.mark.e2e

DOCUMENTS = [
    {
        "id": f"doc-{i}",
        "title": f"Report {i}",
        "text": f"Officials said a meteorite hit Managua, report {i}. Others denied it.",
        "source": ("Reuters", "AP")[i % 2],
        "published": f"2015-10-0{i + 1}",
    }
    for i in range(4)
]


@pytest.fixture(scope="module")
def monitor(served_model, tmp_path_factory):
    env = {**SERVER_LIMITS, "CLAIMSTANCE_MATCH__THRESHOLD": "-1", "CLAIMSTANCE_MAX_INGEST_DOCUMENTS": "6"}
    with start_server(served_model.home, tmp_path_factory.mktemp("monitor") / "server.log", env) as running:
        yield running


def register(server, *claims) -> list[dict]:
    response = post(server, "/claims/register", {"claims": list(claims)})
    assert response.status_code == 200, response.text
    return response.json()


def test_claims_are_registered_listed_and_retired(monitor):
    [first, second] = register(
        monitor, {"text": CLAIM, "id": "meteorite", "tags": ["managua"]}, {"text": "Other claim"}
    )
    assert (first["id"], first["text"], first["tags"], first["retired_at"]) == ("meteorite", CLAIM, ["managua"], None)
    assert register(monitor, {"text": CLAIM, "id": "meteorite"}) == [first]  # a retried call adds nothing
    listed = post(monitor, "/claims/list", {}).json()
    assert first in listed and second in listed
    assert post(monitor, "/claims/list", {"tag": "managua"}).json() == [first]

    retired = post(monitor, "/claims/retire", {"id": second["id"]}).json()
    assert retired["retired_at"] is not None
    assert second["id"] not in [c["id"] for c in post(monitor, "/claims/list", {}).json()]
    assert retired in post(monitor, "/claims/list", {"include_retired": True}).json()
    everyone = post(monitor, "/claims/list", {"include_retired": True}).json()
    assert post(monitor, "/claims/list", {"include_retired": True, "limit": 1}).json() == everyone[:1]
    after_first = post(monitor, "/claims/list", {"include_retired": True, "after": everyone[0]["id"]}).json()
    assert after_first == everyone[1:]


def test_claim_errors_name_the_field(monitor):
    register(monitor, {"text": CLAIM, "id": "taken"})
    conflict = post(
        monitor, "/claims/register", {"claims": [{"text": "x y z", "id": "new"}, {"text": "Else", "id": "taken"}]}
    )
    assert conflict.status_code == 409 and conflict.json()["detail"][0]["loc"] == ["claims", 1, "id"]
    assert post(monitor, "/claims/list", {}).json() and "new" not in [
        c["id"] for c in post(monitor, "/claims/list", {}).json()
    ]  # nothing of the refused call was registered
    for route in ("/claims/retire", "/claims/unretire", "/claims/summary", "/claims/documents"):
        unknown = post(monitor, route, {"id": "nope"})
        assert unknown.status_code == 404 and unknown.json()["detail"][0]["loc"] == ["id"], route
        assert "claim_id 'nope'" in unknown.json()["error"]
    unknown_after = post(monitor, "/claims/list", {"after": "nope"})
    assert unknown_after.status_code == 404 and unknown_after.json()["detail"][0]["loc"] == ["after"]
    unknown_document = post(monitor, "/documents/delete", {"id": "nope"})
    assert unknown_document.status_code == 404 and "document id 'nope'" in unknown_document.json()["error"]
    most = ServiceSettings.model_fields["max_listed_claims"].default  # the server runs on the defaults
    too_many = post(monitor, "/claims/list", {"limit": most + 1})
    assert too_many.status_code == 400 and too_many.json()["detail"][0]["loc"] == ["limit"]
    assert f"less than or equal to {most}" in too_many.json()["detail"][0]["msg"]
    empty = post(monitor, "/claims/register", {"claims": [{"text": ""}]})
    assert empty.status_code == 400 and "text" in str(empty.json())


def stored(summary: dict) -> dict:
    """/track's summary as a stored claim's summary gives it: each source's documents counted, not listed."""
    return {**summary, "sources": [{**source, "documents": []} for source in summary["sources"]]}


def test_ingested_documents_give_the_claim_the_summary_track_gives(monitor):
    register(monitor, {"text": CLAIM, "id": "summary-claim"})
    report = post(monitor, "/documents/ingest", {"documents": DOCUMENTS}).json()
    assert report["stored"] == [d["id"] for d in DOCUMENTS] and report["already_stored"] == []
    again = post(monitor, "/documents/ingest", {"documents": DOCUMENTS[::-1]}).json()
    assert (again["stored"], again["answers"]) == ([], 0)
    assert again["already_stored"] == [d["id"] for d in DOCUMENTS[::-1]]

    summary = post(monitor, "/claims/summary", {"id": "summary-claim"}).json()
    track = post(monitor, "/track", {"claim": CLAIM, "documents": DOCUMENTS}).json()
    assert summary["summary"] == stored(track["summary"]) and summary["model"] == track["model"]
    assert summary["claim"]["id"] == "summary-claim" and summary["other_models"] == {}
    documents = post(monitor, "/claims/documents", {"id": "summary-claim", "limit": 2}).json()
    rest = post(monitor, "/claims/documents", {"id": "summary-claim", "after": documents[-1]["id"]}).json()
    in_input_order = sorted(track["documents"], key=lambda d: d["position"])
    assert [{**d, "position": 0} for d in documents + rest] == [{**d, "position": 0} for d in in_input_order]

    ranged = post(monitor, "/claims/summary", {"id": "summary-claim", "since": "2015-10-02", "until": "2015-10-03"})
    expected = post(monitor, "/track", {"claim": CLAIM, "documents": DOCUMENTS[1:3]}).json()
    assert ranged.json()["summary"] == stored(expected["summary"])
    former = post(monitor, "/claims/picture", {"id": "summary-claim", "since": "2015-10-02", "until": "2015-10-03"})
    assert former.json() == ranged.json()  # the route's former name, kept (deprecated)
    recent = post(monitor, "/documents/recent", {"limit": 2}).json()
    assert len(recent) == 2 and all(d["id"] in {x["id"] for x in DOCUMENTS} for d in recent)


def test_document_errors_name_the_field_and_store_nothing(monitor):
    changed = {**DOCUMENTS[0], "id": "conflicting", "text": "First version."}
    assert post(monitor, "/documents/ingest", {"documents": [changed]}).status_code == 200
    fresh = {"id": "fresh", "text": "A new text about the meteorite."}
    refused = post(monitor, "/documents/ingest", {"documents": [fresh, {**changed, "text": "Second version."}]})
    assert refused.status_code == 409 and refused.json()["detail"][0]["loc"] == ["documents", 1, "id"]
    assert post(monitor, "/documents/ingest", {"documents": [fresh]}).json()["stored"] == ["fresh"]  # not stored before

    for document, field in (
        ({"text": "no id"}, "id"),
        ({"id": "x"}, "text"),
        ({"id": "x", "text": "t", "published": "1 Oct"}, "published"),
    ):
        response = post(monitor, "/documents/ingest", {"documents": [document]})
        assert response.status_code == 400, document
        assert any(field in detail["loc"] for detail in response.json()["detail"]), response.json()
    too_many = post(monitor, "/documents/ingest", {"documents": [fresh] * 7})
    assert too_many.status_code == 400 and "documents" in too_many.json()["detail"][0]["loc"]
    backwards = post(monitor, "/claims/summary", {"id": "summary-claim", "since": "2015-10-03", "until": "2015-10-01"})
    assert backwards.status_code == 400 and backwards.json()["detail"][0]["loc"] == ["until"]
    not_a_day = post(monitor, "/claims/summary", {"id": "summary-claim", "since": "October"})
    assert not_a_day.status_code == 400 and "since" in not_a_day.json()["detail"][0]["loc"]


def test_with_the_monitor_off_its_routes_say_so(served_model, tmp_path):
    with start_server(served_model.home, tmp_path / "server.log", SERVER_LIMITS | MONITOR_OFF) as server:
        response = post(server, "/claims/list", {})
        assert response.status_code == 404 and "CLAIMSTANCE_MONITOR=false" in response.json()["error"]
        assert post(server, "/predict", {"claim": CLAIM, "text": "Officials confirmed it."}).status_code == 200


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_killed_during_an_ingest_and_retried_every_document_is_stored_once(served_model, tmp_path, database, request):
    url = f"sqlite:///{tmp_path / 'monitor.sqlite3'}"
    if database == "postgresql":
        url = fresh_postgres_database(request.getfixturevalue("postgres_server"))
    env = {
        **SERVER_LIMITS,
        "CLAIMSTANCE_DATABASE_URL": url,
        "CLAIMSTANCE_MATCH__THRESHOLD": "-1",
        "CLAIMSTANCE_MAX_INGEST_DOCUMENTS": "10",
        "CLAIMSTANCE_MAX_TRACK_BODY_BYTES": "1000000",
    }
    batches = [
        [{"id": f"k{b}-{i}", "text": f"Report {b}.{i}. " + LONG_TEXT[:3000]} for i in range(10)] for b in range(40)
    ]
    answered = []

    def send_all(server) -> None:
        for batch in batches:
            try:
                answered.append(post(server, "/documents/ingest", {"documents": batch}, timeout=60).status_code)
            except httpx.HTTPError:
                return

    server = start_server(served_model.home, tmp_path / "first.log", env)
    register(server, {"text": CLAIM, "id": "watched"})
    sender = threading.Thread(target=send_all, args=(server,))
    sender.start()
    deadline = time.monotonic() + 60
    while len(answered) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    server.kill()  # during a later call: planning, scoring or committing it
    sender.join(timeout=60)
    assert 0 < len(answered) < len(batches), "the kill came before the first call or after the last"

    with start_server(served_model.home, tmp_path / "second.log", env) as restarted:  # the same database
        for batch in batches:
            assert post(restarted, "/documents/ingest", {"documents": batch}, timeout=60).status_code == 200
    engine = monitor_engine(url)
    with engine.connect() as connection:
        if database == "sqlite":
            assert connection.execute(text("PRAGMA integrity_check")).scalar() == "ok"
        per_document = connection.execute(text("SELECT document_id, count(*) FROM answers GROUP BY document_id")).all()
        documents = connection.execute(text("SELECT count(*) FROM documents")).scalar()
    engine.dispose()
    assert documents == 400 and len(per_document) == 400 and {count for _, count in per_document} == {1}
