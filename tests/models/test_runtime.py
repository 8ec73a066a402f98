import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from models.model_config import ModelLoadError
from models.onnx_session import OnnxSession
from models.runtime import ONNX_FILE, RUNTIME_FILE, Runtime, cpu_has_bf16, cpu_info, load_session, preferred_runtime


@pytest.fixture
def model_dir(saved_model_dir, tmp_path):
    target = tmp_path / "model"
    shutil.copytree(saved_model_dir, target)
    return target


def test_without_an_export_the_runtime_is_torch(model_dir):
    assert preferred_runtime(model_dir) is Runtime.TORCH


def test_the_build_steps_choice_is_followed_only_when_the_onnx_file_exists(model_dir):
    (model_dir / RUNTIME_FILE).write_text(json.dumps({"default": "onnx"}))
    assert preferred_runtime(model_dir) is Runtime.TORCH
    (model_dir / ONNX_FILE).write_bytes(b"")
    assert preferred_runtime(model_dir) is Runtime.ONNX
    (model_dir / RUNTIME_FILE).write_text(json.dumps({"default": "torch"}))
    assert preferred_runtime(model_dir) is Runtime.TORCH


def test_a_corrupt_onnx_file_is_a_model_load_error(model_dir):
    (model_dir / ONNX_FILE).write_bytes(b"not an onnx model")
    with pytest.raises(ModelLoadError, match="cannot load the ONNX model"):
        load_session(model_dir, Runtime.ONNX, num_threads=1)


def test_a_missing_onnx_file_is_a_model_load_error(model_dir):
    with pytest.raises(ModelLoadError, match=ONNX_FILE):
        OnnxSession(model_dir / ONNX_FILE, num_threads=1)


def test_torch_session_gives_the_models_logits(model_dir, tiny_model, tokenizer):
    import torch

    session = load_session(model_dir, Runtime.TORCH, num_threads=1)
    batch = tokenizer(["a claim", "another claim here"], ["text", "a longer text"], padding=True, return_tensors="np")
    logits = session({k: v.astype(np.int64) for k, v in batch.items()})
    with torch.inference_mode():
        expected = tiny_model(
            **tokenizer(["a claim", "another claim here"], ["text", "a longer text"], padding=True, return_tensors="pt")
        ).logits.numpy()
    np.testing.assert_allclose(logits, expected, atol=1e-5)


def test_the_onnx_serving_path_never_imports_torch(model_dir, tiny_model, tokenizer):
    import subprocess
    import sys

    from training.export import export_onnx

    export_onnx(tiny_model, tokenizer, model_dir / ONNX_FILE)
    code = (
        "import sys; import serving.service; from models.predictor import StancePredictor; "
        "from models.runtime import Runtime; from models.pair import Pair; "
        f"p = StancePredictor.from_dir({str(model_dir)!r}, Runtime.ONNX, num_threads=1); "
        "assert len(p.predict([Pair('a claim', 'a text')])) == 1; "
        "assert 'torch' not in sys.modules, 'torch was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[2])


CPUINFO = """processor\t: 0
model name\t: Example CPU @ 2.10GHz
flags\t\t: fpu sse2 avx2 avx512f avx512_vnni avx512_bf16

processor\t: 1
model name\t: Example CPU @ 2.10GHz
flags\t\t: fpu sse2 avx2 avx512f avx512_vnni avx512_bf16
"""


def test_cpu_name_and_flags_come_from_cpuinfo(tmp_path):
    (tmp_path / "cpuinfo").write_text(CPUINFO)
    name, flags = cpu_info(tmp_path / "cpuinfo")
    assert name == "Example CPU @ 2.10GHz"
    assert {"avx2", "avx512_vnni", "avx512_bf16"} <= flags
    assert cpu_has_bf16(tmp_path / "cpuinfo")
    (tmp_path / "old").write_text("model name : Old CPU\nflags : fpu sse2 avx2\n")
    assert not cpu_has_bf16(tmp_path / "old")


def test_the_same_rule_serves_the_embedder_and_an_export_without_a_written_choice_is_served(model_dir):
    (model_dir / "embedder.onnx").write_bytes(b"")
    assert preferred_runtime(model_dir, "embedder.onnx") is Runtime.ONNX  # built before the choice was written
    (model_dir / RUNTIME_FILE).write_text(json.dumps({"default": "torch"}))
    assert preferred_runtime(model_dir, "embedder.onnx") is Runtime.TORCH
    assert preferred_runtime(model_dir) is Runtime.TORCH  # the stance model's export is not there
