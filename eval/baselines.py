"""Baselines scored beside the model: majority class, TF-IDF + logistic regression for the stance, TF-IDF and
sentence-embedding cosine for relatedness, and published figures."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
from datasets import Dataset
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from models.labels import UNRELATED, label_set
from models.metrics import macro_f1


@dataclass(frozen=True)
class PublishedResult:
    system: str
    accuracy: float
    macro_f1: float


PUBLISHED_EMERGENT = PublishedResult(
    system="Ferreira & Vlachos 2016 (logistic regression, hand-made features)", accuracy=0.7328, macro_f1=0.723
)


@dataclass(frozen=True)
class PublishedFncScore:
    """A relative FNC-1 score reported on the competition's own test set (25,413 pairs, 72% unrelated), which is
    not our held-out split: for scale only."""

    system: str
    relative_score: str


PUBLISHED_FNC1 = (
    PublishedFncScore("Talos (1st in FNC-1)", "82.02"),
    PublishedFncScore("Athene (2nd in FNC-1)", "81.97"),
    PublishedFncScore("UCLMR (3rd in FNC-1)", "81.72"),
    PublishedFncScore("RoBERTa-based systems (later papers)", "90.0–90.7"),
)


class MajorityBaseline:
    def fit(self, train: Dataset) -> MajorityBaseline:
        self.label = Counter(train["label"]).most_common(1)[0][0]
        return self

    def predict(self, dataset: Dataset) -> np.ndarray:
        return np.full(len(dataset), self.label, dtype=object)


def _frame(dataset: Dataset):
    return dataset.select_columns(["claim", "text"]).to_pandas()


def _tfidf_pipeline(c: float) -> Pipeline:
    word_ngrams = {"ngram_range": (1, 2), "sublinear_tf": True, "min_df": 2, "max_features": 100_000}
    features = ColumnTransformer(
        [("text", TfidfVectorizer(**word_ngrams), "text"), ("claim", TfidfVectorizer(**word_ngrams), "claim")]
    )
    return Pipeline(
        [("features", features), ("classifier", LogisticRegression(C=c, class_weight="balanced", max_iter=2000))]
    )


class TfidfBaseline:
    """TF-IDF of text and claim (word 1–2-grams) into a class-balanced logistic regression, over the labels of
    its training pairs. The regularisation strength is chosen on the validation split by macro-F1."""

    def fit(self, train: Dataset, validation: Dataset, grid: tuple[float, ...] = (0.3, 1.0, 3.0, 10.0)):
        x_train, x_validation = _frame(train), _frame(validation)
        labels = label_set(train["label"])
        scored = []
        for c in grid:
            pipeline = _tfidf_pipeline(c).fit(x_train, train["label"])
            scored.append((macro_f1(validation["label"], pipeline.predict(x_validation), labels), c, pipeline))
        _, self.c, self.pipeline = max(scored, key=lambda item: item[0])
        return self

    def predict(self, dataset: Dataset) -> np.ndarray:
        return self.pipeline.predict(_frame(dataset))


def is_related(dataset: Dataset) -> np.ndarray:
    return np.asarray(dataset["label"]) != UNRELATED


def best_threshold(similarity: np.ndarray, related: np.ndarray) -> float:
    """The similarity above which a pair is called related, chosen for the best macro-F1 of the related/unrelated
    decision (so the share of unrelated pairs in the sample does not decide it)."""
    candidates = np.unique(np.quantile(similarity, np.linspace(0.01, 0.99, 99)))
    return float(max(candidates, key=lambda t: macro_f1(related, similarity >= t, [True, False])))


class CosineRelevance:
    """Related when the claim and the text are similar enough: the threshold is chosen on pairs other than those
    it is measured on. Subclasses say what the vectors are."""

    threshold: float = 0.5

    def similarity(self, dataset: Dataset) -> np.ndarray:
        raise NotImplementedError

    def fit(self, sample: Dataset) -> CosineRelevance:
        self.threshold = best_threshold(self.similarity(sample), is_related(sample))
        return self

    def related(self, dataset: Dataset) -> np.ndarray:
        return self.similarity(dataset) >= self.threshold


class TfidfRelevance(CosineRelevance):
    """The classic FNC-1 relatedness baseline: cosine of the TF-IDF vectors of claim and text."""

    def __init__(self, train: Dataset) -> None:
        texts = sorted(set(train["claim"]) | set(train["text"]))
        self.vectorizer = TfidfVectorizer(sublinear_tf=True, min_df=2, stop_words="english").fit(texts)

    def similarity(self, dataset: Dataset) -> np.ndarray:
        claims = self.vectorizer.transform(dataset["claim"])
        texts = self.vectorizer.transform(dataset["text"])
        return np.asarray(claims.multiply(texts).sum(axis=1)).ravel()


class EmbeddingRelevance(CosineRelevance):
    """Cosine of the base model's mean-pooled sentence embeddings (all-MiniLM-L6-v2 was trained for this), each
    text read up to `max_length` tokens: a relevance stage that would cost a second encoder pass per pair."""

    def __init__(self, base_model: str, max_length: int = 256, batch_size: int = 32) -> None:
        from transformers import AutoModel, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(base_model)
        self.model = AutoModel.from_pretrained(base_model).eval()
        self.max_length = max_length
        self.batch_size = batch_size

    def embed(self, texts: list[str]) -> np.ndarray:
        import torch

        order = np.argsort([len(t) for t in texts], kind="stable")
        out = np.zeros((len(texts), self.model.config.hidden_size), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                index = order[start : start + self.batch_size]
                batch = self.tokenizer(
                    [texts[i] for i in index],
                    truncation=True,
                    max_length=self.max_length,
                    padding=True,
                    return_tensors="pt",
                )
                hidden = self.model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                mean = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1)
                out[index] = torch.nn.functional.normalize(mean, dim=-1).numpy()
        return out

    def similarity(self, dataset: Dataset) -> np.ndarray:
        return (self.embed(dataset["claim"]) * self.embed(dataset["text"])).sum(axis=1)


class TwoStageBaseline:
    """FNC-1's baseline shape: a relatedness decision, then a stance for the related pairs."""

    def __init__(self, relevance: CosineRelevance, stance: TfidfBaseline) -> None:
        self.relevance = relevance
        self.stance = stance

    def predict(self, dataset: Dataset) -> np.ndarray:
        return np.where(self.relevance.related(dataset), self.stance.predict(dataset), UNRELATED)
