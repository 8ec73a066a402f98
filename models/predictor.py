"""Batched stance prediction for a list of (claim, text) pairs, shared by eval, service and batch job."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from transformers import PreTrainedTokenizerBase

from models.document import DEFAULT_LONG_TEXT, Document, DocumentPlan
from models.encoding import ClaimLimit, LongTextStrategy, encode_pairs, fit_texts
from models.model_config import ModelInfo, load_tokenizer, read_model_info
from models.pair import DEFAULT_LIMITS, Pair
from models.result import ScoredPairs, StanceResult
from models.runtime import (
    ModelSession,
    Runtime,
    available_cores,
    default_batch_size,
    load_session,
    preferred_runtime,
)

if TYPE_CHECKING:  # importing it loads torch, which the ONNX serving path never needs
    from transformers import PreTrainedModel


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    scaled = logits / temperature
    scaled = scaled - scaled.max(axis=-1, keepdims=True)
    exp = np.exp(scaled)
    return exp / exp.sum(axis=-1, keepdims=True)


class StancePredictor:
    """Scores pairs in length-sorted batches with dynamic padding, returning results in input order.

    Sorting by length before batching means each batch pads only to its own longest pair, which on
    a CPU is most of the speed. The runtime (PyTorch or ONNX Runtime) sets its thread count once, so
    that several workers on one machine do not each take every core.
    """

    def __init__(
        self,
        session: ModelSession,
        tokenizer: PreTrainedTokenizerBase,
        settings: ModelInfo,
        batch_size: int = 64,
        long_text: LongTextStrategy = DEFAULT_LONG_TEXT,
        runtime: Runtime = Runtime.TORCH,
        max_evidence: int = DEFAULT_LIMITS.max_evidence,
        model_tag: str = "in-memory",
    ) -> None:
        self.session = session
        self.tokenizer = tokenizer
        self.settings = settings
        self.labels = settings.labels
        self.max_length = settings.max_length
        self.temperature = settings.temperature
        self.claim_limit = ClaimLimit(tokenizer, settings.max_length)
        self.batch_size = batch_size
        self.long_text = long_text
        self.runtime = runtime
        self.max_evidence = max_evidence
        """Checked where it is set (models/pair.py: InputLimits)."""
        self.model_tag = model_tag
        """What each answer names as the model that gave it."""

    @classmethod
    def from_model(
        cls, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, num_threads: int | None = None, **kwargs
    ) -> StancePredictor:
        """A predictor on a model already in memory (training calibrates with this).

        Imported here, not at the top, so that a process serving the ONNX export never loads torch.
        """
        from models.checkpoint import model_info
        from models.torch_session import TorchSession

        session = TorchSession(model, num_threads or available_cores())
        return cls(session, tokenizer, model_info(model), **kwargs)

    @classmethod
    def from_dir(
        cls,
        model_dir: Path | str,
        runtime: Runtime = Runtime.TORCH,
        num_threads: int | None = None,
        batch_size: int | None = None,
        **kwargs,
    ) -> StancePredictor:
        """A predictor on a saved model; `batch_size` defaults to what suits the runtime (default_batch_size), the
        answers' `model` to the folder's name."""
        settings = read_model_info(model_dir)
        session = load_session(model_dir, runtime, num_threads)
        batch_size = batch_size or default_batch_size(runtime)
        kwargs.setdefault("model_tag", Path(model_dir).name)
        return cls(session, load_tokenizer(model_dir), settings, batch_size, runtime=runtime, **kwargs)

    @classmethod
    def served(cls, model_dir: Path | str, model_tag: str, num_threads: int | None = None) -> StancePredictor:
        """The model as its build step chose to serve it (runtime.json), its answers named by `model_tag`."""
        return cls.from_dir(model_dir, preferred_runtime(model_dir), num_threads, model_tag=model_tag)

    def logits(self, claims: Sequence[str], texts: Sequence[str]) -> tuple[np.ndarray, list[bool]]:
        """Uncalibrated logits of one pass over each (fitted) text, in input order, and which texts had to be
        reduced to fit."""
        if not claims:
            return np.zeros((0, len(self.labels)), dtype=np.float32), []
        fitted, reduced = fit_texts(self.tokenizer, claims, texts, self.max_length, self.long_text)
        return self._forward(claims, fitted), reduced

    def _forward(self, claims: Sequence[str], texts: Sequence[str]) -> np.ndarray:
        """Logits of pairs that fit the window, in length-sorted batches, returned in input order."""
        out = np.zeros((len(claims), len(self.labels)), dtype=np.float32)
        if not claims:
            return out
        encoded = encode_pairs(self.tokenizer, claims, texts, self.max_length)
        ids = encoded["input_ids"]
        order = np.argsort([len(x) for x in ids], kind="stable")
        for start in range(0, len(order), self.batch_size):
            index = order[start : start + self.batch_size]
            batch = self.tokenizer.pad(
                {key: [encoded[key][i] for i in index] for key in encoded.keys()}, return_tensors="np"
            )
            out[index] = self.session({key: np.asarray(value, dtype=np.int64) for key, value in batch.items()})
        return out

    def probabilities(self, logits: np.ndarray) -> np.ndarray:
        return softmax(logits.astype(np.float64), self.temperature)

    def score(
        self, claims: Sequence[str], texts: Sequence[str], titles: Sequence[str | None] | None = None
    ) -> ScoredPairs:
        """Calibrated probabilities of each pair, in input order, what follows from them, and each text's evidence.

        A text of one sentence is read in one pass and is its own evidence. A longer one is read as its candidate
        sentences (all scored in the same batches as the one-pass texts) and, unless the strategy pools sentences
        alone, one pass over its fitted text (models/encoding.py: LongTextStrategy). A title, where given, is one
        more sentence, before the text's.
        """
        titles = titles if titles is not None else [None] * len(texts)
        documents = [Document(text, title) for text, title in zip(texts, titles, strict=True)]
        plan = DocumentPlan.of(claims, documents, self.max_evidence, self.long_text)
        whole_logits, reduced = self.logits([claims[i] for i in plan.whole], plan.whole_texts)
        sentence_logits = self._forward(plan.sentence_claims, plan.sentence_texts)
        return plan.assemble(
            self.labels, self.probabilities(whole_logits), reduced, self.probabilities(sentence_logits)
        )

    def score_without_evidence(self, claims: Sequence[str], texts: Sequence[str]) -> ScoredPairs:
        """The same probabilities as `score`, without evidence: a reading that pools no sentences then needs one
        pass per text, the cost at which evaluating many models (the ablation) stays affordable."""
        if self.long_text.pools_sentences:
            return replace(self.score(claims, texts), evidence=None)
        logits, reduced = self.logits(claims, texts)
        return ScoredPairs(self.labels, self.probabilities(logits), reduced)

    def predict(self, pairs: Sequence[Pair]) -> list[StanceResult]:
        """Each pair's answer, in input order."""
        claims, texts, titles = [p.claim for p in pairs], [p.text for p in pairs], [p.title for p in pairs]
        return self.score(claims, texts, titles).results(self.model_tag)
