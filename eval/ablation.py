"""What each step of the recipe buys: train every step with several seeds, score on the test sets.

`python -m eval.ablation --seeds 42 43 44` writes reports/ablation/{ablation.md,ablation.json}. Models
go to artifacts/ablation/<step>_s<seed>; one already there is reused, so a killed run resumes.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from eval.cli import run_from_cli
from eval.evaluate import RELATED_SUFFIX, model_system, other_readings, system_figures
from models.predictor import StancePredictor
from training.config import default_data_dir, parse_config
from training.data import load_corpus
from training.train import train

log = logging.getLogger("claimstance.ablation")

STEPS: dict[str, list[str]] = {
    "Emergent only, three stances": ["--sources", "emergent", "--relevance", "false"],
    "+ FNC-1 and ARC related pairs, three stances": ["--relevance", "false"],
    "+ unrelated pairs, four labels (default recipe)": [],
}
"""Each step's flags on top of the default recipe."""


@dataclass
class AblationConfig:
    data_dir: str = field(default_factory=default_data_dir)
    seeds: list[int] = field(default_factory=lambda: [42, 43, 44])
    models_dir: str = "artifacts/ablation"
    output_dir: str = "reports/ablation"


def mean_spread(values: list[float]) -> str:
    return f"{np.mean(values):.3f} ± {np.std(values, ddof=1) if len(values) > 1 else 0.0:.3f}"


def model_figures(predictor: StancePredictor, corpus) -> dict[str, float]:
    """One trained model's row: Emergent test stance figures, FNC-1 held-out figures on its own terms and on its
    related pairs, the last also read each other way (models/encoding.py: LongTextStrategy). F1 per label, for
    whatever labels model and sets have."""
    sets = {"emergent_test": corpus.emergent_test, "fnc1_test": corpus.fnc1_test}
    figures, _ = system_figures(sets, model_system(predictor))
    related = "fnc1_test" + RELATED_SUFFIX
    row = {}
    for name in ("emergent_test", "fnc1_test", related):
        scores = figures[name].scores
        row |= {f"{name} acc": scores.accuracy, f"{name} macro-F1": scores.macro_f1}
        row |= {f"{name} {label} F1": c.f1 for label, c in scores.per_class.items() if c.support}
    row["fnc1_test relative score"] = figures["fnc1_test"].fnc["fnc_relative_score"]
    for system in other_readings(predictor):
        read, _ = system_figures({"fnc1_test": corpus.fnc1_test}, model_system(predictor))
        row[f"{related} macro-F1, {system.removeprefix('claimstance, ')}"] = read[related].scores.macro_f1
    return row


def run(config: AblationConfig) -> dict:
    corpus = load_corpus(config.data_dir)
    results: dict[str, dict[str, list[float]]] = {}
    for step, flags in STEPS.items():
        results[step] = {}
        for seed in config.seeds:
            slug = "".join(c if c.isalnum() else "_" for c in step.lower()).strip("_")[:40]
            out = Path(config.models_dir) / f"{slug}_s{seed}"
            if not (out / "model.safetensors").exists():
                args = [*flags, "--seed", str(seed), "--data_dir", config.data_dir]
                train(parse_config([*args, "--output_dir", str(out), "--register", "false"]))
            figures = model_figures(StancePredictor.from_dir(out), corpus)
            log.info("%s seed %d: %s", step, seed, figures)
            for key, value in figures.items():
                results[step].setdefault(key, []).append(value)
    write(results, config)
    return results


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
