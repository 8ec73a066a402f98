"""The service over HTTP, on a real `bentoml serve` of the tiny model (see conftest.py)."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import time

import httpx
import numpy as np
import pytest

from eval.harness.server_process import MONITOR_OFF
from models.labels import LABELS, STANCES
from models.pair import Pair
from models.predictor import StancePredictor
from models.runtime import ONNX_FILE, Runtime
from tests.helpers import CLAIM, LONG_TEXT, PAIRS, pairs_of, post, taught_pairs
from tests.serving.conftest import REPO, SERVER_LIMITS, start_server

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def expected(served_model):
    """What the model itself says, in process, with the same runtime the service uses."""
    predictor = StancePredictor.from_dir(served_model.model_dir, Runtime.ONNX, num_threads=1)
    return predictor.predict(pairs_of(PAIRS))


def test_one_pair_end_to_end(server, served_model, expected):
    response = post(server, "/predict", {"claim": PAIRS[0][0], "text": PAIRS[0][1], "id": "a-1"})
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == "a-1"
    assert body["model"] == served_model.tag
    assert body["label"] == expected[0].label
    assert list(body["scores"]) == list(LABELS)
    np.testing.assert_allclose([body["scores"][k] for k in LABELS], [expected[0].scores[k] for k in LABELS], atol=1e-5)
    assert body["relevance"] == pytest.approx(expected[0].relevance, abs=1e-5)
    assert 0.0 <= body["relevance"] <= 1.0
    assert body["text_reduced"] is False
    [sentence] = body["evidence"]  # a one-sentence text is its own evidence
    assert sentence["text"] == PAIRS[0][1] and (sentence["start"], sentence["end"]) == (0, len(PAIRS[0][1]))
    assert sentence["label"] == body["label"]


def test_unrelated_answers_follow_relevance_and_match_the_model_over_http(server, served_model):
    lessons = taught_pairs()  # the served model was taught these: each label, `unrelated` among them
    pairs = [(claim, text) for claim, text, _ in lessons]
    reference = StancePredictor.from_dir(served_model.model_dir, Runtime.ONNX, num_threads=1).predict(pairs_of(pairs))
    assert [r.label for r in reference] == [label for _, _, label in lessons]
    body = {"pairs": [{"claim": c, "text": t, "id": i} for i, (c, t) in enumerate(pairs)]}
    answers = [a for chunk in range(0, len(pairs), 4) for a in post(server, "/predict_batch", {
        "pairs": body["pairs"][chunk : chunk + 4]}).json()]  # fmt: skip
    assert [a["label"] for a in answers] == [r.label for r in reference]
    assert [a["id"] for a in answers] == list(range(len(pairs)))
    for answer in answers:
        assert (answer["label"] == "unrelated") == (answer["relevance"] < 0.5)


def test_a_text_longer_than_the_window_is_reduced_and_says_so(server, expected):
    body = post(server, "/predict", {"claim": PAIRS[2][0], "text": PAIRS[2][1]}).json()
    assert body["text_reduced"] is True
    assert body["label"] == expected[2].label
    assert "id" in body and body["id"] is None
    assert [(e["start"], e["end"], e["label"]) for e in body["evidence"]] == [
        (e.start, e.end, e.label) for e in expected[2].evidence
    ]
    assert "Officials denied that a meteorite hit Managua." in [e["text"] for e in body["evidence"]]
    assert all(PAIRS[2][1][e["start"] : e["end"]] == e["text"] for e in body["evidence"])


def test_a_title_is_read_with_the_text_and_its_evidence_points_into_it(server, served_model):
    claim, text, title = CLAIM, "Farmers planted barley. The season was dry.", "Managua meteorite report denied"
    body = post(server, "/predict", {"claim": claim, "text": text, "title": title}).json()
    predictor = StancePredictor.from_dir(served_model.model_dir, Runtime.ONNX, num_threads=1)
    [expected] = predictor.predict([Pair(claim, text, title)])
    assert body["label"] == expected.label
    assert [(e["field"], e["start"], e["end"]) for e in body["evidence"]] == [
        (e.field, e.start, e.end) for e in expected.evidence
    ]
    titled = [e for e in body["evidence"] if e["field"] == "title"]
    assert titled and title[titled[0]["start"] : titled[0]["end"]] == titled[0]["text"]


def test_the_list_endpoint_answers_in_order(server, expected):
    pairs = [{"claim": c, "text": t, "id": i} for i, (c, t) in enumerate(PAIRS)]
    response = post(server, "/predict_batch", {"pairs": pairs[::-1]})
    assert response.status_code == 200
    answers = response.json()
    assert [a["id"] for a in answers] == [3, 2, 1, 0]
    for answer in answers:
        np.testing.assert_allclose(
            [answer["scores"][k] for k in LABELS], [expected[answer["id"]].scores[k] for k in LABELS], atol=1e-5
        )


def test_many_concurrent_requests_each_get_their_own_answer(server, served_model):
    pairs = [(f"Claim number {i} about the harbour", f"Text {i} " + "word " * (i % 40)) for i in range(48)]
    reference = StancePredictor.from_dir(served_model.model_dir, Runtime.ONNX, num_threads=1).predict(pairs_of(pairs))

    async def send_all():
        async with httpx.AsyncClient(timeout=30) as client:
            requests = [
                client.post(f"{server.url}/predict", json={"claim": c, "text": t, "id": i})
                for i, (c, t) in enumerate(pairs)
            ]
            return await asyncio.gather(*requests)

    responses = asyncio.run(send_all())
    assert [r.status_code for r in responses] == [200] * len(pairs)
    for i, response in enumerate(responses):
        body = response.json()
        assert body["id"] == i
        np.testing.assert_allclose(
            [body["scores"][k] for k in LABELS], [reference[i].scores[k] for k in LABELS], atol=1e-5
        )
    assert len({json.dumps(r.json()["scores"]) for r in responses}) > 40  # answers differ: a mix-up would show


LIMITS = {k: int(v) for k, v in SERVER_LIMITS.items()}


@pytest.mark.parametrize(
    ("path", "body", "loc", "message"),
    [
        ("/predict", {"text": "t"}, ["claim"], "Field required"),
        ("/predict", {"claim": "c"}, ["text"], "Field required"),
        ("/predict", {"claim": "   ", "text": "t"}, ["claim"], "must have a visible character"),
        ("/predict", {"claim": "c", "text": "\x00\u200b"}, ["text"], "must have a visible character"),
        ("/predict", {"claim": "c", "text": "t", "id": "i" * 257}, ["id", "constrained-str"], "at most 256 characters"),
        ("/predict", {"claim": "c", "text": ""}, ["text"], "at least 1 character"),
        ("/predict", {"claim": 12, "text": "t"}, ["claim"], "valid string"),
        ("/predict", {"claim": "c", "text": None}, ["text"], "valid string"),
        ("/predict", {"claim": "c", "text": "t" * 5001}, ["text"], "at most 5000 characters"),
        ("/predict", {"claim": "c" * 601, "text": "t"}, ["claim"], "at most 600 characters"),
        ("/predict", {"claim": "word " * 100, "text": "t"}, ["claim"], "100 tokens, over the limit of 96 tokens"),
        ("/predict", {"claim": "c", "text": "t", "title": "h" * 301}, ["title"], "at most 300 characters"),
        ("/predict", {"claim": "c", "text": "t", "title": " "}, ["title"], "must have a visible character"),
        ("/predict", ["not", "an", "object"], [], "Input should be an object"),
        ("/predict_batch", {"pairs": []}, ["pairs"], "at least 1 item"),
        ("/predict_batch", {"pairs": [{"claim": "c", "text": "t"}] * 5}, ["pairs"], "at most 4 items"),
        ("/predict_batch", {"pairs": [{"claim": "c", "text": "t"}, {"claim": "c"}]}, ["pairs", 1, "text"], "required"),
        (
            "/predict_batch",
            {"pairs": [{"claim": "c", "text": "t"}, {"claim": "word " * 100, "text": "t"}]},
            ["pairs", 1, "claim"],
            "over the limit of 96 tokens",
        ),
    ],
)
def test_bad_input_is_400_naming_the_field_and_the_limit(server, path, body, loc, message):
    response = post(server, path, body)
    assert response.status_code == 400, response.text
    details = response.json()["detail"]
    assert any(d["loc"] == loc and message in d["msg"] for d in details), details


def test_malformed_json_is_400(server):
    response = httpx.post(
        f"{server.url}/predict", content=b'{"claim": "c", "text"', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert "Invalid JSON" in response.json()["detail"][0]["msg"]


def test_a_body_that_is_not_json_is_415_never_500(server):
    response = httpx.post(f"{server.url}/predict", content=b"claim=c", headers={"content-type": "multipart/form-data"})
    assert response.status_code == 415
    assert "Content-Type must be application/json" in response.json()["error"]


def test_a_body_without_one_json_content_type_is_415(server):
    body = json.dumps({"claim": "c", "text": "t"}).encode()
    missing = httpx.post(f"{server.url}/predict", content=body)
    twice = httpx.post(
        f"{server.url}/predict",
        content=body,
        headers=[("content-type", "multipart/form-data"), ("content-type", "application/json")],
    )
    assert (missing.status_code, twice.status_code) == (415, 415)
    assert missing.json()["error"] == "Content-Type is missing: this route takes application/json"
    assert twice.json()["error"].startswith("Content-Type is given 2 times")


def test_a_body_over_the_size_limit_is_413(server):
    json_header = {"content-type": "application/json"}
    response = httpx.post(f"{server.url}/predict_batch", content=b"x" * 30001, headers=json_header)
    assert response.status_code == 413
    assert "over the limit of 30000 bytes" in response.json()["error"]
    one_pair_limit = 6 * (600 + 5000 + 300 + 256) + 1024  # SERVER_LIMITS' characters, each a 6-byte escape
    response = httpx.post(f"{server.url}/predict", content=b"x" * (one_pair_limit + 1), headers=json_header)
    assert response.status_code == 413
    assert f"over the limit of {one_pair_limit} bytes" in response.json()["error"]


def test_every_answer_carries_the_security_headers(server):
    for response in (
        post(server, "/predict", {"claim": CLAIM, "text": "Officials confirmed it."}),
        post(server, "/predict", {"claim": CLAIM}),
        httpx.get(f"{server.url}/readyz"),
    ):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"


def test_liveness_readiness_and_metrics(server):
    assert httpx.get(f"{server.url}/livez").status_code == 200
    assert httpx.get(f"{server.url}/readyz").status_code == 200
    post(server, "/predict", {"claim": PAIRS[0][0], "text": PAIRS[0][1]})
    metrics = httpx.get(f"{server.url}/metrics").text
    assert "claimstance_predictions_total{label=" in metrics
    assert "claimstance_batch_pairs_bucket" in metrics
    assert "claimstance_queued_items{" in metrics and 'queue="track"' in metrics
    assert "bentoml_service_request_duration_seconds" in metrics


def response_schema(spec: dict) -> dict:
    schemas = spec["components"]["schemas"]
    response = spec["paths"]["/predict"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    name = response["$ref"].rsplit("/", 1)[-1] if "$ref" in response else None
    return schemas[name] if name else response


def test_openapi_documents_both_endpoints_with_examples_and_the_models_labels(server):
    spec = httpx.get(f"{server.url}/docs.json").json()
    assert {"/predict", "/predict_batch"} <= set(spec["paths"])
    text = json.dumps(spec)
    assert CLAIM_EXAMPLE_TEXT in text
    result = response_schema(spec)
    assert result["properties"]["label"]["enum"] == list(LABELS)
    assert "relevance" in result["properties"] and "evidence" in result["properties"]
    assert result["example"]["label"] == "unrelated"  # the documented answer shows a text off the claim
    assert result["example"]["evidence"][0]["label"] == "unrelated"
    assert '"unrelated": 0.96' in text


CLAIM_EXAMPLE_TEXT = "Russia's airstrikes in Syria are targeting the Islamic State group"


def test_past_the_concurrency_limit_the_answer_is_429_never_500_and_it_recovers(served_model, tmp_path):
    env = {
        **SERVER_LIMITS,
        "CLAIMSTANCE_MAX_CONCURRENCY": "1",
        "CLAIMSTANCE_MAX_PAIRS": "16",
        "CLAIMSTANCE_MAX_BODY_BYTES": "200000",
    }
    with start_server(served_model.home, tmp_path / "server.log", env) as server:
        body = {"pairs": [{"claim": CLAIM, "text": LONG_TEXT[:4000]}] * 16}

        async def burst():
            async with httpx.AsyncClient(timeout=60) as client:
                return await asyncio.gather(*(client.post(f"{server.url}/predict_batch", json=body) for _ in range(40)))

        statuses = [r.status_code for r in asyncio.run(burst())]
        assert 500 not in statuses
        assert set(statuses) <= {200, 429, 503}
        assert 429 in statuses and 200 in statuses
        assert post(server, "/predict", {"claim": CLAIM, "text": "Officials confirmed it."}).status_code == 200


def test_readiness_waits_for_the_warm_up(served_model, model_store_at, monkeypatch):
    """In process: the service object is not ready after loading, only after its warm-up inference."""
    import serving.service as service

    with model_store_at(served_model.home / "models"):
        instance = service.Claimstance.inner()
    assert instance.model_tag == served_model.tag
    assert instance.__is_ready__() is False
    asyncio.run(instance.warm_up())
    assert instance.__is_ready__() is True


def wait_for_exit_or_text(server, text: str, seconds: float = 60) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        log = server.log_text()
        if text in log or server.process.poll() is not None:
            return log
        time.sleep(0.3)
    return server.log_text()


def test_a_missing_model_stops_start_up_with_a_clear_error(served_model, tmp_path):
    env = {**SERVER_LIMITS, "CLAIMSTANCE_MODEL": "claimstance:doesnotexist"}
    with start_server(served_model.home, tmp_path / "server.log", env, wait_ready=False) as server:
        assert server.process.wait(timeout=60) != 0
        assert "Model claimstance:doesnotexist could not be found" in server.log_text()


def test_a_corrupt_model_stops_start_up_with_a_clear_error(served_model, tmp_path, model_store_at):
    from models.registry import register

    broken = tmp_path / "broken"
    shutil.copytree(served_model.model_dir, broken)
    (broken / ONNX_FILE).write_bytes(b"garbage")
    home = tmp_path / "home"
    with model_store_at(home / "models"):
        register(broken)
    with start_server(home, tmp_path / "server.log", SERVER_LIMITS | MONITOR_OFF, wait_ready=False) as server:
        log = wait_for_exit_or_text(server, "cannot load the ONNX model")
        assert "cannot load the ONNX model" in log


def test_bentoml_build_succeeds_and_the_bento_serves(served_model, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(served_model.home, home)
    env = {"BENTOML_HOME": str(home), "BENTOML_DO_NOT_TRACK": "True", "PATH": sys.exec_prefix + "/bin:/usr/bin:/bin"}
    built = subprocess.run(
        [sys.executable, "-m", "bentoml", "build", "--output", "tag"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    assert "claimstance:" in built.stdout
    with start_server(home, tmp_path / "bento.log", SERVER_LIMITS, target="claimstance:latest") as server:
        body = post(server, "/predict", {"claim": CLAIM, "text": "Officials confirmed it."}).json()
        assert body["model"] == served_model.tag


# --- a model trained with the three stances only -------------------------------------------------


@pytest.fixture(scope="module")
def three_label_server(onnx_three_label_model_dir, tmp_path_factory, model_store_at):
    from models.registry import register

    home = tmp_path_factory.mktemp("bentoml-home-3")
    with model_store_at(home / "models"):
        tag = register(onnx_three_label_model_dir)
    with start_server(home, tmp_path_factory.mktemp("logs3") / "server.log", SERVER_LIMITS | MONITOR_OFF) as running:
        yield running, tag, onnx_three_label_model_dir


def test_a_three_label_model_serves_as_before_with_no_relevance(three_label_server):
    server, tag, model_dir = three_label_server
    expected = StancePredictor.from_dir(model_dir, Runtime.ONNX, num_threads=1).predict(pairs_of(PAIRS))
    answers = post(server, "/predict_batch", {"pairs": [{"claim": c, "text": t} for c, t in PAIRS]}).json()
    assert [a["label"] for a in answers] == [e.label for e in expected]
    assert all(list(a["scores"]) == list(STANCES) and a["relevance"] is None for a in answers)
    assert answers[0]["model"] == tag
    spec = httpx.get(f"{server.url}/docs.json").json()
    assert response_schema(spec)["properties"]["label"]["enum"] == list(STANCES)
    assert '"unrelated"' not in json.dumps(response_schema(spec))
