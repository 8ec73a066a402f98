"""What each step of the recipe, and each lever for disputes, buys: train every step with several seeds, score on the
test sets, with each model's validation figures (what choices are made on) beside them.

The claim–evidence designs (intermediate, multi-task, mix) and the 256-token window are steps too; every model is
also scored on every claim–evidence corpus's validation claims and held-out part, asserting against disputing, so a
design that wins on news shows what it costs or buys there.

`python -m eval.ablation --seeds 42 43 44 [--steps news_only multitask]` writes reports/ablation/{ablation.md,
ablation.json}. Models go to artifacts/ablation/<step>_s<seed>; one already there is reused, and its scores are kept
beside it (SCORES_FILE), so a killed run resumes. Models do not outlive a machine, so `--kept_reports` names earlier
reports whose row for a step and seed stands in where that model is gone: three seeds of a lever can be measured
over several sessions, and the report says which rows were kept. Two more rows are built from the news-only step's
models without training: a decision rule fitted on validation (eval/decision_rule.py) and the ensemble of its seeds.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from datasets import Dataset

from eval.baselines import is_related
from eval.decision_rule import cross_fitted_labels, fit_stance_offsets, with_stance_offsets
from eval.evaluate import (
    RELATED_SUFFIX,
    SetFigures,
    claim_evidence_test,
    news_validation,
    other_strategies,
    set_figures,
)
from eval.polarity import PolarityFigures, polarity_probe
from models.command import Command, exit_with, first_paragraph
from models.labels import DISPUTING
from models.metrics import score, sided_accuracy, source_macro_f1
from models.predictor import StancePredictor
from models.result import ScoredPairs
from models.sources import CLAIM_EVIDENCE_SOURCES
from training.claim_evidence import read_fever_symmetric
from training.config import data_dir_field, parse_config
from training.data import StanceCorpus, load_corpus, merge, to_dataset
from training.splits import build_splits, claim_evidence_splits, saved_config
from training.train import train

log = logging.getLogger("claimstance.ablation")


@dataclass(frozen=True)
class Step:
    name: str
    slug: str
    """Its models' folder names: <slug>_s<seed>."""
    flags: tuple[str, ...] = ()
    """Flags on top of the default recipe (the earlier steps: on top of BEFORE_POLARITY)."""


CLAIM_EVIDENCE = ("--claim_evidence_sources", ",".join(CLAIM_EVIDENCE_SOURCES), "--claim_evidence_design")
BEFORE_POLARITY = (
    *(
        "--epochs",
        "4",
        "--max_fnc_arc_pairs",
        "2000",
        "--max_unrelated_pairs",
        "800",
        "--max_claim_evidence_pairs",
        "1000",
    ),
    *("--negated_claims", "false", "--attributed_evidence", "false"),
)
"""The default recipe before the counterfactual pairs (45 minutes on the reference machine), which the earlier steps
add to or take from: their rows in kept reports were trained so."""
STEPS = (
    Step(
        "Emergent only, three stances",
        "emergent_only",
        (*BEFORE_POLARITY, "--claim_evidence_design", "none", "--sources", "emergent", "--relevance", "false"),
    ),
    Step(
        "+ FNC-1 and ARC related pairs, three stances",
        "related_pairs",
        (*BEFORE_POLARITY, "--claim_evidence_design", "none", "--relevance", "false"),
    ),
    Step(
        "+ unrelated pairs, four labels (recipe before claim–evidence)",
        "news_only",
        (*BEFORE_POLARITY, "--claim_evidence_design", "none"),
    ),
    Step(
        "+ FNC-1/ARC pairs drawn evenly across labels",
        "balanced",
        (*BEFORE_POLARITY, "--claim_evidence_design", "none", "--balance_aux_labels", "true"),
    ),
    Step("every FNC-1/ARC related pair (quality recipe)", "quality", ("--recipe", "quality")),
    Step(
        "+ claim–evidence pairs first, then the news recipe (intermediate)",
        "intermediate",
        (*BEFORE_POLARITY, *CLAIM_EVIDENCE, "intermediate", "--max_claim_evidence_pairs", "2000"),
    ),
    Step(
        "+ claim–evidence pairs through a two-way head of their own (multi-task)",
        "multitask",
        (*BEFORE_POLARITY, *CLAIM_EVIDENCE, "multitask"),
    ),
    Step(
        "+ claim–evidence pairs in the news head, weight 0.5 (mix)",
        "mix",
        (*BEFORE_POLARITY, *CLAIM_EVIDENCE, "mix", "--claim_evidence_weight", "0.5"),
    ),
    Step(
        "256-token window for bodies",
        "window256",
        (*BEFORE_POLARITY, "--claim_evidence_design", "none", "--max_length", "256"),
    ),
    Step(
        "default's size (2 epochs, fewer pairs), no counterfactual pairs",
        "no_counterfactuals",
        ("--negated_claims", "false", "--attributed_evidence", "false"),
    ),
    Step(
        "+ claims negated, labels swapped",
        "negated_claims",
        ("--negated_claims", "true", "--attributed_evidence", "false"),
    ),
    Step(
        "+ claims negated and claim–evidence attributed (default)",
        "negated_attributed",
        ("--negated_claims", "true", "--attributed_evidence", "true"),
    ),
    Step(
        "+ claims negated and claim–evidence attributed, claim–evidence in the news head (mix, weight 0.5)",
        "negated_attributed_mix",
        (
            "--negated_claims",
            "true",
            "--attributed_evidence",
            "true",
            *CLAIM_EVIDENCE,
            "mix",
            "--claim_evidence_weight",
            "0.5",
        ),
    ),
)
BASE_STEP = "news_only"
"""The step whose models the decision rule and the ensemble are built on."""
DECISION_RULE_ROW = "news only + stance offsets fitted on validation"
ENSEMBLE_ROW = "news only, its seeds' models averaged (ensemble, one figure)"
TRAIN_FLAGS = ("--register", "false", "--export_onnx", "false")
"""Ablation models are scored with PyTorch and never served."""
VALIDATION = "validation"
CLAIM_EVIDENCE_VALIDATION = "claim_evidence_validation"
CLAIM_EVIDENCE_TEST = "claim_evidence_test"
PROBE, PROBE_NEGATED = "polarity_probe", "polarity_probe_negated"
"""The model's validation claims beside their negations (eval/polarity.py), as two sets of the same texts."""
FEVER_SYMMETRIC = "fever_symmetric_dev"
TEST_SETS = ("emergent_test", "fnc1_test")
SCORES_FILE = "ablation_scores.npz"
VALIDATION_COLUMN = "validation macro-F1"
"""Mean over the news sources of macro-F1 on the model's own validation claims: training's epoch criterion."""
PROBE_FLIP_COLUMN = "probe: sided answers that flip"
PROBE_GAP_COLUMN = "probe: accuracy lost on negated claims"
FEVER_SYMMETRIC_COLUMN = "FEVER Symmetric 2-way acc"
DISPUTING_COLUMN = "validation disputing F1"
"""F1 of `disputing` over the news validation pairs: the label the claim–evidence corpora are there for."""
SIDED_VALIDATION_COLUMN = "claim–evidence validation 2-way acc"
"""Asserting against disputing on the claim–evidence corpora's validation claims, the mean over corpora: what a
design must not lose while it wins on news."""


@dataclass
class AblationConfig:
    data_dir: str = data_dir_field()
    seeds: list[int] = field(default_factory=lambda: [42, 43, 44])
    steps: list[str] = field(
        default_factory=lambda: [step.slug for step in STEPS], metadata={"help": "Steps to run, by slug."}
    )
    long_text_strategies: bool = field(
        default=True,
        metadata={
            "help": "Also score FNC-1's related test pairs with each other long-text strategy (formerly --readings).",
            "aliases": ["--readings"],
        },
    )
    kept_reports: list[str] = field(
        default_factory=list,
        metadata={
            "help": "Earlier reports (folders holding ablation.json): a step's row for a seed whose model is gone is "
            "taken from them instead of training again; a later folder wins."
        },
    )
    train: bool = field(
        default=True,
        metadata={"help": "Train a missing model; false: a step and seed with neither model nor kept row is left out."},
    )
    models_dir: str = "artifacts/ablation"
    output_dir: str = "reports/ablation"


@dataclass
class ModelScores:
    """One trained model's calibrated probabilities on its validation split and each test set, and its macro-F1 on
    FNC-1's related test pairs under each other reading; saved beside the model so a rerun does not score again."""

    labels: tuple[str, ...]
    probabilities: dict[str, np.ndarray]
    strategies: dict[str, float]

    def scored(self, name: str) -> ScoredPairs:
        probabilities = self.probabilities[name]
        return ScoredPairs(self.labels, probabilities, [False] * len(probabilities))

    def save(self, path: Path) -> None:
        meta = json.dumps({"labels": list(self.labels), "strategies": self.strategies})
        np.savez(path, meta=np.array(meta), **self.probabilities)

    @classmethod
    def load(cls, path: Path) -> ModelScores:
        with np.load(path) as saved:
            meta = json.loads(str(saved["meta"]))
            probabilities = {name: saved[name] for name in saved.files if name != "meta"}
        return cls(tuple(meta["labels"]), probabilities, meta.get("strategies", meta.get("readings", {})))


def related_pairs(dataset: Dataset) -> Dataset:
    return dataset.select(np.flatnonzero(is_related(dataset)))


def own_sets(model_dir: Path, data_dir: str) -> dict[str, Dataset]:
    """A model's validation split, and every claim–evidence corpus's validation claims (held out by the model's seed,
    as they would be had it trained on them) and held-out part, so that every step is compared on the same pairs."""
    trained = saved_config(model_dir, data_dir)
    _, validation = build_splits(trained)
    _, claim_evidence_validation = claim_evidence_splits(trained, CLAIM_EVIDENCE_SOURCES)
    probe = polarity_probe(news_validation(trained))
    columns = {"text": probe.texts, "source": probe.sources}
    sets = {
        VALIDATION: validation,
        CLAIM_EVIDENCE_VALIDATION: merge(claim_evidence_validation),
        CLAIM_EVIDENCE_TEST: claim_evidence_test(trained),
        PROBE: Dataset.from_dict({"claim": probe.claims, "label": probe.labels, **columns}),
        PROBE_NEGATED: Dataset.from_dict({"claim": probe.negated_claims, "label": probe.negated_labels, **columns}),
    }
    symmetric = read_fever_symmetric(Path(data_dir))
    return sets | ({FEVER_SYMMETRIC: to_dataset(symmetric)} if symmetric is not None else {})


def score_model(model_dir: Path, corpus: StanceCorpus, own: dict[str, Dataset], strategies: bool) -> ModelScores:
    """Score one model on its validation split, the claim–evidence sets and the test sets (its own reading), and
    FNC-1's related test pairs each other way (models/encoding.py: LongTextStrategy)."""
    predictor = StancePredictor.from_dir(model_dir)
    sets = own | {name: getattr(corpus, name) for name in TEST_SETS}
    probabilities = {
        name: predictor.score_without_evidence(d["claim"], d["text"]).probabilities for name, d in sets.items()
    }
    strategy_figures = {}
    if strategies:
        related = related_pairs(corpus.fnc1_test)
        for system in other_strategies(predictor):
            scored = predictor.score_without_evidence(related["claim"], related["text"])
            figures = SetFigures.of(related, np.asarray(scored.predicted_labels, dtype=object), scored)
            strategy_figures[system.removeprefix("claimstance, ")] = figures.scores.macro_f1
    return ModelScores(predictor.labels, probabilities, strategy_figures)


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


def sided_by_source(dataset: Dataset, scored: ScoredPairs) -> dict[str, float]:
    """Asserting against disputing alone, per source of the set."""
    sources, truth = np.asarray(dataset["source"]), np.asarray(dataset["label"])
    return {s: sided_accuracy(truth[sources == s], scored.take(sources == s)) for s in sorted(set(sources))}


def news_disputing_f1(validation: Dataset, labels: list[str], model_labels: tuple[str, ...]) -> float:
    news = ~np.isin(validation["source"], CLAIM_EVIDENCE_SOURCES)
    scores = score(np.asarray(validation["label"])[news], np.asarray(labels)[news], model_labels)
    return scores.per_class[DISPUTING].f1


def model_row(scores: ModelScores, corpus: StanceCorpus, own: dict[str, Dataset]) -> dict[str, float]:
    validation = own[VALIDATION]
    validation_labels = scores.scored(VALIDATION).predicted_labels
    row = {
        VALIDATION_COLUMN: validation_figure(validation, validation_labels, scores.labels),
        DISPUTING_COLUMN: news_disputing_f1(validation, validation_labels, scores.labels),
    }
    sided = sided_by_source(own[CLAIM_EVIDENCE_VALIDATION], scores.scored(CLAIM_EVIDENCE_VALIDATION))
    row[SIDED_VALIDATION_COLUMN] = float(np.mean(list(sided.values())))
    row |= held_out_row(corpus, {name: scores.scored(name) for name in TEST_SETS})
    if PROBE in scores.probabilities:
        row |= polarity_columns(scores, own)
    sided_test = sided_by_source(own[CLAIM_EVIDENCE_TEST], scores.scored(CLAIM_EVIDENCE_TEST))
    row |= {f"{source}_test 2-way acc": value for source, value in sided_test.items()}
    column = f"fnc1_test{RELATED_SUFFIX} macro-F1, "
    return row | {column + system: value for system, value in scores.strategies.items()}


def polarity_columns(scores: ModelScores, own: dict[str, Dataset]) -> dict[str, float]:
    """The polarity probe's flip share and the accuracy its negated pairs lose, and FEVER Symmetric's two sides."""
    probe = PolarityFigures.of(
        own[PROBE]["label"], scores.scored(PROBE).predicted_labels, scores.scored(PROBE_NEGATED).predicted_labels
    )
    row = {PROBE_FLIP_COLUMN: probe.flipped, PROBE_GAP_COLUMN: probe.accuracy - probe.negated_accuracy}
    if FEVER_SYMMETRIC in scores.probabilities:
        row[FEVER_SYMMETRIC_COLUMN] = sided_accuracy(own[FEVER_SYMMETRIC]["label"], scores.scored(FEVER_SYMMETRIC))
    return row


def decision_rule_row(scores: ModelScores, corpus: StanceCorpus, own: dict[str, Dataset]) -> dict[str, float]:
    """The model with stance offsets fitted on its whole validation split, scored on the test sets; its validation
    figure cross-fitted (each claim's pairs labelled by offsets fitted on the other claims)."""
    validation = own[VALIDATION]
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
        strategies={},
    )
    return held_out_row(corpus, {name: averaged.scored(name) for name in TEST_SETS})


def model_scores(
    step: Step, seed: int, config: AblationConfig, corpus: StanceCorpus
) -> tuple[ModelScores, dict[str, Dataset]]:
    """One step's model for one seed, trained if missing, with its scores (kept beside it) and own sets."""
    out = Path(config.models_dir) / f"{step.slug}_s{seed}"
    if not (out / "model.safetensors").exists():
        args = [*step.flags, *TRAIN_FLAGS, "--seed", str(seed), "--data_dir", config.data_dir]
        train(parse_config([*args, "--output_dir", str(out)]))
    own = own_sets(out, config.data_dir)
    if (out / SCORES_FILE).is_file():
        scores = ModelScores.load(out / SCORES_FILE)
    else:
        scores = score_model(out, corpus, own, config.long_text_strategies)
        scores.save(out / SCORES_FILE)
    return scores, own


@dataclass(frozen=True)
class KeptRow:
    """One step's figures for one seed, read from an earlier report."""

    figures: dict[str, float]
    report: str


def kept_rows(report_dirs: list[str]) -> dict[tuple[str, int], KeptRow]:
    """Every (row, seed) an earlier report holds: from its `by_seed` figures, or in a report written before they
    were kept, from its figure lists, which run in the order of its seeds where every seed has a figure. The
    ensemble's one figure belongs to no seed and is left out."""
    rows: dict[tuple[str, int], KeptRow] = {}
    for folder in report_dirs:
        path = Path(folder) / "ablation.json"
        try:
            saved = json.loads(path.read_text())
            seeds, results = saved["seeds"], saved["results"]
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise SystemExit(f"--kept_reports: {path} is not an ablation report ({error!r})") from error
        if "by_seed" in saved:
            for row_name, by_seed in saved["by_seed"].items():
                rows |= {(row_name, int(seed)): KeptRow(figures, folder) for seed, figures in by_seed.items()}
            continue
        for row_name, figures in results.items():
            if row_name == ENSEMBLE_ROW:
                continue
            for index, seed in enumerate(seeds):
                row = {column: values[index] for column, values in figures.items() if len(values) == len(seeds)}
                if row:
                    rows[(row_name, seed)] = KeptRow(row, folder)
    return rows


def run(config: AblationConfig) -> dict:
    known = {step.slug: step for step in STEPS}
    if unknown := sorted(set(config.steps) - set(known)):
        raise SystemExit(f"--steps: unknown {', '.join(unknown)}; the steps are {', '.join(known)}")
    corpus = load_corpus(config.data_dir)
    kept = kept_rows(config.kept_reports)
    results: dict[str, dict[str, list[float]]] = {}
    by_seed: dict[str, dict[int, dict[str, float]]] = {}
    notes: list[str] = []

    def add(row_name: str, row: dict[str, float], seed: int | None = None) -> None:
        log.info("%s: %s", row_name, row)
        for key, value in row.items():
            results.setdefault(row_name, {}).setdefault(key, []).append(value)
        if seed is not None:
            by_seed.setdefault(row_name, {})[seed] = row

    for step in (known[slug] for slug in config.steps):
        step_scores = []
        for seed in config.seeds:
            model_gone = not (Path(config.models_dir) / f"{step.slug}_s{seed}" / "model.safetensors").exists()
            if model_gone and (step.name, seed) in kept:
                row_names = [step.name] + ([DECISION_RULE_ROW] if step.slug == BASE_STEP else [])
                for row_name in row_names:
                    if (row_name, seed) in kept:
                        add(row_name, kept[(row_name, seed)].figures, seed)
                notes.append(f"{step.name}, seed {seed}: kept from {kept[(step.name, seed)].report}")
                continue
            if model_gone and not config.train:
                notes.append(f"{step.name}, seed {seed}: not run (no model, no earlier report)")
                continue
            scores, own = model_scores(step, seed, config, corpus)
            add(step.name, model_row(scores, corpus, own), seed)
            step_scores.append(scores)
            if step.slug == BASE_STEP:
                add(DECISION_RULE_ROW, decision_rule_row(scores, corpus, own), seed)
        if step.slug == BASE_STEP and len(step_scores) > 1:
            if len(step_scores) < len(config.seeds):
                notes.append(f"{ENSEMBLE_ROW}: of the {len(step_scores)} seeds whose models are here")
            add(ENSEMBLE_ROW, ensemble_row(step_scores, corpus))
    write(results, config, notes, by_seed)
    return results


def mean_spread(values: list[float]) -> str:
    """Mean ± sample standard deviation; a single figure alone (it has no spread)."""
    return f"{np.mean(values):.3f} ± {np.std(values, ddof=1):.3f}" if len(values) > 1 else f"{values[0]:.3f}"


def write(
    results: dict[str, dict[str, list[float]]],
    config: AblationConfig,
    notes: Sequence[str] = (),
    by_seed: dict[str, dict[int, dict[str, float]]] | None = None,
) -> None:
    """The table, and under it which rows came from earlier reports rather than from models trained here."""
    out = Path(config.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    saved = {"seeds": config.seeds, "results": results} | ({"by_seed": by_seed} if by_seed else {})
    (out / "ablation.json").write_text(json.dumps(saved, indent=2))
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
    if notes:
        lines += ["", "Seeds whose models were not here:", *(f"- {note}" for note in notes)]
    (out / "ablation.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


COMMAND = Command(
    "python -m eval.ablation",
    first_paragraph(__doc__),
    'make ablation STEPS="negated_attributed no_counterfactuals" SEEDS=42',
    AblationConfig,
    run,
)


if __name__ == "__main__":
    exit_with(COMMAND)
