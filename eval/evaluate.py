"""Evaluate a saved model and the baselines: `python -m eval.evaluate [--model PATH|TAG] [--output_dir DIR]`.

Test sets:
- `emergent_test`: the published Emergent test split (every pair is about its claim);
- `emergent_test_mismatched`: each Emergent test claim beside headlines of other test claims (every pair is
  unrelated): whether the model tells that a short text is not about the claim;
- `fnc1_test`: the FNC-1 pairs of the Emergent test claims, related and unrelated, held out of training by
  headline and body, scored on FNC-1's own terms (relative score, F1 per class, F1m over the four classes);
  `fnc1_test_related` is its related pairs alone, the stance figures earlier reports gave;
- `fever_symmetric_dev`: FEVER Symmetric's dev pairs, each beside twins whose label flips (training/claim_evidence.py).
Beside them, whatever the split, the polarity probe on the model's own validation claims (eval/polarity.py) and the
worked examples (eval/worked_examples.py).
The baselines train on the model's own training split and choose their settings on its validation split.
`--split validation` scores each source's validation claims instead, and compares relevance designs there.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
from datasets import Dataset
from transformers import AutoTokenizer

from eval.baselines import (
    PUBLISHED_EMERGENT,
    PUBLISHED_FNC1,
    EmbeddingRelevance,
    MajorityBaseline,
    TfidfBaseline,
    TfidfRelevance,
    TwoStageBaseline,
    is_related,
)
from eval.faithfulness import measure
from eval.polarity import polarity_probe, probe_figures
from eval.report import confusion_text, per_class_text, plot_confusion, plot_reliability, write_json
from eval.tables import results_markdown
from eval.worked_examples import worked_examples
from models.command import Command, exit_with, first_paragraph
from models.defaults import MODEL_NAME
from models.encoding import ClaimLimit, LongTextStrategy
from models.labels import SIDED_STANCES, UNRELATED, label_set
from models.metrics import (
    CalibrationCurve,
    Scores,
    calibration_curve,
    fnc_relative_score,
    label_calibration,
    score,
    sided_accuracy,
)
from models.predictor import StancePredictor
from models.registry import resolve
from models.result import RELEVANCE_THRESHOLD, ScoredPairs
from models.runtime import ONNX_FILE, Runtime
from models.sources import CLAIM_EVIDENCE_SOURCES
from training.claim_evidence import read_claim_evidence, read_fever_symmetric, within_claim_limit
from training.config import ClaimEvidenceDesign, TrainConfig, data_dir_field
from training.data import StanceCorpus, load_corpus, merge, mismatched_pairs, split_by_group, to_dataset
from training.splits import build_splits, claim_evidence_splits, saved_config, subsample

log = logging.getLogger("claimstance.eval")
MODEL_SYSTEM = "claimstance"
STRATEGY_SYSTEMS = {
    LongTextStrategy.SENTENCES: "claimstance, sentences pooled",
    LongTextStrategy.PASSAGES: "claimstance, passage selection (one pass)",
    LongTextStrategy.TRUNCATE: "claimstance, plain truncation",
    LongTextStrategy.PASSAGES_AND_SENTENCES: "claimstance, passages and sentences pooled",
}
"""The model reading long texts another way than its default (models/encoding.py: LongTextStrategy)."""
ONNX_SYSTEM = "claimstance, int8 ONNX runtime (served)"
SPLITS = ("test", "validation")
RELATED_SUFFIX = "_related"
MISMATCHED_SUFFIX = "_mismatched"

Predict = Callable[[Dataset], tuple[np.ndarray, ScoredPairs | None]]
"""A system: predicted labels of a set, with the model's scored pairs where there are some."""


@dataclass
class EvalConfig:
    model: str = field(default=f"{MODEL_NAME}:latest", metadata={"help": "Saved model folder or model-store tag."})
    data_dir: str = data_dir_field()
    output_dir: str = field(default="reports/latest", metadata={"help": "Report folder to write."})
    seed: int | None = field(
        default=None, metadata={"help": "Seed of the train/validation claim split (default: the model's own)."}
    )
    validation_fraction: float | None = field(
        default=None, metadata={"help": "Share of claims held out for validation (default: the model's own)."}
    )
    mismatched_per_claim: int = field(
        default=4,
        metadata={"help": "Headlines of other claims set beside each Emergent claim (the *_mismatched sets)."},
    )
    baselines: bool = field(default=True, metadata={"help": "Also train and score the baselines."})
    long_text_strategies: bool = field(
        default=True,
        metadata={
            "help": "Also score the long-text sets under each other long-text strategy (former name --readings).",
            "aliases": ["--readings"],
        },
    )
    faithfulness: bool = field(
        default=True, metadata={"help": "Also test whether the evidence is what the answer rests on (slow on CPU)."}
    )
    polarity: bool = field(
        default=True, metadata={"help": "Also run the polarity probe on the model's validation claims."}
    )
    relevance_sample: int = field(
        default=2000, metadata={"help": "Training pairs the relevance designs choose their thresholds on (validation)."}
    )
    split: str = field(
        default="test",
        metadata={"help": "test: the test sets; validation: each source's validation claims (for choosing recipes)."},
    )


def with_split_flags(trained: TrainConfig, config: EvalConfig) -> TrainConfig:
    """The model's own training config, with the seed or validation fraction the flags give instead."""
    seed = trained.seed if config.seed is None else config.seed
    fraction = trained.validation_fraction if config.validation_fraction is None else config.validation_fraction
    return replace(trained, seed=seed, validation_fraction=fraction)


def evaluation_sets(corpus: StanceCorpus, config: EvalConfig, trained: TrainConfig) -> dict[str, Dataset]:
    """The test sets, or each source's validation claims as the model's training split held them out (`trained`:
    its seed and fraction): never a claim it trained on."""
    seed = trained.seed
    symmetric = read_fever_symmetric(Path(trained.data_dir))
    twins = {"fever_symmetric_dev": to_dataset(symmetric)} if symmetric is not None else {}
    if config.split == "test":
        mismatched = mismatched_pairs(corpus.emergent_test, config.mismatched_per_claim, seed)
        return (
            {
                "emergent_test": corpus.emergent_test,
                f"emergent_test{MISMATCHED_SUFFIX}": mismatched,
                "fnc1_test": corpus.fnc1_test,
            }
            | by_source(claim_evidence_test(trained), "_test")
            | twins
        )
    _, validation = split_by_group(corpus.train_pool, trained.validation_fraction, seed)
    sets = by_source(validation, "_validation")
    if "emergent_validation" in sets:
        mismatched = mismatched_pairs(sets["emergent_validation"], config.mismatched_per_claim, seed)
        sets[f"emergent_validation{MISMATCHED_SUFFIX}"] = mismatched
    _, claim_evidence_validation = claim_evidence_splits(trained, CLAIM_EVIDENCE_SOURCES)
    claim_evidence = by_source(merge(claim_evidence_validation), "_validation") if claim_evidence_validation else {}
    return sets | claim_evidence | twins


def news_validation(trained: TrainConfig) -> Dataset:
    """The model's own news validation pairs, as its training held them out and chose its epoch on: the polarity
    probe's claims, never a test claim."""
    news_only = replace(trained, claim_evidence_design=ClaimEvidenceDesign.NONE, negated_claims=False,
                        attributed_evidence=False)  # fmt: skip
    return build_splits(news_only)[1]


def polarity_figures(trained: TrainConfig, predictors: dict[str, StancePredictor]) -> dict[str, dict]:
    """Each system's figures on the polarity probe of the model's validation claims."""
    probe = polarity_probe(news_validation(trained))
    log.info("polarity probe: %d pairs of %d claims (%d left out)", len(probe), probe.related_claims, probe.left_out)

    def labeller(predictor: StancePredictor):
        return lambda claims, texts: predictor.score_without_evidence(claims, texts).predicted_labels

    return {system: asdict(probe_figures(probe, labeller(p))) for system, p in predictors.items()}


def by_source(dataset: Dataset, suffix: str) -> dict[str, Dataset]:
    """One set per source, named `<source><suffix>`; none for a source without pairs."""
    sets = {
        f"{source}{suffix}": dataset.filter(lambda row, s=source: row["source"] == s)
        for source in sorted(set(dataset["source"]))
    }
    return {name: pairs for name, pairs in sets.items() if len(pairs)}


def claim_evidence_test(trained: TrainConfig) -> Dataset:
    """Every claim–evidence corpus's held-out part (training/claim_evidence.py), whether or not the model trained on
    the corpus, with the claims the service would refuse left out."""
    _, test = read_claim_evidence(trained.data_dir, CLAIM_EVIDENCE_SOURCES)
    limit = ClaimLimit(AutoTokenizer.from_pretrained(trained.base_model), trained.max_length)
    return to_dataset(within_claim_limit(test, limit))


@dataclass
class SetFigures:
    """Every figure of one system on one set: accuracy, per-class scores and the confusion over the labels of the
    set and the system; calibration where there are probabilities; FNC-1's figures where the set mixes related
    and unrelated pairs; the calibration of relevance where the model has it."""

    scores: Scores
    fnc: dict[str, float] = field(default_factory=dict)
    relevance: tuple[float, CalibrationCurve] | None = None
    sided_accuracy: float | None = None
    """Asserting against disputing alone (models/metrics.py), where there are probabilities."""

    @classmethod
    def of(cls, dataset: Dataset, predicted: np.ndarray, scored: ScoredPairs | None) -> SetFigures:
        truth = np.asarray(dataset["label"])
        scores = score(truth, predicted, label_set([*truth, *predicted, *(scored.labels if scored else ())]))
        figures = cls(scores)
        if scored is not None:
            scores.ece, scores.calibration = label_calibration(truth, scored)
            figures.sided_accuracy = sided_accuracy(truth, scored)
        related = truth != UNRELATED
        if related.any() and not related.all():
            figures.fnc = {
                "fnc_relative_score": fnc_relative_score(truth, predicted),
                "f1m": scores.macro_f1,
                "relatedness_accuracy": float(np.mean(related == (predicted != UNRELATED))),
            }
        if scored is not None and scored.relevance is not None and not related.all():
            figures.relevance = calibration_curve(scored.relevance, related)
        return figures

    def to_dict(self) -> dict:
        figures = self.scores.to_dict() | self.fnc
        if self.sided_accuracy is not None:
            figures["sided_accuracy"] = self.sided_accuracy
        if self.relevance is not None:
            figures |= {"relevance_ece": self.relevance[0], "relevance_calibration": asdict(self.relevance[1])}
        return figures


def system_figures(sets: dict[str, Dataset], predict: Predict) -> tuple[dict[str, SetFigures], dict[str, ScoredPairs]]:
    """A system's figures on each set (see `set_figures`), with the model's scored pairs of each set."""
    figures, scored_sets = {}, {}
    for name, dataset in sets.items():
        predicted, scored = predict(dataset)
        figures |= set_figures(name, dataset, predicted, scored)
        if scored is not None:
            scored_sets[name] = scored
    return figures, scored_sets


def set_figures(
    name: str, dataset: Dataset, predicted: np.ndarray, scored: ScoredPairs | None
) -> dict[str, SetFigures]:
    """The figures of one set's answers, and of its related pairs alone when it mixes in unrelated ones (scored
    once, figured twice)."""
    figures = {name: SetFigures.of(dataset, predicted, scored)}
    related = is_related(dataset)
    if related.any() and not related.all():
        related_pairs = dataset.select(np.flatnonzero(related))
        related_scored = None if scored is None else scored.take(related)
        figures[name + RELATED_SUFFIX] = SetFigures.of(related_pairs, predicted[related], related_scored)
    return figures


def as_dicts(figures: dict[str, SetFigures]) -> dict[str, dict]:
    return {name: set_figures.to_dict() for name, set_figures in figures.items()}


def model_system(predictor: StancePredictor) -> Predict:
    def predict(dataset: Dataset) -> tuple[np.ndarray, ScoredPairs]:
        scored = predictor.score(dataset["claim"], dataset["text"])
        return np.asarray(scored.predicted_labels, dtype=object), scored

    return predict


def baseline_system(baseline) -> Predict:
    return lambda dataset: (np.asarray(baseline.predict(dataset), dtype=object), None)


def write_plots(name: str, figures: SetFigures, out: Path) -> None:
    """Confusion matrix (text and PNG) and reliability of the top label; reliability of relevance where the set
    holds unrelated pairs."""
    scores, title = figures.scores, f"{MODEL_SYSTEM} on {name}"
    (out / f"{name}_confusion.txt").write_text(confusion_text(scores) + "\n\n" + per_class_text(scores) + "\n")
    plot_confusion(scores, title, out / f"{name}_confusion.png")
    plot_reliability(scores.ece, scores.calibration, title, out / f"{name}_reliability.png")
    if figures.relevance is not None:
        plot_reliability(*figures.relevance, title, out / f"{name}_relevance_reliability.png", "relevance")
    log.info("%s\n%s", title, per_class_text(scores))


def baseline_figures(trained: TrainConfig, sets: dict[str, Dataset]) -> dict[str, dict[str, dict]]:
    """The baselines, trained on the model's training split (with unrelated pairs, for the relatedness stage) and
    tuned on its validation split."""
    train, validation = build_splits(replace(trained, relevance=True))
    related_train, related_validation = (d.filter(lambda row: row["label"] != UNRELATED) for d in (train, validation))
    stance = TfidfBaseline().fit(related_train, related_validation)
    relevance = TfidfRelevance(train).fit(validation)
    two_stage = f"TF-IDF cosine relatedness (>= {relevance.threshold:.3f}) + TF-IDF + LR stance (C={stance.c})"
    baselines = {"majority class": MajorityBaseline().fit(train), two_stage: TwoStageBaseline(relevance, stance)}
    emergent_train, emergent_validation = (
        d.filter(lambda row: row["source"] == "emergent") for d in (related_train, related_validation)
    )
    if len(emergent_train) and len(emergent_validation):
        emergent = TfidfBaseline().fit(emergent_train, emergent_validation)
        baselines[f"TF-IDF + LR, Emergent training data only (C={emergent.c})"] = emergent
    return {system: as_dicts(system_figures(sets, baseline_system(b))[0]) for system, b in baselines.items()}


def relevance_designs(
    trained: TrainConfig, config: EvalConfig, sets: dict[str, Dataset], scored: dict[str, ScoredPairs]
) -> dict[str, dict]:
    """Relevance from the model's own `unrelated` output against two relevance stages that would sit in front of a
    three-stance model (TF-IDF cosine, and the base model's sentence-embedding cosine), each stage's threshold
    chosen on a sample of training pairs, all measured on the validation sets."""
    train, _ = build_splits(replace(trained, relevance=True))
    sample = subsample(train, config.relevance_sample, trained.seed)
    stages = {
        "TF-IDF cosine": TfidfRelevance(train).fit(sample),
        "sentence-embedding cosine (base model)": EmbeddingRelevance(trained.base_model).fit(sample),
    }
    results: dict[str, dict[str, dict]] = {}
    for name, dataset in sets.items():
        truth = np.where(is_related(dataset), "related", UNRELATED)
        related = {design: stage.related(dataset) for design, stage in stages.items()}
        if name in scored and scored[name].relevance is not None:
            related = {"the model's own unrelated label": scored[name].relevance >= RELEVANCE_THRESHOLD} | related
        for design, guess in related.items():
            figures = score(truth, np.where(guess, "related", UNRELATED), ["related", UNRELATED])
            results.setdefault(design, {})[name] = {
                "accuracy": figures.accuracy,
                "unrelated_f1": figures.per_class[UNRELATED].f1,
                "mixed": len(set(truth)) == 2,
            }
    return {"thresholds": {design: stage.threshold for design, stage in stages.items()}, "results": results}


def other_strategies(predictor: StancePredictor) -> Iterator[str]:
    """Set the predictor to read long texts each way but its own, in turn, yielding that system's name; its own
    reading is back when the loop ends (or breaks)."""
    own = predictor.long_text
    try:
        for strategy, system in STRATEGY_SYSTEMS.items():
            if strategy is not own:
                predictor.long_text = strategy
                yield system
    finally:
        predictor.long_text = own


def evidence_faithfulness(
    predictor: StancePredictor, sets: dict[str, Dataset], scored: dict[str, ScoredPairs]
) -> dict[str, dict]:
    """Sufficiency and comprehensiveness of the evidence on the related pairs of each set (the stance's evidence;
    an unrelated text has no stance to rest on)."""
    results = {}
    for name, dataset in sets.items():
        related = np.flatnonzero(is_related(dataset))
        pairs = dataset.select(related)
        results[name + RELATED_SUFFIX] = asdict(
            measure(predictor, pairs["claim"], pairs["text"], scored[name].take(related))
        )
    return results


def evidence_labels(sets: dict[str, Dataset], scored: dict[str, ScoredPairs]) -> dict[str, dict[str, float]]:
    """On the claim–evidence sets (sentence pairs, most of them): how often the first evidence sentence's own label,
    scored alone as every evidence item is, is the gold one, and asserting against disputing by its own two
    probabilities. What sentence-level training should show first: a tracker shows these labels."""
    figures = {}
    for name, dataset in sets.items():
        if not name.startswith(CLAIM_EVIDENCE_SOURCES) or scored[name].evidence is None:
            continue
        truth = np.asarray(dataset["label"])
        first = [items[0] for items in scored[name].evidence]
        sided = [(e.scores.get(SIDED_STANCES[0], 0.0), e.scores.get(SIDED_STANCES[1], 0.0)) for e in first]
        guess = np.asarray(SIDED_STANCES)[np.argmax(sided, axis=1)]
        figures[name] = {
            "pairs": len(truth),
            "evidence_label_accuracy": float(np.mean([e.label for e in first] == truth)),
            "evidence_sided_accuracy": float(np.mean(guess == truth)),
        }
    return figures


def recipe_score(figures: dict[str, dict]) -> dict[str, float]:
    """What recipes are chosen on: each source's validation macro-F1 over all its labels, an Emergent claim's
    mismatched pairs counted with its related ones (as training's own epoch choice counts them), and the mean
    over sources, so that the small Emergent set weighs as much as FNC-1. The news sources only: the claim–evidence
    corpora are reported beside them, not chosen on (models/metrics.py: source_macro_f1)."""
    by_source: dict[str, Counter] = {}
    for name, set_figures in figures.items():
        source = name.removesuffix(MISMATCHED_SUFFIX).removesuffix("_validation")
        if not name.endswith(("_validation", f"_validation{MISMATCHED_SUFFIX}")) or source in CLAIM_EVIDENCE_SOURCES:
            continue
        labels = set_figures["labels"]
        counts = by_source.setdefault(source, Counter())
        for i, row in enumerate(set_figures["confusion"]):
            counts.update({(labels[i], labels[j]): n for j, n in enumerate(row)})
    scores = {}
    for source, counts in by_source.items():
        pairs = [(truth, guess) for (truth, guess), n in counts.items() for _ in range(n)]
        truth, guess = zip(*pairs, strict=True)
        scores[source] = score(truth, guess, label_set([*truth, *guess])).macro_f1
    return scores | {"mean": float(np.mean(list(scores.values())))}


def run(config: EvalConfig) -> dict:
    if config.split not in SPLITS:
        raise SystemExit(f"--split must be one of {', '.join(SPLITS)}, not {config.split!r}")
    out = Path(config.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = resolve(config.model)
    trained = with_split_flags(saved_config(path, config.data_dir), config)
    sets = evaluation_sets(load_corpus(config.data_dir), config, trained)
    log.info("evaluating %s", path)
    predictor = StancePredictor.from_dir(path)
    model_figures, scored = system_figures(sets, model_system(predictor))
    for name in sets:
        write_plots(name, model_figures[name], out)
    figures = {MODEL_SYSTEM: as_dicts(model_figures)}
    long_sets = {name: d for name, d in sets.items() if not name.startswith(("emergent_", *CLAIM_EVIDENCE_SOURCES))}
    faithfulness = {MODEL_SYSTEM: evidence_faithfulness(predictor, long_sets, scored)} if config.faithfulness else {}
    for system in other_strategies(predictor) if config.long_text_strategies else ():
        strategy_figures, strategy_scored = system_figures(long_sets, model_system(predictor))
        figures[system] = as_dicts(strategy_figures)
        if config.faithfulness:
            faithfulness[system] = evidence_faithfulness(predictor, long_sets, strategy_scored)
    predictors = {MODEL_SYSTEM: predictor}
    if (path / ONNX_FILE).is_file():
        predictors[ONNX_SYSTEM] = StancePredictor.from_dir(path, runtime=Runtime.ONNX)
        figures[ONNX_SYSTEM] = as_dicts(system_figures(sets, model_system(predictors[ONNX_SYSTEM]))[0])
    report: dict = {
        "model": str(path),
        "labels": list(predictor.labels),
        "long_text": str(predictor.long_text),
        "results": figures,
        **({"faithfulness": faithfulness} if faithfulness else {}),
        "evidence_labels": evidence_labels(sets, scored),
        "worked_examples": {system: worked_examples(p) for system, p in predictors.items()},
    }
    if config.polarity:
        report["polarity"] = polarity_figures(trained, predictors)
    if config.baselines and config.split == "test":
        figures |= baseline_figures(trained, sets)
        figures[PUBLISHED_EMERGENT.system + " [published]"] = {
            "emergent_test": {"accuracy": PUBLISHED_EMERGENT.accuracy, "macro_f1": PUBLISHED_EMERGENT.macro_f1}
        }
        report["published_fnc1_competition_test"] = {p.system: p.relative_score for p in PUBLISHED_FNC1}
    if config.split == "validation":
        report["recipe_score"] = recipe_score(figures[MODEL_SYSTEM])
        report["relevance_designs"] = relevance_designs(trained, config, sets, scored)
    write_json(report, out / "report.json")
    markdown = results_markdown(report)
    (out / "results.md").write_text(markdown + "\n")
    log.info("results\n%s", markdown)
    return report


COMMAND = Command(
    "claimstance evaluate",
    first_paragraph(__doc__),
    "claimstance evaluate --model artifacts/default --output_dir reports/default",
    EvalConfig,
    run,
)


if __name__ == "__main__":
    exit_with(COMMAND)
