from starlette.testclient import TestClient

from eval.speed.naive_server import build_app
from models.labels import LABELS
from models.pair import Pair
from models.predictor import StancePredictor


def test_the_naive_server_answers_with_the_models_label(saved_model_dir):
    client = TestClient(build_app(str(saved_model_dir)))
    claim, text = "A meteorite crashed near the airport", "Officials confirmed that a meteorite crashed there."
    response = client.post("/predict", json={"claim": claim, "text": text})
    assert response.status_code == 200
    body = response.json()
    assert set(body["scores"]) == set(LABELS)
    expected = StancePredictor.from_dir(saved_model_dir, num_threads=1).predict([Pair(claim, text)])[0]
    assert body["label"] == expected.label
    assert client.get("/readyz").json() == {"ready": True}
