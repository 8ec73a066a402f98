"""How fast one document is matched against many watched claims: `python -m eval.speed.bench_matching`.

The claims are random unit vectors of the embedder's width (what matters to the search is their number, not their
meaning); a document is `pieces` vectors (its title and sentences or passages). Reported per number of claims:
the median and 95th percentile time of `ClaimIndex.candidates` (the exact search the monitor runs), and the
memory of the claim matrix. Embedding the document is not in it: eval/matching_quality.py times that. Writes
reports/matching_speed/{bench_matching.md,bench_matching.json}.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from eval.cli import run_from_cli
from eval.speed.machine import this_machine
from serving.monitor.matching import ClaimIndex, MatchSettings


@dataclass
class BenchMatchingConfig:
    claims: list[int] = field(default_factory=lambda: [1_000, 10_000, 100_000])
    pieces: list[int] = field(default_factory=lambda: [1, 4, 20], metadata={"help": "Vectors of one document."})
    dimension: int = 384
    repeats: int = 50
    seed: int = 0
    output_dir: str = "reports/matching_speed"


def unit_rows(rng: np.random.Generator, rows: int, dimension: int) -> np.ndarray:
    vectors = rng.standard_normal((rows, dimension)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def time_search(index: ClaimIndex, documents: list[np.ndarray], settings: MatchSettings) -> list[float]:
    index.candidates(documents[0], settings)  # warm-up
    timings = []
    for document in documents:
        started = time.perf_counter()
        index.candidates(document, settings)
        timings.append(time.perf_counter() - started)
    return timings


def run(config: BenchMatchingConfig) -> dict:
    rng = np.random.default_rng(config.seed)
    settings = MatchSettings()
    rows = []
    for claims in config.claims:
        index = ClaimIndex(tuple(str(i) for i in range(claims)), unit_rows(rng, claims, config.dimension))
        for pieces in config.pieces:
            documents = [unit_rows(rng, pieces, config.dimension) for _ in range(config.repeats)]
            timings = np.array(time_search(index, documents, settings)) * 1000
            rows.append(
                {
                    "claims": claims,
                    "document vectors": pieces,
                    "median ms": float(np.median(timings)),
                    "p95 ms": float(np.percentile(timings, 95)),
                    "claim matrix MB": index.vectors.nbytes / 1e6,
                }
            )
    machine = this_machine()
    report = {"machine": machine.to_json(), "machine_text": machine.describe(), "config": asdict(config), "rows": rows}
    write(report, Path(config.output_dir))
    return report


def write(report: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_matching.json").write_text(json.dumps(report, indent=2))
    lines = [
        f"Exact search (numpy, one matrix product) on {report['machine_text']}, threshold and top_k as served.",
        "",
        "| claims | document vectors | median ms | p95 ms | claim matrix MB |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {row['claims']:,} | {row['document vectors']} | {row['median ms']:.2f} | {row['p95 ms']:.2f} "
        f"| {row['claim matrix MB']:.0f} |"
        for row in report["rows"]
    ]
    (out / "bench_matching.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def main() -> None:
    run_from_cli(BenchMatchingConfig, run)


if __name__ == "__main__":
    main()
