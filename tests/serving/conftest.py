"""A real `bentoml serve` on the tiny model, registered with its int8 export in a temporary BentoML home."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from eval.harness.server_process import ServerProcess
from eval.harness.server_process import start_server as start_server_process
from tests.helpers import free_port

REPO = Path(__file__).resolve().parents[2]
SERVER_LIMITS = {
    "CLAIMSTANCE_MAX_PAIRS": "4",
    "CLAIMSTANCE_MAX_TEXT_CHARS": "5000",
    "CLAIMSTANCE_MAX_CLAIM_CHARS": "600",
    "CLAIMSTANCE_MAX_TITLE_CHARS": "300",
    "CLAIMSTANCE_MAX_BODY_BYTES": "30000",
    "CLAIMSTANCE_MAX_TRACK_DOCUMENTS": "8",
    "CLAIMSTANCE_MAX_TRACK_BODY_BYTES": "60000",
    "CLAIMSTANCE_THREADS": "1",
    "CLAIMSTANCE_LANES": "1",
}


def start_server(
    home: Path, log: Path, env: dict[str, str], target: str = "serving.service:Claimstance", wait_ready: bool = True
) -> ServerProcess:
    """`bentoml serve` of `target` with its BentoML home at `home`, on a free port, and a monitor database of its own
    beside its log."""
    port = free_port()
    command = [sys.executable, "-m", "bentoml", "serve", target, "--port", str(port)]
    database = f"sqlite:///{log.parent / 'monitor.sqlite3'}"
    env = {"BENTOML_HOME": str(home), "BENTOML_DO_NOT_TRACK": "True", "CLAIMSTANCE_DATABASE_URL": database, **env}
    return start_server_process(
        command, f"http://127.0.0.1:{port}", env, log, cwd=REPO, ready_within=120 if wait_ready else None
    )


@dataclass
class ServedModel:
    home: Path
    tag: str
    model_dir: Path
    embedder_tag: str
    embedder_dir: Path


@pytest.fixture(scope="session")
def served_model(onnx_model_dir, embedder_dir, tmp_path_factory, model_store_at) -> ServedModel:
    """The tiny model with its int8 export as the chosen runtime, and the tiny embedder, registered in a BentoML home
    of their own."""
    from models.defaults import EMBEDDER_NAME
    from models.registry import register

    home = tmp_path_factory.mktemp("bentoml-home")
    with model_store_at(home / "models"):
        tag = register(onnx_model_dir)
        embedder_tag = register(embedder_dir, EMBEDDER_NAME)
    return ServedModel(home, tag, onnx_model_dir, embedder_tag, embedder_dir)


@pytest.fixture(scope="module")
def server(served_model, tmp_path_factory) -> Iterator[ServerProcess]:
    with start_server(served_model.home, tmp_path_factory.mktemp("logs") / "server.log", SERVER_LIMITS) as running:
        yield running
