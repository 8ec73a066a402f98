"""What each step of the recipe, and each lever for disputes, buys: train every step with several seeds, score on the
test sets, with each model's validation figure (what choices are made on) beside them.

`python -m eval.ablation --seeds 42 43 44 [--steps default balanced]` writes reports/ablation/{ablation.md,
ablation.json}. Models go to artifacts/ablation/<step>_s<seed>; one already there is reused, and its scores are kept
beside it (SCORES_FILE), so a killed run resumes. Two more rows are built from the default step's models without
training: a decision rule fitted on validation (eval/decision_rule.py) and the ensemble of its seeds.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from datasets import Dataset

from eval.baselines import is_related
from eval.cli import run_from_cli
from eval.decision_rule import cross_fitted_labels, fit_stance_offsets, with_stance_offsets
from eval.evaluate import RELATED_SUFFIX, SetFigures, other_readings, set_figures
from models.predictor import StancePredictor
from models.result import ScoredPairs
from training.config import default_data_dir, parse_config
from training.data import StanceCorpus, load_corpus
from training.splits import model_splits
from training.train import source_macro_f1, train

log = logging.getLogger("claimstance.ablation")


@dataclass(frozen=True)
class Step:
    name: str
    slug: str
    """Its models' folder names: <slug>_s<seed>."""
    flags: tuple[str, ...] = ()
    """Flags on top of the default recipe."""


STEPS = (
    Step("Emergent only, three stances", "emergent_only", ("--sources", "emergent", "--relevance", "false")),
    Step("+ FNC-1 and ARC related pairs, three stances", "related_pairs", ("--relevance", "false")),
    Step("+ unrelated pairs, four labels (default recipe)", "default"),
    Step("+ FNC-1/ARC pairs drawn evenly across labels", "balanced", ("--balance_aux_labels", "true")),
    Step("every FNC-1/ARC related pair (quality recipe)", "quality", ("--recipe", "quality")),
)
BASE_STEP = "default"
"""The step whose models the decision rule and the ensemble are built on."""
DECISION_RULE_ROW = "default recipe + stance offsets fitted on validation"
ENSEMBLE_ROW = "default recipe, its seeds' models averaged (ensemble, one figure)"
TRAIN_FLAGS = ("--register", "false", "--export_onnx", "false")
"""Ablation models are scored with PyTorch and never served."""
VALIDATION = "validation"
TEST_SETS = ("emergent_test", "fnc1_test")
SCORES_FILE = "ablation_scores.npz"
VALIDATION_COLUMN = "validation macro-F1"
"""Mean over sources of macro-F1 on the model's own validation claims: training's epoch criterion."""


@dataclass
class AblationConfig:
    data_dir: str = field(default_factory=default_data_dir)
    seeds: list[int] = field(default_factory=lambda: [42, 43, 44])
    steps: list[str] = field(
        default_factory=lambda: [step.slug for step in STEPS], metadata={"help": "Steps to run, by slug."}
    )
    readings: bool = field(
        default=True, metadata={"help": "Also score FNC-1's related test pairs with each other reading of long texts."}
    )
    models_dir: str = "artifacts/ablation"
    output_dir: str = "reports/ablation"


@dataclass
class ModelScores:
    """One trained model's calibrated probabilities on its validation split and each test set, and its macro-F1 on
    FNC-1's related test pairs under each other reading; saved beside the model so a rerun does not score again."""

    labels: tuple[str, ...]
    probabilities: dict[str, np.ndarray]
    readings: dict[str, float]

    def scored(self, name: str) -> ScoredPairs:
        probabilities = self.probabilities[name]
        return ScoredPairs(self.labels, probabilities, [False] * len(probabilities))

    def save(self, path: Path) -> None:
        meta = json.dumps({"labels": list(self.labels), "readings": self.readings})
        np.savez(path, meta=np.array(meta), **self.probabilities)

    @classmethod
    def load(cls, path: Path) -> ModelScores:
        with np.load(path) as saved:
            meta = json.loads(str(saved["meta"]))
            probabilities = {name: saved[name] for name in saved.files if name != "meta"}
        return cls(tuple(meta["labels"]), probabilities, meta["readings"])


def related_pairs(dataset: Dataset) -> Dataset:
    return dataset.select(np.flatnonzero(is_related(dataset)))


def score_model(model_dir: Path, corpus: StanceCorpus, validation: Dataset, readings: bool) -> ModelScores:
    """Score one model on its validation split and the test sets (its own reading), and FNC-1's related test pairs
    each other way (models/encoding.py: LongTextStrategy)."""
    predictor = StancePredictor.from_dir(model_dir)
    sets = {VALIDATION: validation} | {name: getattr(corpus, name) for name in TEST_SETS}
    probabilities = {
        name: predictor.score_without_evidence(d["claim"], d["text"]).probabilities for name, d in sets.items()
    }
    reading_figures = {}
    if readings:
        related = related_pairs(corpus.fnc1_test)
        for system in other_readings(predictor):
            scored = predictor.score_without_evidence(related["claim"], related["text"])
            figures = SetFigures.of(related, np.asarray(scored.predicted_labels, dtype=object), scored)
            reading_figures[system.removeprefix("claimstance, ")] = figures.scores.macro_f1
    return ModelScores(predictor.labels, probabilities, reading_figures)


def held_out_row(corpus: StanceCorpus, scored: dict[str, ScoredPairs]) -> dict[str, float]:
    """Test figures of one system's answers: Emergent test and FNC-1 held-out on its own terms and on its related
    pairs; F1 per label, for whatever labels model and sets have."""
    figures: dict[str, SetFigures] = {}
    for name in TEST_SETS:
        predicted = np.asarray(scored[name].predicted_labels, dtype=object)
        figures |= set_figures(name, getattr(corpus, name), predicted, scored[name])
    row = {}
    for name in (*TEST_SETS, "fnc1_test" + RELATED_SUFFIX):
        scores = figures[name].scores
        row |= {f"{name} acc": scores.accuracy, f"{name} macro-F1": scores.macro_f1}
        row |= {f"{name} {label} F1": c.f1 for label, c in scores.per_class.items() if c.support}
    row["fnc1_test relative score"] = figures["fnc1_test"].fnc["fnc_relative_score"]
    return row


def validation_figure(validation: Dataset, labels: list[str], model_labels: tuple[str, ...]) -> float:
    return source_macro_f1(validation["label"], labels, validation["source"], model_labels)["macro_f1"]


def model_row(scores: ModelScores, corpus: StanceCorpus, validation: Dataset) -> dict[str, float]:
    validation_labels = scores.scored(VALIDATION).predicted_labels
    row = {VALIDATION_COLUMN: validation_figure(validation, validation_labels, scores.labels)}
    row |= held_out_row(corpus, {name: scores.scored(name) for name in TEST_SETS})
    reading = f"fnc1_test{RELATED_SUFFIX} macro-F1, "
    return row | {reading + system: value for system, value in scores.readings.items()}


def decision_rule_row(scores: ModelScores, corpus: StanceCorpus, validation: Dataset) -> dict[str, float]:
    """The model with stance offsets fitted on its whole validation split, scored on the test sets; its validation
    figure cross-fitted (each claim's pairs labelled by offsets fitted on the other claims)."""
    truth, sources, scored = validation["label"], validation["source"], scores.scored(VALIDATION)
    offsets = fit_stance_offsets(truth, scored, sources)
    log.info("stance offsets fitted on validation: %s", offsets.round(2).tolist())
    crossed = cross_fitted_labels(truth, scored, sources, validation["group"])
    row = {VALIDATION_COLUMN: validation_figure(validation, crossed, scores.labels)}
    return row | held_out_row(corpus, {name: with_stance_offsets(scores.scored(name), offsets) for name in TEST_SETS})


def ensemble_row(all_scores: list[ModelScores], corpus: StanceCorpus) -> dict[str, float]:
    """The seeds' models as one: their probabilities averaged. It has no validation figure: each seed held out
    different claims, which the other seeds trained on."""
    averaged = ModelScores(
        all_scores[0].labels,
        {name: np.mean([scores.probabilities[name] for scores in all_scores], axis=0) for name in TEST_SETS},
        readings={},
    )
    return held_out_row(corpus, {name: averaged.scored(name) for name in TEST_SETS})


def model_scores(step: Step, seed: int, config: AblationConfig, corpus: StanceCorpus) -> tuple[ModelScores, Dataset]:
    """One step's model for one seed, trained if missing, with its scores (kept beside it) and validation split."""
    out = Path(config.models_dir) / f"{step.slug}_s{seed}"
    if not (out / "model.safetensors").exists():
        args = [*step.flags, *TRAIN_FLAGS, "--seed", str(seed), "--data_dir", config.data_dir]
        train(parse_config([*args, "--output_dir", str(out)]))
    _, validation = model_splits(out, config.data_dir)
    if (out / SCORES_FILE).is_file():
        scores = ModelScores.load(out / SCORES_FILE)
    else:
        scores = score_model(out, corpus, validation, config.readings)
        scores.save(out / SCORES_FILE)
    return scores, validation


def run(config: AblationConfig) -> dict:
    known = {step.slug: step for step in STEPS}
    if unknown := sorted(set(config.steps) - set(known)):
        raise SystemExit(f"--steps: unknown {', '.join(unknown)}; the steps are {', '.join(known)}")
    corpus = load_corpus(config.data_dir)
    results: dict[str, dict[str, list[float]]] = {}

    def add(row_name: str, row: dict[str, float]) -> None:
        log.info("%s: %s", row_name, row)
        for key, value in row.items():
            results.setdefault(row_name, {}).setdefault(key, []).append(value)

    for step in (known[slug] for slug in config.steps):
        step_scores = []
        for seed in config.seeds:
            scores, validation = model_scores(step, seed, config, corpus)
            add(step.name, model_row(scores, corpus, validation))
            step_scores.append(scores)
            if step.slug == BASE_STEP:
                add(DECISION_RULE_ROW, decision_rule_row(scores, corpus, validation))
        if step.slug == BASE_STEP and len(step_scores) > 1:
            add(ENSEMBLE_ROW, ensemble_row(step_scores, corpus))
    write(results, config)
    return results


def mean_spread(values: list[float]) -> str:
    """Mean ± sample standard deviation; a single figure alone (it has no spread)."""
    return f"{np.mean(values):.3f} ± {np.std(values, ddof=1):.3f}" if len(values) > 1 else f"{values[0]:.3f}"


def write(results: dict[str, dict[str, list[float]]], config: AblationConfig) -> None:
    out = Path(config.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "ablation.json").write_text(json.dumps({"seeds": config.seeds, "results": results}, indent=2))
    columns = list(dict.fromkeys(column for figures in results.values() for column in figures))
    lines = [
        f"Mean ± sample standard deviation over seeds {', '.join(map(str, config.seeds))}.",
        "",
        "| step | " + " | ".join(columns) + " |",
        "|---" * (len(columns) + 1) + "|",
    ]
    lines += [
        f"| {step} | " + " | ".join(mean_spread(v[c]) if c in v else "–" for c in columns) + " |"
        for step, v in results.items()
    ]
    (out / "ablation.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def main() -> None:
    run_from_cli(AblationConfig, run)


if __name__ == "__main__":
    main()
