"""The service safe to expose, over HTTP on a real `bentoml serve`: keys and scopes on every route, the Host
allow-list, the audit, watching again and deleting, the caps, NUL refused, an ingest too large for one call, slow
senders, refused bodies drained, a database down at start, and an unknown variable."""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from eval.harness.slow_sender import slow_senders
from tests.helpers import TAUGHT_CLAIMS, post, taught_text
from tests.serving.conftest import SERVER_LIMITS, start_server

pytestmark = pytest.mark.e2e

READ, WRITE, ADMIN = "read-key-0123456789", "write-key-0123456789", "admin-key-0123456789"
KEYS = [
    {"name": "desk", "scope": "read", "key": READ},
    {"name": "ingest-bot", "scope": "write", "key": WRITE},
    {"name": "editor", "scope": "admin", "key": ADMIN},
]
GUARDED = {
    **SERVER_LIMITS,
    "CLAIMSTANCE_API_KEYS": json.dumps(KEYS),
    "CLAIMSTANCE_MATCH__THRESHOLD": "-1",
    "CLAIMSTANCE_MAX_WATCHED_CLAIMS": "3",
    "CLAIMSTANCE_MAX_STORED_DOCUMENTS": "4",
    "CLAIMSTANCE_MAX_INGEST_PAIRS": "4",
}
CLAIM = TAUGHT_CLAIMS[0]
ROUTES = {  # each route, a body it takes, and the scope it needs
    "/predict": ({"claim": CLAIM, "text": "Some text."}, "read"),
    "/predict_batch": ({"pairs": [{"claim": CLAIM, "text": "Some text."}]}, "read"),
    "/track": ({"claim": CLAIM, "documents": [{"id": 1, "text": "Some text."}]}, "read"),
    "/claims/list": ({}, "read"),
    "/claims/summary": ({"id": "c1"}, "read"),
    "/claims/picture": ({"id": "c1"}, "read"),
    "/claims/documents": ({"id": "c1"}, "read"),
    "/documents/recent": ({}, "read"),
    "/claims/register": ({"claims": [{"id": "c1", "text": CLAIM}]}, "write"),
    "/documents/ingest": ({"documents": [{"id": "d1", "text": taught_text("{claim}", CLAIM)}]}, "write"),
    "/claims/retire": ({"id": "c1"}, "admin"),
    "/claims/unretire": ({"id": "c1"}, "admin"),
    "/documents/delete": ({"id": "d1"}, "admin"),
    "/audit/list": ({}, "admin"),
}
SECRETS = {"read": READ, "write": WRITE, "admin": ADMIN}


@pytest.fixture(scope="module")
def guarded(served_model, tmp_path_factory) -> Iterator:
    with start_server(served_model.home, tmp_path_factory.mktemp("guarded") / "server.log", GUARDED) as running:
        yield running


def call(server, route: str, body: dict, key: str | None = None, **kwargs) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return post(server, route, body, headers=headers, **kwargs)


def test_every_route_needs_a_key_of_its_scope(guarded):
    order = ["read", "write", "admin"]
    for route, (body, needed) in ROUTES.items():
        assert call(guarded, route, body).status_code == 401, route
        assert call(guarded, route, body, "not-a-key-0123456789").status_code == 401, route
        for scope, secret in SECRETS.items():
            status = call(guarded, route, body, secret).status_code
            if order.index(scope) < order.index(needed):
                assert status == 403, (route, scope, status)
            else:
                assert status not in (401, 403), (route, scope, status)
    assert httpx.get(f"{guarded.url}/readyz").status_code == 200  # health and readiness need none
    assert httpx.get(f"{guarded.url}/tracker/").status_code == 200  # nor the page, which asks for one
    refused = call(guarded, "/claims/retire", {"id": "c1"}, WRITE).json()
    assert refused["error"] == "the key 'ingest-bot' has the scope write; /claims/retire needs admin"


def test_a_host_not_allowed_is_refused(guarded):
    """A page on another site that rebinds its name to 127.0.0.1 sends its own name as the Host."""
    response = httpx.post(f"{guarded.url}/predict", json=ROUTES["/predict"][0], headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert call(guarded, "/predict", ROUTES["/predict"][0], READ).status_code == 200


def test_writes_are_audited_with_their_keys_name_and_watching_again_and_deleting_work(guarded):
    assert call(guarded, "/claims/register", {"claims": [{"id": "audited", "text": CLAIM}]}, WRITE).status_code == 200
    assert call(guarded, "/claims/retire", {"id": "audited"}, ADMIN).json()["retired_at"] is not None
    listed = call(guarded, "/claims/list", {}, READ).json()
    assert "audited" not in [claim["id"] for claim in listed]
    assert call(guarded, "/claims/unretire", {"id": "audited"}, ADMIN).json()["retired_at"] is None
    assert "audited" in [claim["id"] for claim in call(guarded, "/claims/list", {}, READ).json()]
    document = {"id": "mistaken", "text": taught_text("{claim}", CLAIM)}
    assert call(guarded, "/documents/ingest", {"documents": [document]}, WRITE).status_code == 200
    deleted = call(guarded, "/documents/delete", {"id": "mistaken"}, ADMIN).json()
    assert deleted["id"] == "mistaken" and deleted["answers"] >= 1
    again = {**document, "text": "Another text under the id the first one took by mistake."}
    assert call(guarded, "/documents/ingest", {"documents": [again]}, WRITE).json()["stored"] == ["mistaken"]
    entries = call(guarded, "/audit/list", {"limit": 50}, ADMIN).json()
    mine = [(e["key"], e["route"], e["ids"]) for e in entries if set(e["ids"]) & {"audited", "mistaken"}]
    assert mine[::-1][:6] == [
        ("ingest-bot", "/claims/register", ["audited"]),
        ("editor", "/claims/retire", ["audited"]),
        ("editor", "/claims/unretire", ["audited"]),
        ("ingest-bot", "/documents/ingest", ["mistaken"]),
        ("editor", "/documents/delete", ["mistaken"]),
        ("ingest-bot", "/documents/ingest", ["mistaken"]),
    ]
    assert [e["id"] for e in entries] == sorted((e["id"] for e in entries), reverse=True)
    page = call(guarded, "/audit/list", {"limit": 2, "before": entries[1]["id"]}, ADMIN).json()
    assert [e["id"] for e in page] == [e["id"] for e in entries[2:4]]


def test_the_caps_are_refused_naming_them(guarded):
    for k in range(3):
        call(guarded, "/claims/register", {"claims": [{"id": f"cap-{k}", "text": f"{CLAIM} {k}"}]}, WRITE)
    over = call(guarded, "/claims/register", {"claims": [{"id": "one-too-many", "text": CLAIM}]}, WRITE)
    assert over.status_code == 409 and over.json()["detail"][0]["limit"] == 3
    assert "CLAIMSTANCE_MAX_WATCHED_CLAIMS" in over.json()["error"]
    for k in range(4):
        call(guarded, "/claims/retire", {"id": f"cap-{k}"}, ADMIN)
    for claim in call(guarded, "/claims/list", {}, READ).json():
        call(guarded, "/claims/retire", {"id": claim["id"]}, ADMIN)
    documents = [{"id": f"many-{k}", "text": f"Text number {k}."} for k in range(5)]
    too_many = call(guarded, "/documents/ingest", {"documents": documents}, WRITE)
    assert too_many.status_code == 409 and too_many.json()["detail"][0]["limit"] == 4


def test_a_nul_character_is_refused_naming_its_field(guarded):
    claim = call(guarded, "/claims/register", {"claims": [{"text": "A\u0000claim"}]}, WRITE)
    assert claim.status_code == 400 and claim.json()["detail"][0]["loc"][:4] == ["claims", 0, "text"]
    document = {"id": "nul", "text": "Fine text.", "source": "Wire\u0000"}
    refused = call(guarded, "/documents/ingest", {"documents": [document]}, WRITE)
    assert refused.status_code == 400 and refused.json()["detail"][0]["loc"][:4] == ["documents", 0, "source"]


def test_an_ingest_reaching_more_pairs_than_one_call_may_score_is_413(guarded):
    for k in range(3):
        call(guarded, "/claims/unretire", {"id": f"cap-{k}"}, ADMIN)
        call(guarded, "/claims/register", {"claims": [{"id": f"cap-{k}", "text": f"{CLAIM} {k}"}]}, WRITE)
    documents = [{"id": f"pairs-{k}", "text": taught_text("{claim}", CLAIM)} for k in range(2)]
    response = call(guarded, "/documents/ingest", {"documents": documents}, WRITE)
    assert response.status_code == 413, response.text  # 2 documents × 3 watched claims (threshold -1): 6 pairs
    assert response.json()["detail"][0]["limit"] == 4 and "6 (document, claim) pairs" in response.json()["error"]


@pytest.fixture(scope="module")
def paced(served_model, tmp_path_factory) -> Iterator:
    env = {**SERVER_LIMITS, "CLAIMSTANCE_BODY_GRACE_S": "1", "CLAIMSTANCE_MIN_BODY_BYTES_PER_S": "1000",
           "CLAIMSTANCE_MAX_LARGE_BODIES": "2", "CLAIMSTANCE_MAX_TRACK_BODY_BYTES": "3000000"}  # fmt: skip
    with start_server(served_model.home, tmp_path_factory.mktemp("paced") / "server.log", env) as running:
        yield running


def test_slow_senders_are_cut_off_and_others_are_served(paced):
    stop, answers, senders = slow_senders(paced.url, "/track", {}, 2)
    try:
        time.sleep(0.3)
        body = {"claim": CLAIM, "documents": [{"id": 1, "text": "Some text."}]}
        deadline, served = time.monotonic() + 20, None
        while time.monotonic() < deadline:
            response = post(paced, "/track", body)
            if response.status_code != 503:
                served = response.status_code
                break
            time.sleep(0.2)
        assert served == 200
    finally:
        stop.set()
        for sender in senders:
            sender.join(30)
    assert answers == ["408", "408"]


def test_a_refused_body_is_read_so_its_sender_reads_the_refusal(paced):
    """`max_large_bodies` two, both taken by senders still sending; the third caller's 2 MB body is refused (503) and
    read to its end first: it reads the answer instead of a reset connection."""
    stop, _, senders = slow_senders(paced.url, "/track", {}, 2)
    try:
        time.sleep(0.3)
        host, port = paced.url.removeprefix("http://").split(":")
        body = json.dumps({"claim": CLAIM, "documents": [{"id": 1, "text": "word " * 400_000}]}).encode()
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        connection.request("POST", "/track", body=body, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        assert response.status == 503 and response.getheader("Retry-After") == "1"
        assert json.loads(response.read())["detail"][0]["type"] == "overloaded"
    finally:
        stop.set()
        for sender in senders:
            sender.join(30)


def test_the_service_starts_without_its_database_and_the_monitor_answers_once_it_is_there(served_model, tmp_path):
    blocked = tmp_path / "data"
    blocked.write_text("a file where the data folder should be")  # the database cannot be made: unavailable
    env = {**SERVER_LIMITS, "CLAIMSTANCE_DATA_DIR": str(blocked), "CLAIMSTANCE_DATABASE_URL": "sqlite:///m.sqlite3"}
    with start_server(served_model.home, tmp_path / "server.log", env) as server:
        assert post(server, "/predict", ROUTES["/predict"][0]).status_code == 200
        down = post(server, "/claims/list", {})
        assert down.status_code == 503 and down.headers["Retry-After"] == "1"
        assert down.json()["detail"][0]["request_id"] == down.headers["x-request-id"]
        assert str(blocked) not in down.text  # the detail is in the log, not in the answer
        blocked.unlink()
        assert post(server, "/claims/list", {}).json() == []
        assert (blocked / "m.sqlite3").is_file()


def test_an_unknown_variable_stops_start_up_naming_the_nearest(served_model, tmp_path):
    log = tmp_path / "server.log"
    env = {**SERVER_LIMITS, "CLAIMSTANCE_MAX_PAIR": "8"}
    with pytest.raises(Exception), start_server(served_model.home, log, env):  # noqa: B017 (the server's own error)
        pass
    assert "CLAIMSTANCE_MAX_PAIR: no such setting (did you mean CLAIMSTANCE_MAX_PAIRS?)" in Path(log).read_text()
