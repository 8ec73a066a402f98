import numpy as np
import pytest
import torch
from transformers import BertModel

from models.embedding import SentenceEmbedder, embedding_dimension, mean_pooled
from models.model_config import ModelLoadError

TEXTS = ["Russia's airstrikes target ISIS.", "A cat sat on the mat.", "word " * 200, "Short."]


@pytest.fixture(scope="module")
def embedder(tiny_base_model_dir) -> SentenceEmbedder:
    return SentenceEmbedder.from_dir(tiny_base_model_dir, num_threads=1)


def test_embeddings_are_the_mean_of_the_real_tokens_at_unit_length(embedder, tiny_base_model_dir, tokenizer):
    vectors = embedder.embed(TEXTS)
    assert vectors.shape == (len(TEXTS), 32) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    model = BertModel.from_pretrained(tiny_base_model_dir).eval()
    for text, vector in zip(TEXTS, vectors, strict=True):
        encoded = tokenizer(text, truncation=True, max_length=embedder.max_tokens, return_tensors="pt")
        with torch.inference_mode():
            expected = model(**encoded).last_hidden_state[0].mean(dim=0).numpy()  # one text alone: no padding
        np.testing.assert_allclose(vector, expected / np.linalg.norm(expected), atol=1e-5)


def test_an_embedding_does_not_depend_on_its_batch(embedder, tiny_base_model_dir):
    one_at_a_time = SentenceEmbedder.from_dir(tiny_base_model_dir, num_threads=1, batch_size=1)
    np.testing.assert_allclose(embedder.embed(TEXTS), one_at_a_time.embed(TEXTS), atol=1e-5)
    np.testing.assert_allclose(embedder.embed(TEXTS[::-1])[::-1], embedder.embed(TEXTS), atol=1e-5)


def test_no_texts_is_no_rows_of_the_models_width(embedder):
    assert embedder.embed([]).shape == (0, 32)


def test_the_embedder_is_named_by_its_folder(embedder, tiny_base_model_dir):
    assert embedder.name == tiny_base_model_dir.name
    assert embedder.dimension == embedding_dimension(tiny_base_model_dir) == 32
    assert SentenceEmbedder.from_dir(tiny_base_model_dir, num_threads=1, name="mine").name == "mine"


def test_mean_pooling_leaves_padding_out():
    hidden = np.array([[[1.0, 0.0], [3.0, 0.0], [100.0, 100.0]]], dtype=np.float32)
    np.testing.assert_allclose(mean_pooled(hidden, np.array([[1, 1, 0]])), [[1.0, 0.0]])
    np.testing.assert_allclose(mean_pooled(hidden, np.array([[0, 0, 0]])), [[0.0, 0.0]])


def test_a_folder_without_a_model_is_named(tmp_path):
    with pytest.raises(ModelLoadError, match=f"{tmp_path}: cannot read hidden_size from config.json"):
        SentenceEmbedder.from_dir(tmp_path, num_threads=1)


def test_the_served_embedder_runs_its_export_where_it_has_one(tiny_base_model_dir, embedder_dir):
    from models.embedding import TorchHiddenStates
    from models.onnx_session import OnnxSession

    exported = SentenceEmbedder.served(embedder_dir, "claimstance-embedder:v1", num_threads=1)
    assert isinstance(exported.encoder, OnnxSession) and exported.name == "claimstance-embedder:v1"
    weights_only = SentenceEmbedder.served(tiny_base_model_dir, "base:v1", num_threads=1)
    assert isinstance(weights_only.encoder, TorchHiddenStates) and weights_only.name == "base:v1"


def test_threads_embedding_and_counting_tokens_at_once_each_get_their_own_vectors(embedder_dir):
    """A fast tokenizer keeps its truncation on itself; `embed` truncates and `token_counts` does not: unguarded,
    some of 1,200 concurrent calls were tokenized under the other's setting (1,502 tokens where 128 were meant)."""
    import threading

    embedder = SentenceEmbedder.served(embedder_dir, "claimstance-embedder:t", num_threads=1)
    titles = [f"A long title about the harbour bridge, part {k}, " + "with many more words " * 60 for k in range(4)]
    expected = {title: embedder.embed([title])[0] for title in titles}
    wrong = []

    def calls(seed: int) -> None:
        for k in range(400):
            title = titles[(seed + k) % len(titles)]
            if k % 2:
                embedder.token_counts([title, title])
            elif not np.allclose(embedder.embed([title])[0], expected[title], atol=1e-6):
                wrong.append(title)

    threads = [threading.Thread(target=calls, args=(seed,)) for seed in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []
