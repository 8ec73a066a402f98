"""How fast one document is matched against many watched claims: `python -m eval.speed.bench_matching`.

The claims are random unit vectors of the embedder's width (what matters to the search is their number, not their
meaning); a document is `pieces` vectors (its title and sentences or passages). Reported per number of claims and
search (exact: one product with every claim; graph: the neighbour graph's shortlist scored exactly, what the monitor
runs past `MatchSettings.approximate_from` claims): the median and 95th percentile time of `ClaimIndex.candidates`,
the time to build the graph, and the memory of the claim matrix. Embedding the document is not in it:
eval/matching_quality.py times that, and measures what the graph loses on real text. Writes
reports/matching_speed/{bench_matching.md,bench_matching.json}.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from eval.speed.machine import this_machine
from models.command import Command, exit_with, first_paragraph
from serving.monitor.matching import ClaimIndex, MatchSettings
from serving.monitor.neighbour_graph import NeighbourGraph


@dataclass
class BenchMatchingConfig:
    claims: list[int] = field(
        default_factory=lambda: [1_000, 10_000, 100_000], metadata={"help": "Numbers of watched claims to time."}
    )
    pieces: list[int] = field(default_factory=lambda: [1, 4, 20], metadata={"help": "Vectors of one document."})
    searches: list[str] = field(default_factory=lambda: ["exact", "graph"], metadata={"help": "exact, graph."})
    dimension: int = field(default=384, metadata={"help": "Width of the embeddings."})
    repeats: int = field(default=50, metadata={"help": "Documents matched at each size (the median is reported)."})
    seed: int = field(default=0, metadata={"help": "Seed of the random claims."})
    output_dir: str = field(
        default="reports/matching_speed", metadata={"help": "Where the report goes (.md and .json)."}
    )


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
        ids, vectors = tuple(str(i) for i in range(claims)), unit_rows(rng, claims, config.dimension)
        for search in config.searches:
            started = time.perf_counter()
            index = ClaimIndex(ids, vectors, NeighbourGraph(config.dimension) if search == "graph" else None)
            build_seconds = time.perf_counter() - started
            for pieces in config.pieces:
                documents = [unit_rows(rng, pieces, config.dimension) for _ in range(config.repeats)]
                timings = np.array(time_search(index, documents, settings)) * 1000
                rows.append(
                    {
                        "claims": claims,
                        "search": search,
                        "document vectors": pieces,
                        "median ms": float(np.median(timings)),
                        "p95 ms": float(np.percentile(timings, 95)),
                        "build s": build_seconds if search == "graph" else None,
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
        f"Matching one document on {report['machine_text']}, threshold and top_k as served; exact: one numpy "
        "product with every claim; graph: usearch HNSW (int8) shortlist, scored exactly.",
        "",
        "| claims | search | document vectors | median ms | p95 ms | graph built in s | claim matrix MB |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {row['claims']:,} | {row['search']} | {row['document vectors']} | {row['median ms']:.2f} "
        f"| {row['p95 ms']:.2f} | {'–' if row['build s'] is None else format(row['build s'], '.1f')} "
        f"| {row['claim matrix MB']:.0f} |"
        for row in report["rows"]
    ]
    (out / "bench_matching.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


COMMAND = Command(
    "claimstance bench matching", first_paragraph(__doc__), "claimstance bench matching", BenchMatchingConfig, run
)


if __name__ == "__main__":
    exit_with(COMMAND)
