"""Sentence embeddings: what the claim monitor compares a document with its watched claims by, before the stance
model reads any pair.

The base package, all-MiniLM-L6-v2, is a sentence-embedding model: the mean of its last hidden states over the real
tokens, scaled to unit length, so a dot product is the cosine similarity. A claim is one embedding; a document is
several (its title, and its sentences or passages: serving/monitor/matching.py, `DocumentCut`), and it touches a claim
as closely as its closest one does; eval/matching_quality.py compares the cuts.

The embedding model is not the stance model: its vectors stay valid when a new stance model is registered, and it
is named beside each stored claim vector, so a change of embedding model is seen rather than mixed in.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
from transformers import PreTrainedTokenizerBase

from models.defaults import PACKAGED_BASE_MODEL, base_model_hub_id
from models.model_config import CONFIG_FILE, ModelLoadError, load_tokenizer
from models.runtime import Runtime, available_cores, preferred_runtime

EMBEDDING_MAX_TOKENS = 128
"""Tokens per embedded text: what all-MiniLM-L6-v2 was trained on; a sentence rarely needs more."""
EMBEDDING_ONNX_FILE = "embedder.onnx"
"""The embedding model's ONNX export (last hidden states), beside its weights: what a torch-free service runs."""


class HiddenStates(Protocol):
    def __call__(self, batch: dict[str, np.ndarray]) -> np.ndarray:
        """Last hidden states, shape (rows, tokens, dimension), for a padded batch."""


class TorchHiddenStates:
    """Imported only when chosen, so a service on the ONNX export never loads torch."""

    def __init__(self, model_dir: Path, num_threads: int) -> None:
        import torch
        from transformers import AutoModel

        torch.set_num_threads(num_threads)
        try:
            self.model = AutoModel.from_pretrained(model_dir).eval()
        except (OSError, ValueError) as error:
            raise ModelLoadError(f"{model_dir}: cannot load the embedding model: {error}") from error

    def __call__(self, batch: dict[str, np.ndarray]) -> np.ndarray:
        import torch

        with torch.inference_mode():
            inputs = {key: torch.from_numpy(value) for key, value in batch.items()}
            return self.model(**inputs).last_hidden_state.float().numpy()


def embedding_dimension(model_dir: Path) -> int:
    """The width of the model's vectors, from its config.json (`hidden_size`)."""
    try:
        return int(json.loads((model_dir / CONFIG_FILE).read_text())["hidden_size"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ModelLoadError(f"{model_dir}: cannot read hidden_size from {CONFIG_FILE}: {error!r}") from error


def mean_pooled(hidden: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
    """The mean over each row's real tokens, at unit length (a row of padding alone stays zero)."""
    mask = attention_mask[..., None].astype(np.float32)
    pooled = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1.0)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)


class SentenceEmbedder:
    """Embeds texts in length-sorted batches (each pads only to its own longest text), in input order."""

    def __init__(
        self,
        encoder: HiddenStates,
        tokenizer: PreTrainedTokenizerBase,
        name: str,
        dimension: int,
        batch_size: int = 32,
        max_tokens: int = EMBEDDING_MAX_TOKENS,
    ) -> None:
        self.encoder = encoder
        self.tokenizer = tokenizer
        self.tokenizing = threading.Lock()
        """A fast tokenizer keeps its truncation setting on itself, and `embed` and `token_counts` set it differently:
        two threads at once (two model copies, an index catching up) could each tokenize under the other's setting."""
        self.name = name
        """Stored beside each claim's vector: vectors of two models are never compared."""
        self.dimension = dimension
        self.batch_size = batch_size
        self.max_tokens = max_tokens

    @classmethod
    def from_dir(
        cls, model_dir: Path | str, runtime: Runtime = Runtime.TORCH, num_threads: int | None = None, **kwargs
    ) -> SentenceEmbedder:
        """An embedder on a saved model: its weights (PyTorch) or its export (`EMBEDDING_ONNX_FILE`); named by its
        folder (the packaged base model by its Hub id) unless `name` is given."""
        model_dir, runtime = Path(model_dir), Runtime(runtime)  # a flag parser hands the value, not the member
        dimension = embedding_dimension(model_dir)
        threads = num_threads or available_cores()
        if runtime is Runtime.ONNX:
            from models.onnx_session import OnnxSession

            encoder: HiddenStates = OnnxSession(model_dir / EMBEDDING_ONNX_FILE, threads)
        else:
            encoder = TorchHiddenStates(model_dir, threads)
        kwargs.setdefault(
            "name", base_model_hub_id(str(model_dir)) if PACKAGED_BASE_MODEL in model_dir.parts else model_dir.name
        )
        return cls(encoder, load_tokenizer(model_dir), dimension=dimension, **kwargs)

    @classmethod
    def served(cls, model_dir: Path | str, name: str, num_threads: int | None = None) -> SentenceEmbedder:
        """The embedder as the service and the monitor's jobs run it: in the runtime its build step chose (the one
        rule of models/runtime.py: its ONNX export, so the process never loads torch), named by its model-store tag,
        which claims' vectors carry."""
        return cls.from_dir(model_dir, preferred_runtime(model_dir, EMBEDDING_ONNX_FILE), num_threads, name=name)

    def token_counts(self, texts: Sequence[str]) -> list[int]:
        """Tokens of each text, without the special ones."""
        with self.tokenizing:
            encoded = self.tokenizer(list(texts), add_special_tokens=False)
        return [len(ids) for ids in encoded["input_ids"]]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length embeddings, one row per text, in input order."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        with self.tokenizing:
            encoded = self.tokenizer(list(texts), truncation=True, max_length=self.max_tokens)
        ids = encoded["input_ids"]
        order = np.argsort([len(x) for x in ids], kind="stable")
        for start in range(0, len(order), self.batch_size):
            index = order[start : start + self.batch_size]
            with self.tokenizing:
                batch = self.tokenizer.pad(
                    {key: [encoded[key][i] for i in index] for key in encoded}, return_tensors="np"
                )
            inputs = {key: np.asarray(value, dtype=np.int64) for key, value in batch.items()}
            out[index] = mean_pooled(self.encoder(inputs), inputs["attention_mask"])
        return out
