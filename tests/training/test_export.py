import json
import logging
import shutil

import numpy as np
import pytest
import torch

from models.pair import Pair
from models.predictor import StancePredictor
from models.runtime import ONNX_FILE, RUNTIME_FILE, Runtime, preferred_runtime
from training.data import to_dataset
from training.export import (
    EXPORT_LOG,
    RuntimeRule,
    build_runtime,
    choose_runtime,
    export_onnx,
    float_nodes,
    int8_keeps_up,
)

CLAIMS = ["A meteorite crashed near the airport", "The zoo's panda gave birth to triplets", "Short"]
TEXTS = [
    "Officials confirmed that a meteorite crashed there.",
    "No.",
    "A somewhat longer text about nothing in particular, with several words in it, and more words again.",
]


@pytest.fixture(scope="module")
def exported_dir(saved_model_dir, tmp_path_factory):
    target = tmp_path_factory.mktemp("export") / "model"
    shutil.copytree(saved_model_dir, target)
    return target


def test_fp32_export_gives_the_models_logits_on_padded_mixed_length_batches(tiny_model, tokenizer, tmp_path):
    """Input order matters: tracing binds inputs by position, so a mix-up would show here at once."""
    import onnxruntime as ort

    path = export_onnx(tiny_model, tokenizer, tmp_path / "model.onnx", quantize=False)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    batch = tokenizer(CLAIMS, TEXTS, padding=True, return_tensors="np")
    feeds = {node.name: batch[node.name].astype(np.int64) for node in session.get_inputs()}
    assert set(feeds) == {"input_ids", "attention_mask", "token_type_ids"}
    with torch.inference_mode():
        expected = tiny_model(**tokenizer(CLAIMS, TEXTS, padding=True, return_tensors="pt")).logits.numpy()
    np.testing.assert_allclose(session.run(None, feeds)[0], expected, atol=1e-4)


def test_the_int8_export_answers_as_the_taught_model_does(taught_model, tokenizer, tmp_path):
    """A model that knows its answers keeps them through the export, on any CPU's int8 kernels (TAUGHT_MARGIN)."""
    from tests.conftest import save_tiny, with_int8_export
    from tests.helpers import taught_pairs

    saved = save_tiny(taught_model, tokenizer, tmp_path / "saved")
    predictor = StancePredictor.from_dir(with_int8_export(saved, taught_model, tokenizer, tmp_path / "int8"),
                                         Runtime.ONNX, num_threads=1)  # fmt: skip
    lessons = taught_pairs()
    answers = predictor.predict([Pair(claim, text) for claim, text, _ in lessons])
    assert [a.label for a in answers] == [label for _, _, label in lessons]


def test_int8_answers_do_not_depend_on_batch_mates(exported_dir, tiny_model, tokenizer):
    """Dynamic int8 scales activations per batch: the ONNX predictor scores each pair in its own pass."""
    export_onnx(tiny_model, tokenizer, exported_dir / ONNX_FILE)
    predictor = StancePredictor.from_dir(exported_dir, Runtime.ONNX, num_threads=1)
    assert predictor.runtime is Runtime.ONNX and predictor.batch_size == 1
    together = predictor.score(CLAIMS, TEXTS).probabilities
    alone = np.vstack([predictor.score([c], [t]).probabilities for c, t in zip(CLAIMS, TEXTS, strict=True)])
    np.testing.assert_array_equal(together, alone)
    np.testing.assert_allclose(together.sum(axis=1), 1.0, atol=1e-6)
    assert StancePredictor.from_dir(exported_dir, Runtime.TORCH, num_threads=1).batch_size == 64


def validation_set(n: int = 24):
    rng = np.random.default_rng(0)
    return to_dataset(
        __import__("pandas").DataFrame(
            {
                "claim": [CLAIMS[i % 3] for i in range(n)],
                "text": [f"{TEXTS[i % 3]} {i}" for i in range(n)],
                "label": rng.choice(["asserting", "disputing", "reporting", "unrelated"], n),
                "source": ["emergent" if i % 2 else "fnc1" for i in range(n)],
                "group": [f"g{i % 3}" for i in range(n)],
                "text_group": [f"g{i % 3}" for i in range(n)],
            }
        )
    )


def test_the_rule_picks_onnx_within_tolerance_and_torch_past_it(exported_dir, tiny_model, tokenizer):
    export_onnx(tiny_model, tokenizer, exported_dir / ONNX_FILE)
    validation = validation_set()
    lenient = choose_runtime(exported_dir, validation, RuntimeRule(tolerance=1.0, label_floor=1.0), num_threads=1)
    assert lenient.default is Runtime.ONNX
    assert lenient.pairs == len(validation)
    assert set(lenient.accuracy_by_source) == {"emergent", "fnc1"}
    assert set(lenient.macro_f1) == set(lenient.label_f1) == {"torch", "onnx"}
    assert 0.0 <= lenient.agreement <= 1.0
    impossible = choose_runtime(exported_dir, validation, RuntimeRule(tolerance=-1.0, label_floor=1.0), num_threads=1)
    assert impossible.default is Runtime.TORCH


def test_int8_must_keep_up_on_macro_f1_and_on_every_label():
    torch_f1 = {"asserting": 0.8, "disputing": 0.40, "reporting": 0.7}
    macro, rule = {"torch": 0.60, "onnx": 0.598}, RuntimeRule(tolerance=0.005, label_floor=0.02)
    assert int8_keeps_up(macro, {"torch": torch_f1, "onnx": torch_f1}, rule)
    assert not int8_keeps_up({"torch": 0.60, "onnx": 0.59}, {"torch": torch_f1, "onnx": torch_f1}, rule)
    # Macro-F1 held by the common labels while the rare one loses a quarter: refused.
    lost_disputes = {"asserting": 0.85, "disputing": 0.30, "reporting": 0.75}
    assert not int8_keeps_up(macro, {"torch": torch_f1, "onnx": lost_disputes}, rule)
    assert not int8_keeps_up(macro, {"torch": torch_f1, "onnx": {"asserting": 0.8, "reporting": 0.7}}, rule)


def test_the_top_layers_and_the_head_stay_in_float(tiny_model, tokenizer, tmp_path):
    import onnx

    fp32 = export_onnx(tiny_model, tokenizer, tmp_path / "model.onnx", quantize=False)
    graph = onnx.load(str(fp32)).graph
    layers = tiny_model.config.num_hidden_layers
    kept = float_nodes(graph, layers, 1)
    assert any("classifier" in name for name in kept)
    assert any(f"layer.{layers - 1}/" in name for name in kept)
    assert not any(f"layer.{layers - 2}/" in name for name in kept)
    assert float_nodes(graph, layers, 0) == []
    int8 = onnx.load(str(export_onnx(tiny_model, tokenizer, tmp_path / "int8.onnx", float_layers=1))).graph
    quantized = {node.name for node in int8.node if node.op_type in ("MatMulInteger", "DynamicQuantizeLinear")}
    assert quantized and not any(f"layer.{layers - 1}/" in name or "classifier" in name for name in quantized)


def test_build_runtime_writes_the_export_and_its_choice(exported_dir):
    choice = build_runtime(exported_dir, validation_set(), RuntimeRule(tolerance=1.0, label_floor=1.0), num_threads=1)
    saved = json.loads((exported_dir / RUNTIME_FILE).read_text())
    assert saved["default"] == choice.default == "onnx"
    assert saved["accuracy"].keys() == {"torch", "onnx"}
    assert preferred_runtime(exported_dir) is Runtime.ONNX


def test_the_quantizers_messages_go_to_the_log_and_one_line_to_the_console(tiny_model, tokenizer, tmp_path, caplog):
    caplog.set_level(logging.INFO)
    root = logging.getLogger()
    handlers = list(root.handlers)
    export_onnx(tiny_model, tokenizer, tmp_path / ONNX_FILE)
    assert "Quantization parameters for tensor" in (tmp_path / EXPORT_LOG).read_text()
    [line] = [record.getMessage() for record in caplog.records]
    assert line.startswith("int8 ONNX: 17 weight matrices quantized per channel, 0 kept in float;")
    assert str(tmp_path / EXPORT_LOG) in line
    assert root.handlers == handlers and root.level == logging.INFO
