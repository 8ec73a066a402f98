import hashlib
import json

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from serving.access import AccessControl, ApiKey, KeyRing, Level, keys_from_file, main, new_key

READER, WRITER, ADMIN = "r" * 20, "w" * 20, "a" * 20
KEYS = KeyRing([
    ApiKey(name="desk", scope="read", key=READER),
    ApiKey(name="ingest-bot", scope="write", key_sha256=hashlib.sha256(WRITER.encode()).hexdigest()),
    ApiKey(name="editor", scope="admin", key=ADMIN),
])  # fmt: skip


async def who(request: Request) -> JSONResponse:
    return JSONResponse({"key": getattr(request.state, "api_key", None)})


def client(keys: KeyRing = KEYS) -> TestClient:
    routes = [Route(path, who, methods=["POST", "GET"]) for path in ("/predict", "/claims/register", "/claims/retire",
                                                                     "/readyz", "/tracker/index.html")]  # fmt: skip
    levels = {"/claims/register": Level.WRITE, "/claims/retire": Level.ADMIN}
    return TestClient(AccessControl(Starlette(routes=routes), keys=keys, route_levels=levels))


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


@pytest.mark.parametrize(
    ("route", "secret", "status"),
    [
        ("/predict", None, 401),
        ("/predict", "x" * 20, 401),
        ("/predict", READER, 200),
        ("/claims/register", READER, 403),
        ("/claims/register", WRITER, 200),
        ("/claims/retire", WRITER, 403),
        ("/claims/retire", ADMIN, 200),
        ("/predict", ADMIN, 200),  # scopes nest
    ],
)
def test_each_route_answers_by_the_scope_of_the_key(route, secret, status):
    response = client().post(route, headers=bearer(secret) if secret else {})
    assert response.status_code == status, response.text


def test_the_answers_say_what_is_missing_and_the_key_reaches_the_route():
    missing = client().post("/predict")
    assert missing.json()["detail"][0]["loc"] == ["header", "authorization"]
    assert missing.headers["www-authenticate"].startswith("Bearer")
    low = client().post("/claims/retire", headers=bearer(WRITER))
    assert low.json()["error"] == "the key 'ingest-bot' has the scope write; /claims/retire needs admin"
    assert low.json()["detail"][0]["needed"] == "admin"
    assert client().post("/claims/register", headers=bearer(WRITER)).json() == {"key": "ingest-bot"}


def test_health_readiness_and_the_pages_files_need_no_key():
    assert client().get("/readyz").status_code == 200
    assert client().get("/tracker/index.html").status_code == 200


def test_without_keys_everything_is_open():
    assert client(KeyRing([])).post("/claims/retire").json() == {"key": None}


def test_a_key_is_given_once_with_one_secret_and_names_are_unique():
    with pytest.raises(ValueError, match="give `key` or `key_sha256`"):
        ApiKey(name="both", scope="read", key=READER, key_sha256="0" * 64)
    with pytest.raises(ValueError, match="scope"):
        ApiKey(name="x", scope="root", key=READER)
    with pytest.raises(ValueError, match="a name is given twice"):
        KeyRing([ApiKey(name="a", scope="read", key=READER), ApiKey(name="a", scope="write", key=WRITER)])


def test_every_key_is_compared_whatever_matched(monkeypatch):
    """Constant time: each configured digest is compared, with hmac.compare_digest, for any secret."""
    compared = []
    real = __import__("hmac").compare_digest
    monkeypatch.setattr("serving.access.hmac.compare_digest", lambda a, b: compared.append(b) or real(a, b))
    assert KEYS.find(READER).name == "desk"
    assert len(compared) == 3
    assert KEYS.find("nope") is None and len(compared) == 6


def test_a_new_key_prints_its_secret_once_and_an_entry_without_it(tmp_path, capsys):
    assert main(["new", "desk", "write"]) == 0
    secret_line, entry_line = capsys.readouterr().out.splitlines()
    secret = secret_line.rsplit(" ", 1)[1]
    entry = json.loads(entry_line.split(": ", 1)[1])
    assert secret not in entry_line and entry["scope"] == "write"
    path = tmp_path / "keys.json"
    path.write_text(json.dumps([entry]))
    assert KeyRing(keys_from_file(path)).find(secret).name == "desk"
    assert main(["new", "desk", "root"]) == 2
    assert new_key("x", "read")[1].key is None


def test_a_bad_keys_file_is_named(tmp_path):
    path = tmp_path / "keys.json"
    path.write_text('[{"name": "x", "scope": "read"}]')
    with pytest.raises(ValueError, match=f"api_keys_file {path}"):
        keys_from_file(path)
    with pytest.raises(ValueError, match="cannot read it"):
        keys_from_file(tmp_path / "none.json")
