import shutil

import numpy as np
import pytest
import torch
from transformers import AutoModel, AutoTokenizer, BertModel

from models.embedding import EMBEDDING_ONNX_FILE, SentenceEmbedder
from models.runtime import Runtime
from tests.conftest import TINY_EMBEDDER_MIN_COSINE, build_tiny_embedder, tiny_bert_config
from training.embedder import (
    CHECK_TEXTS,
    MIN_COSINE,
    EmbedderConfig,
    EmbedderExportError,
    LastHiddenState,
    check_export,
)
from training.export import export_onnx


@pytest.fixture(scope="module")
def built(tiny_base_model_dir, tmp_path_factory):
    return build_tiny_embedder(tiny_base_model_dir, tmp_path_factory.mktemp("embedder") / "embedder")


def least_cosine(model_dir) -> float:
    exported = SentenceEmbedder.from_dir(model_dir, Runtime.ONNX, num_threads=1).embed(CHECK_TEXTS)
    reference = SentenceEmbedder.from_dir(model_dir, Runtime.TORCH, num_threads=1).embed(CHECK_TEXTS)
    assert exported.shape == reference.shape == (len(CHECK_TEXTS), 32)
    return float(np.min(np.sum(exported * reference, axis=1)))


def test_the_export_embeds_as_pytorch_does(built):
    assert (built / EMBEDDING_ONNX_FILE).is_file() and (built / "export.log").is_file()
    assert least_cosine(built) >= TINY_EMBEDDER_MIN_COSINE


def test_the_real_models_floor_is_the_default():
    assert EmbedderConfig().min_cosine == MIN_COSINE == 0.98 > TINY_EMBEDDER_MIN_COSINE


def test_a_float_export_gives_pytorchs_vectors(tiny_base_model_dir, tmp_path):
    out = build_tiny_embedder(tiny_base_model_dir, tmp_path, quantize=False)
    exported = SentenceEmbedder.from_dir(out, Runtime.ONNX, num_threads=1).embed(CHECK_TEXTS)
    np.testing.assert_allclose(exported, SentenceEmbedder.from_dir(out, num_threads=1).embed(CHECK_TEXTS), atol=1e-5)


def another_models_weights(model: BertModel) -> None:
    torch.manual_seed(2)
    model.load_state_dict(BertModel(tiny_bert_config(model.config.vocab_size)).state_dict())


def top_layer_lost(model: BertModel) -> None:
    model.encoder.layer = model.encoder.layer[:-1]


@pytest.mark.parametrize("break_export", [another_models_weights, top_layer_lost])
def test_an_export_that_moves_the_vectors_is_refused(built, tmp_path, break_export):
    """The floor catches what it is for: a float export of a broken encoder beside the right PyTorch weights moves
    the vectors by more than the real model's floor, and by more than the tiny model's too."""
    broken = shutil.copytree(built, tmp_path / "embedder")
    encoder = AutoModel.from_pretrained(broken)
    break_export(encoder)
    tokenizer = AutoTokenizer.from_pretrained(broken)
    export_onnx(LastHiddenState(encoder), tokenizer, broken / EMBEDDING_ONNX_FILE, quantize=False,
                output="last_hidden_state")  # fmt: skip
    assert least_cosine(broken) < TINY_EMBEDDER_MIN_COSINE < MIN_COSINE
    for floor in (MIN_COSINE, TINY_EMBEDDER_MIN_COSINE):
        with pytest.raises(EmbedderExportError, match=f"{EMBEDDING_ONNX_FILE}: cosine .* under the floor {floor}"):
            check_export(broken, floor)
    assert check_export(built, TINY_EMBEDDER_MIN_COSINE) >= TINY_EMBEDDER_MIN_COSINE


def test_the_build_refuses_an_export_under_its_floor(tiny_base_model_dir, tmp_path):
    with pytest.raises(EmbedderExportError, match="under the floor 1.01"):
        build_tiny_embedder(tiny_base_model_dir, tmp_path, min_cosine=1.01)


def test_the_build_writes_its_choice_of_runtime_as_the_stance_models_build_does(built):
    import json

    from models.runtime import RUNTIME_FILE, preferred_runtime

    choice = json.loads((built / RUNTIME_FILE).read_text())
    assert choice["default"] == "onnx" and choice["least_cosine"] >= TINY_EMBEDDER_MIN_COSINE
    assert preferred_runtime(built, EMBEDDING_ONNX_FILE) is Runtime.ONNX
