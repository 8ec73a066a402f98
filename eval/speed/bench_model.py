"""What the model alone can do, without HTTP: `python -m eval.speed.bench_model` (`make bench-model`).

Pairs/s of each runtime on the Emergent test pairs, by pairs per forward pass and threads: the
ceiling any server on this machine can reach. Also how far the int8 model's answers move when a pair
is scored inside a batch instead of alone. Writes reports/model/{bench_model.md,bench_model.json}.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from eval.speed.machine import this_machine
from models.command import Command, exit_with, first_paragraph
from models.defaults import MODEL_NAME
from models.predictor import StancePredictor
from models.registry import resolve
from models.runtime import ONNX_FILE, Runtime
from training.config import data_dir_field
from training.data import read_emergent

log = logging.getLogger("claimstance.bench_model")


@dataclass
class BenchModelConfig:
    model: str = field(default=f"{MODEL_NAME}:latest", metadata={"help": "Saved model folder or model-store tag."})
    data_dir: str = data_dir_field()
    batch_sizes: list[int] = field(default_factory=lambda: [1, 8, 64], metadata={"help": "Pairs per forward pass."})
    threads: list[int] = field(default_factory=lambda: [1, 2], metadata={"help": "Inference threads."})
    output_dir: str = field(default="reports/model", metadata={"help": "Where the report goes (.md and .json)."})


def pairs_per_second(predictor: StancePredictor, claims: list[str], texts: list[str]) -> float:
    predictor.score(claims[:16], texts[:16])  # warm-up
    started = time.perf_counter()
    predictor.score(claims, texts)
    return len(claims) / (time.perf_counter() - started)


def run(config: BenchModelConfig) -> dict:
    model_dir = resolve(config.model)
    _, test = read_emergent(Path(config.data_dir))
    claims, texts = list(test["claim"]), list(test["text"])
    runtimes = [Runtime.TORCH] + ([Runtime.ONNX] if (model_dir / ONNX_FILE).is_file() else [])
    rows = []
    for runtime in runtimes:
        for threads in config.threads:
            predictor = StancePredictor.from_dir(model_dir, runtime=runtime, num_threads=threads)
            for batch_size in config.batch_sizes:
                predictor.batch_size = batch_size
                rate = pairs_per_second(predictor, claims, texts)
                rows.append({"runtime": str(runtime), "threads": threads, "batch": batch_size, "pairs_per_s": rate})
                log.info("%s", json.dumps(rows[-1]))
    results: dict = {
        "model": str(model_dir),
        "machine": this_machine().to_json(),
        "pairs": len(claims),
        "throughput": rows,
    }
    if Runtime.ONNX in runtimes:
        predictor = StancePredictor.from_dir(model_dir, runtime=Runtime.ONNX, num_threads=max(config.threads))
        alone = predictor.score(claims, texts)
        predictor.batch_size = 64
        batched = predictor.score(claims, texts)
        results["int8_batch_dependence"] = {
            "max_probability_change": float(np.abs(batched.probabilities - alone.probabilities).max()),
            "labels_changed": float(np.mean(batched.label_ids != alone.label_ids)),
        }
    out = Path(config.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_model.json").write_text(json.dumps(results, indent=2))
    (out / "bench_model.md").write_text(render(results) + "\n")
    log.info("\n%s", render(results))
    return results


def render(results: dict) -> str:
    lines = [
        f"{results['pairs']} Emergent test pairs, scored length-sorted, model only (no HTTP), on "
        f"{results['machine']['description']}.",
        "",
        "| runtime | threads | pairs per forward pass | pairs/s |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {r['runtime']} | {r['threads']} | {r['batch']} | {r['pairs_per_s']:.0f} |" for r in results["throughput"]
    ]
    if dependence := results.get("int8_batch_dependence"):
        lines += [
            "",
            f"int8, batches of 64 against one pair per pass: probabilities move by up to "
            f"{dependence['max_probability_change']:.3f}; {dependence['labels_changed']:.1%} of labels change.",
        ]
    return "\n".join(lines)


COMMAND = Command(
    "claimstance bench model",
    first_paragraph(__doc__),
    "claimstance bench model --model claimstance:latest",
    BenchModelConfig,
    run,
)


if __name__ == "__main__":
    exit_with(COMMAND)
