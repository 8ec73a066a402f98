"""Evaluate a saved model and the baselines: `python -m eval.evaluate [--model PATH|TAG] [--output_dir DIR]`.

Test sets: the published Emergent test split, and the FNC-1 pairs of the Emergent test claims (held
out of training by headline and body). The baselines train on the same training split as the
model (same claims held out for validation, same seed) and pick their settings on validation.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from datasets import Dataset

from eval.baselines import PUBLISHED_EMERGENT, MajorityBaseline, TfidfBaseline
from eval.cli import run_from_cli
from eval.metrics import Scores, score
from eval.report import confusion_text, per_class_text, plot_confusion, plot_reliability, write_json
from models.encoding import LongTextStrategy
from models.predictor import StancePredictor
from models.registry import resolve
from models.runtime import ONNX_FILE, Runtime
from models.settings import MODEL_NAME
from training.config import TrainConfig, default_data_dir
from training.data import StanceCorpus, load_corpus, split_by_group
from training.splits import model_splits

log = logging.getLogger("claimstance.eval")
MODEL_SYSTEM = "claimstance"
TRUNCATION_SYSTEM = "claimstance, plain truncation"
ONNX_SYSTEM = "claimstance, int8 ONNX runtime (served)"
SPLITS = ("test", "validation")


@dataclass
class EvalConfig:
    model: str = field(default=f"{MODEL_NAME}:latest", metadata={"help": "Saved model folder or model-store tag."})
    data_dir: str = field(default_factory=default_data_dir)
    output_dir: str = field(default="reports/latest", metadata={"help": "Report folder to write."})
    seed: int = field(default=TrainConfig.seed, metadata={"help": "Seed of the train/validation claim split."})
    validation_fraction: float = TrainConfig.validation_fraction
    baselines: bool = field(default=True, metadata={"help": "Also train and score the baselines."})
    split: str = field(
        default="test",
        metadata={"help": "test: the test sets; validation: each source's validation claims (for choosing recipes)."},
    )


def evaluation_sets(corpus: StanceCorpus, config: EvalConfig) -> dict[str, Dataset]:
    if config.split == "test":
        return {"emergent_test": corpus.emergent_test, "fnc1_test": corpus.fnc1_test}
    _, validation = split_by_group(corpus.train_pool, config.validation_fraction, config.seed)
    return {
        f"{source}_validation": validation.filter(lambda row, s=source: row["source"] == s)
        for source in sorted(set(validation["source"]))
    }


def evaluate_model(predictor: StancePredictor, dataset: Dataset) -> tuple[Scores, np.ndarray]:
    probabilities = predictor.probabilities(dataset["claim"], dataset["text"])
    return score(dataset["label"], probabilities.argmax(axis=1), probabilities), probabilities


def results_table(figures: dict[str, dict[str, dict]]) -> str:
    """Markdown: one row per system, accuracy and macro-F1 per test set, and disputing F1."""
    datasets = sorted({d for by_set in figures.values() for d in by_set})
    header = "| system | " + " | ".join(f"{d} acc | {d} macro-F1 | {d} disputing F1" for d in datasets) + " |"
    lines = [header, "|---" * (1 + 3 * len(datasets)) + "|"]
    for system, by_set in figures.items():
        cells = []
        for d in datasets:
            s = by_set.get(d)
            if s is None:
                cells += ["–"] * 3
                continue
            disputing = s.get("per_class", {}).get("disputing", {}).get("f1")
            cells += [f"{s['accuracy']:.2%}", f"{s['macro_f1']:.3f}", "–" if disputing is None else f"{disputing:.3f}"]
        lines.append(f"| {system} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def run(config: EvalConfig) -> dict:
    if config.split not in SPLITS:
        raise SystemExit(f"--split must be one of {', '.join(SPLITS)}, not {config.split!r}")
    out = Path(config.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    corpus = load_corpus(config.data_dir)
    test_sets = evaluation_sets(corpus, config)
    path = resolve(config.model)
    log.info("evaluating %s", path)
    predictor = StancePredictor.from_dir(path)
    figures: dict[str, dict[str, dict]] = {MODEL_SYSTEM: {}, TRUNCATION_SYSTEM: {}}
    for name, dataset in test_sets.items():
        scores, _ = evaluate_model(predictor, dataset)
        figures[MODEL_SYSTEM][name] = scores.to_dict()
        title = f"{MODEL_SYSTEM} on {name}"
        (out / f"{name}_confusion.txt").write_text(confusion_text(scores) + "\n\n" + per_class_text(scores) + "\n")
        plot_confusion(scores, title, out / f"{name}_confusion.png")
        plot_reliability(scores, title, out / f"{name}_reliability.png")
        log.info("%s\n%s", title, per_class_text(scores))
    predictor.long_text = LongTextStrategy.TRUNCATE
    for name in [n for n in test_sets if not n.startswith("emergent_")]:
        figures[TRUNCATION_SYSTEM][name] = evaluate_model(predictor, test_sets[name])[0].to_dict()
    if (path / ONNX_FILE).is_file():
        onnx_predictor = StancePredictor.from_dir(path, runtime=Runtime.ONNX)
        figures[ONNX_SYSTEM] = {name: evaluate_model(onnx_predictor, d)[0].to_dict() for name, d in test_sets.items()}

    if config.baselines and config.split == "test":
        train, validation = model_splits(path, config.data_dir)
        emergent_train, emergent_validation = (
            d.filter(lambda row: row["source"] == "emergent") for d in (train, validation)
        )
        majority = MajorityBaseline().fit(train)
        tfidf = TfidfBaseline().fit(train, validation)
        baselines = [("majority class", majority), (f"TF-IDF + LR, the model's training data (C={tfidf.c})", tfidf)]
        if len(emergent_train) and len(emergent_validation):
            tfidf_emergent = TfidfBaseline().fit(emergent_train, emergent_validation)
            baselines.append((f"TF-IDF + LR, Emergent training data only (C={tfidf_emergent.c})", tfidf_emergent))
        for system, baseline in baselines:
            figures[system] = {
                name: score(dataset["label"], baseline.predict(dataset)).to_dict()
                for name, dataset in test_sets.items()
            }
        figures[PUBLISHED_EMERGENT.system + " [published]"] = {
            "emergent_test": {"accuracy": PUBLISHED_EMERGENT.accuracy, "macro_f1": PUBLISHED_EMERGENT.macro_f1}
        }
    write_json({"model": str(path), "results": figures}, out / "report.json")
    table = results_table(figures)
    (out / "results.md").write_text(table + "\n")
    log.info("results\n%s", table)
    return figures


def main() -> None:
    run_from_cli(EvalConfig, run)


if __name__ == "__main__":
    main()
