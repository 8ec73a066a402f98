import numpy as np
import pytest

import training.embedder as embedder_build
from models.embedding import EMBEDDING_ONNX_FILE, SentenceEmbedder
from models.runtime import Runtime
from training.embedder import CHECK_TEXTS, EmbedderConfig, EmbedderExportError, build_embedder, check_export


@pytest.fixture(scope="module")
def built(tiny_base_model_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("embedder") / "embedder"
    return build_embedder(EmbedderConfig(base_model=str(tiny_base_model_dir), output_dir=str(out), register=False))


def test_the_export_embeds_as_pytorch_does(built):
    assert (built / EMBEDDING_ONNX_FILE).is_file() and (built / "export.log").is_file()
    exported = SentenceEmbedder.from_dir(built, Runtime.ONNX, num_threads=1).embed(CHECK_TEXTS)
    reference = SentenceEmbedder.from_dir(built, Runtime.TORCH, num_threads=1).embed(CHECK_TEXTS)
    assert exported.shape == reference.shape == (len(CHECK_TEXTS), 32)
    assert np.min(np.sum(exported * reference, axis=1)) >= embedder_build.MIN_COSINE


def test_a_float_export_gives_pytorchs_vectors(tiny_base_model_dir, tmp_path):
    out = build_embedder(
        EmbedderConfig(base_model=str(tiny_base_model_dir), output_dir=str(tmp_path), quantize=False, register=False)
    )
    exported = SentenceEmbedder.from_dir(out, Runtime.ONNX, num_threads=1).embed(CHECK_TEXTS)
    np.testing.assert_allclose(exported, SentenceEmbedder.from_dir(out, num_threads=1).embed(CHECK_TEXTS), atol=1e-5)


def test_an_export_that_moves_the_vectors_is_refused(built, monkeypatch):
    monkeypatch.setattr(embedder_build, "MIN_COSINE", 1.01)
    with pytest.raises(EmbedderExportError, match=f"{EMBEDDING_ONNX_FILE}: cosine"):
        check_export(built)
