"""A real `bentoml serve` on the tiny model, registered with its int8 export in a temporary BentoML home."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
SERVER_LIMITS = {
    "CLAIMSTANCE_MAX_PAIRS": "4",
    "CLAIMSTANCE_MAX_TEXT_CHARS": "5000",
    "CLAIMSTANCE_MAX_CLAIM_CHARS": "600",
    "CLAIMSTANCE_MAX_BODY_BYTES": "30000",
    "CLAIMSTANCE_THREADS": "1",
    "CLAIMSTANCE_LANES": "1",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def start_server(
    home: Path, log: Path, env: dict[str, str], target: str = "serving.service:Claimstance", wait_ready: bool = True
) -> Server:
    port = free_port()
    full_env = {**os.environ, "BENTOML_HOME": str(home), "BENTOML_DO_NOT_TRACK": "True", **env}
    command = [sys.executable, "-m", "bentoml", "serve", target, "--port", str(port)]
    with log.open("w") as out:
        process = subprocess.Popen(command, cwd=REPO, env=full_env, stdout=out, stderr=subprocess.STDOUT)
    server = Server(f"http://127.0.0.1:{port}", process, log)
    if wait_ready:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"server exited with {process.returncode}:\n{server.log_text()}")
            try:
                if httpx.get(f"{server.url}/readyz", timeout=1).status_code == 200:
                    return server
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        stop_server(server)
        raise RuntimeError(f"server not ready after 120 s:\n{server.log_text()}")
    return server


def stop_server(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


@dataclass
class ServedModel:
    home: Path
    tag: str
    model_dir: Path


@pytest.fixture(scope="session")
def served_model(saved_model_dir, tiny_model, tokenizer, tmp_path_factory, model_store_at) -> ServedModel:
    """The tiny model with its int8 export as the chosen runtime, registered in a BentoML home of its own."""
    from models.registry import register
    from models.runtime import ONNX_FILE, RUNTIME_FILE
    from training.export import export_onnx

    model_dir = tmp_path_factory.mktemp("served") / "model"
    shutil.copytree(saved_model_dir, model_dir)
    export_onnx(tiny_model, tokenizer, model_dir / ONNX_FILE)
    (model_dir / RUNTIME_FILE).write_text(json.dumps({"default": "onnx"}))
    home = tmp_path_factory.mktemp("bentoml-home")
    with model_store_at(home / "models"):
        tag = register(model_dir)
    return ServedModel(home, tag, model_dir)


@pytest.fixture(scope="module")
def server(served_model, tmp_path_factory) -> Iterator[Server]:
    running = start_server(served_model.home, tmp_path_factory.mktemp("logs") / "server.log", SERVER_LIMITS)
    yield running
    stop_server(running)
