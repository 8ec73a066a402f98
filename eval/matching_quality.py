"""How well embeddings pick a document's claims before the stance model: FNC-1 headlines as the watched claims,
bodies as incoming documents, every headline of a split watched at once.

For each labelled (headline, body) pair: a related pair must reach the stance model (recall), an unrelated one
should not (filtered). Each threshold is the highest cosine at which the validation split still keeps a target share
of its related pairs (`target_recalls`, one row each); validation is the FNC-1 claims the default recipe holds out
of training (same seed), and the held-out FNC-1 split is only reported on. Each document is its title (FNC-1
bodies have none) and sentences (serving/monitor/matching.py: `document_pieces`); "whole text" is the body in one
vector, for comparison.

Past `MatchSettings.approximate_from` watched claims the monitor shortlists them through a neighbour graph
(serving/monitor/neighbour_graph.py). What that loses is measured on the held-out bodies against `graph_claims`
watched claims: the held-out headlines, every other claim and evidence text of the data folder (news and
claim–evidence corpora: real sentences, some close to the headlines), and random unit vectors for the rest; the
graph's candidates against the exact search's, and the related pairs each keeps.

`python -m eval.matching_quality` writes reports/matching/{matching.md,matching.json}.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from datasets import Dataset

from models.command import Command, exit_with, first_paragraph
from models.defaults import default_base_model
from models.embedding import SentenceEmbedder
from models.labels import DISPUTING, UNRELATED
from models.metrics import score
from models.predictor import StancePredictor
from models.registry import locate
from models.runtime import Runtime, cpu_info
from models.sources import CLAIM_EVIDENCE_SOURCES
from serving.monitor.matching import ClaimIndex, DocumentCut, MatchSettings, document_pieces
from serving.monitor.neighbour_graph import NeighbourGraph
from training.claim_evidence import read_claim_evidence
from training.config import TrainConfig, data_dir_field
from training.data import load_corpus, split_by_group

log = logging.getLogger("claimstance.matching")


@dataclass
class MatchingConfig:
    data_dir: str = data_dir_field()
    embedder: str = field(default_factory=default_base_model, metadata={"help": "Embedding model folder or store tag."})
    runtime: Runtime = field(default=Runtime.TORCH, metadata={"help": "torch, or onnx (its embedder.onnx export)."})
    target_recalls: list[float] = field(
        default_factory=lambda: [0.99, 0.98, 0.97],
        metadata={"help": "Shares of related validation pairs a threshold must keep: one row each."},
    )
    top_k: int = field(default=MatchSettings().top_k, metadata={"help": "Most claims a document reaches."})
    num_threads: int = 0
    max_documents: int = field(default=0, metadata={"help": "Bodies per split (0: all); for a quick look."})
    model: str = field(
        default="",
        metadata={"help": "A stance model (tag or folder): also its figures on the held-out pairs, all of them (as "
                  "/track reads them) against those the served matching lets through (the rest count as unrelated)."},
    )  # fmt: skip
    graph_claims: int = field(
        default=100_000,
        metadata={"help": "Watched claims the neighbour graph is measured against (0: not measured)."},
    )
    output_dir: str = "reports/matching"


@dataclass(frozen=True)
class SplitSimilarities:
    """Each labelled pair's cosine under each cut of the document, and whether it is related."""

    related: np.ndarray
    by_cut: dict[str, np.ndarray]
    """Per cut (serving/monitor/matching.py: DocumentCut): the claim's cosine to the document's closest piece."""
    rank: dict[str, np.ndarray]
    """The pair's claim's place among all the document's claims, by similarity (0: the closest): past top_k, a
    pair does not reach the stance model whatever its similarity."""
    claims: int
    documents: int
    seconds: dict[str, float]
    """Embedding time of the documents per cut."""
    pieces: dict[str, int]
    """Texts embedded per cut."""
    served_vectors: list[np.ndarray]
    """Each document's vectors in the served cut, in the order of `texts`."""
    texts: list[str]
    claim_texts: list[str]


def split_similarities(pairs: Dataset, embedder: SentenceEmbedder) -> SplitSimilarities:
    claims = sorted(set(pairs["claim"]))
    texts = sorted(set(pairs["text"]))
    index = ClaimIndex(tuple(claims), embedder.embed(claims))
    row_of = {claim: row for row, claim in enumerate(claims)}
    rows = list(zip(pairs["claim"], pairs["text"], strict=True))
    by_cut, rank, seconds, counts, served = {}, {}, {}, {}, []
    for cut in DocumentCut:
        started = time.perf_counter()
        pieces = [document_pieces(embedder, text, None, cut) for text in texts]
        vectors = embedder.embed([piece for document in pieces for piece in document])
        seconds[cut.value], counts[cut.value] = time.perf_counter() - started, len(vectors)
        ends = np.cumsum([len(document) for document in pieces])
        if cut is MatchSettings().cut:
            served = [vectors[end - len(document) : end] for document, end in zip(pieces, ends, strict=True)]
        sims = {text: index.similarities(vectors[end - len(document) : end]) for text, document, end in zip(
            texts, pieces, ends, strict=True)}  # fmt: skip
        by_cut[cut.value] = np.array([sims[text][row_of[claim]] for claim, text in rows])
        rank[cut.value] = np.array([np.sum(sims[text] > sims[text][row_of[claim]]) for claim, text in rows])
    return SplitSimilarities(
        related=np.asarray(pairs["label"]) != UNRELATED,
        by_cut=by_cut,
        rank=rank,
        claims=len(claims),
        documents=len(texts),
        seconds=seconds,
        pieces=counts,
        served_vectors=served,
        texts=texts,
        claim_texts=claims,
    )


def threshold_for(similarity: np.ndarray, related: np.ndarray, target_recall: float) -> float:
    """The highest cosine that keeps at least `target_recall` of the related pairs."""
    kept = np.sort(similarity[related])
    may_lose = int(np.floor((1.0 - target_recall) * len(kept) + 1e-9))  # 1 - 0.8 is 0.19999999999999996
    return float(kept[may_lose])


def figures(split: SplitSimilarities, cut: str, settings: MatchSettings) -> dict[str, float]:
    close = split.by_cut[cut] >= settings.threshold
    kept = close & (split.rank[cut] < settings.top_k)
    return {
        "related kept": share(kept[split.related]),
        "related kept, no top_k": share(close[split.related]),
        "unrelated filtered": share(~kept[~split.related]),
        "candidates per document": float(np.sum(kept)) / split.documents,
    }


def share(hits: np.ndarray) -> float | None:
    """None where there is nothing to count (a split without unrelated pairs)."""
    return float(np.mean(hits)) if len(hits) else None


def fnc1_pairs(data_dir: str, max_documents: int) -> dict[str, Dataset]:
    corpus = load_corpus(data_dir)
    defaults = TrainConfig(data_dir=data_dir)
    _, validation = split_by_group(corpus.train_pool, defaults.validation_fraction, defaults.seed)
    splits = {
        "validation": validation.filter(lambda source: source == "fnc1", input_columns="source"),
        "test": corpus.fnc1_test,
    }
    if max_documents:
        for name, pairs in splits.items():
            keep = set(sorted(set(pairs["text"]))[:max_documents])
            splits[name] = pairs.filter(lambda text, keep=keep: text in keep, input_columns="text")
    return splits


def load_embedder(config: MatchingConfig) -> SentenceEmbedder:
    """A folder, or a model-store tag (`claimstance-embedder:latest`), which then names the embedder."""
    threads = config.num_threads or None
    if Path(config.embedder).is_dir():
        return SentenceEmbedder.from_dir(config.embedder, config.runtime, threads)
    path, tag = locate(config.embedder)
    return SentenceEmbedder.from_dir(path, config.runtime, threads, name=tag)


def run(config: MatchingConfig) -> dict:
    embedder = load_embedder(config)
    labelled = fnc1_pairs(config.data_dir, config.max_documents)
    splits = {name: split_similarities(pairs, embedder) for name, pairs in labelled.items()}
    report: dict = {"config": asdict(config), "cpu": cpu_info()[0], "embedder": embedder.name, "cuts": {}}
    validation = splits["validation"]
    for cut in DocumentCut:
        cut = cut.value
        report["cuts"][cut] = []
        for target in config.target_recalls:
            threshold = threshold_for(validation.by_cut[cut], validation.related, target)
            settings = MatchSettings(threshold=threshold, top_k=config.top_k)
            row = {name: figures(split, cut, settings) for name, split in splits.items()}
            report["cuts"][cut].append({"target recall": target, "threshold": threshold, **row})
    report["splits"] = {
        name: {
            "claims": s.claims,
            "documents": s.documents,
            "pairs": len(s.related),
            "texts embedded": s.pieces,
            "embedding seconds": s.seconds,
        }
        for name, s in splits.items()
    }
    if config.graph_claims:
        report["graph"] = graph_figures(config, embedder, labelled["test"], splits["test"])
    if config.model:
        report["stance"] = path_figures(
            config, fnc1_pairs(config.data_dir, config.max_documents)["test"], splits["test"]
        )
    write(report, Path(config.output_dir))
    return report


def path_figures(config: MatchingConfig, pairs: Dataset, split: SplitSimilarities) -> dict[str, dict[str, float]]:
    """The stance model's figures on the held-out pairs: every pair scored (/track), and the monitor's path, where a
    pair matching does not let through gets no answer, which reads as `unrelated`."""
    model_dir, tag = locate(config.model)
    predictor = StancePredictor.served(model_dir, tag, config.num_threads or None)
    every = np.asarray(predictor.score(pairs["claim"], pairs["text"]).predicted_labels)
    served = MatchSettings()
    cut = served.cut.value
    kept = (split.by_cut[cut] >= served.threshold) & (split.rank[cut] < served.top_k)
    path = np.where(kept, every, UNRELATED)
    truth = np.asarray(pairs["label"])
    related = truth != UNRELATED
    figures = {}
    for name, predicted in (("every pair (/track)", every), ("matched pairs only (the monitor)", path)):
        whole = score(truth, predicted, predictor.labels)
        on_related = score(truth[related], predicted[related], predictor.labels)
        figures[name] = {
            "accuracy": whole.accuracy,
            "related macro-F1": on_related.macro_f1,
            "related disputing F1": on_related.per_class[DISPUTING].f1,
        }
    return {"model": tag, "cut": cut, "threshold": served.threshold, **figures}


def distractor_texts(data_dir: str, exclude: set[str]) -> list[str]:
    """Every claim and evidence text of the data folder but `exclude`: real sentences to watch beside the
    held-out headlines."""
    corpus = load_corpus(data_dir)
    frames = [*read_claim_evidence(data_dir, CLAIM_EVIDENCE_SOURCES)]
    texts = {text for frame in frames for column in ("claim", "text") for text in frame[column]}
    texts |= set(corpus.train_pool["claim"])
    return sorted(texts - exclude)


def graph_figures(config: MatchingConfig, embedder: SentenceEmbedder, pairs: Dataset, split: SplitSimilarities) -> dict:
    """The served matching through the neighbour graph against the exact search, on the held-out bodies with
    `graph_claims` claims watched (the held-out headlines first)."""
    rng = np.random.default_rng(0)
    distractors = distractor_texts(config.data_dir, set(split.claim_texts))
    room = max(0, config.graph_claims - len(split.claim_texts))
    if len(distractors) > room:  # a fair draw, not the alphabet's first
        distractors = [distractors[i] for i in sorted(rng.choice(len(distractors), room, replace=False))]
    texts = split.claim_texts + distractors
    log.info("embedding %d watched claims for the graph", len(texts))
    vectors = [embedder.embed(texts)]
    if (missing := config.graph_claims - len(texts)) > 0:
        noise = rng.standard_normal((missing, embedder.dimension)).astype(np.float32)
        vectors.append(noise / np.linalg.norm(noise, axis=1, keepdims=True))
    watched = np.concatenate(vectors)
    ids = tuple(str(row) for row in range(len(watched)))
    exact = ClaimIndex(ids, watched)
    started = time.perf_counter()
    graph = ClaimIndex(ids, watched, NeighbourGraph(embedder.dimension))
    build_seconds = time.perf_counter() - started
    settings = MatchSettings(top_k=config.top_k)
    found: dict[str, dict[str, set[str]]] = {"exact": {}, "graph": {}}
    seconds = {"exact": 0.0, "graph": 0.0}
    for name, index in (("exact", exact), ("graph", graph)):
        for text, document in zip(split.texts, split.served_vectors, strict=True):
            started = time.perf_counter()
            candidates = index.candidates(document, settings)
            seconds[name] += time.perf_counter() - started
            found[name][text] = {candidate.claim_id for candidate in candidates}
    exact_candidates = sum(len(claims) for claims in found["exact"].values())
    shared = sum(len(found["exact"][text] & found["graph"][text]) for text in split.texts)
    row_of = {claim: str(row) for row, claim in enumerate(split.claim_texts)}
    related = [(claim, text) for claim, text, label in zip(pairs["claim"], pairs["text"], pairs["label"], strict=True)
               if label != UNRELATED]  # fmt: skip
    return {
        "watched claims": len(watched),
        "real texts": len(texts),
        "random vectors": len(watched) - len(texts),
        "build seconds": build_seconds,
        "exact candidates": exact_candidates,
        "graph recall": shared / exact_candidates if exact_candidates else None,
        **{
            f"related kept, {name}": share(np.array([row_of[claim] in found[name][text] for claim, text in related]))
            for name in found
        },
        **{f"ms a document, {name}": 1000 * seconds[name] / len(split.texts) for name in seconds},
    }


def write(report: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "matching.json").write_text(json.dumps(report, indent=2, default=str))
    lines = [
        f"Embedder {report['embedder']} on {report['cpu']}; each threshold is the highest cosine keeping the target "
        f"share of validation related pairs; at most {report['config']['top_k']} claims a document.",
        "",
        "| cut | validation target | threshold | split | related kept | related kept, no top_k "
        "| unrelated filtered | labelled pairs kept per document |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for cut, rows in report["cuts"].items():
        for row in rows:
            for name in ("validation", "test"):
                split = row[name]
                keys = ("related kept", "related kept, no top_k", "unrelated filtered")
                lines.append(
                    f"| {cut} | {row['target recall']:.1%} | {row['threshold']:.3f} | {name} "
                    f"| {' | '.join(percent(split[key]) for key in keys)} | {split['candidates per document']:.1f} |"
                )
    lines += [
        "",
        "| split | claims | documents | pairs | cut | texts embedded | embedding seconds |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, split in report["splits"].items():
        for cut, count in split["texts embedded"].items():
            lines.append(
                f"| {name} | {split['claims']} | {split['documents']} | {split['pairs']} | {cut} | {count} "
                f"| {split['embedding seconds'][cut]:.1f} |"
            )
    if "graph" in report:
        graph = report["graph"]
        lines += [
            "",
            f"Neighbour graph against the exact search on the held-out bodies, {graph['watched claims']:,} claims "
            f"watched ({graph['real texts']:,} real texts, {graph['random vectors']:,} random vectors); served "
            f"threshold and top_k; built in {graph['build seconds']:.0f} s.",
            "",
            "| exact candidates | graph recall | related kept, exact | related kept, graph | ms a document, exact "
            "| ms a document, graph |",
            "|---|---|---|---|---|---|",
            f"| {graph['exact candidates']:,} | {percent(graph['graph recall'])} | "
            f"{percent(graph['related kept, exact'])} | {percent(graph['related kept, graph'])} | "
            f"{graph['ms a document, exact']:.2f} | {graph['ms a document, graph']:.2f} |",
        ]
    if "stance" in report:
        stance = report["stance"]
        lines += [
            "",
            f"Stance model {stance['model']} on the held-out pairs; the monitor's path as served ({stance['cut']}, "
            f"threshold {stance['threshold']}): a pair it does not let through counts as unrelated.",
            "",
            "| pairs scored | accuracy | related macro-F1 | related disputing F1 |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| {name} | {row['accuracy']:.4f} | {row['related macro-F1']:.4f} | {row['related disputing F1']:.4f} |"
            for name, row in stance.items()
            if isinstance(row, dict)
        ]
    (out / "matching.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.2%}"


COMMAND = Command(
    "python -m eval.matching_quality",
    first_paragraph(__doc__),
    "python -m eval.matching_quality --embedder claimstance-embedder:latest",
    MatchingConfig,
    run,
)


if __name__ == "__main__":
    exit_with(COMMAND)
