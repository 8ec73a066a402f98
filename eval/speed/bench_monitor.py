"""The claim monitor's ingest against batch scoring: `python -m eval.speed.bench_monitor` (`make bench-monitor`).

`claims` FNC-1 headlines are watched; `documents` FNC-1 article bodies (cycled, each under an id of its own) are
ingested with `make monitor`'s command (serving/monitor/ingest_file/: embedding, matching, the stance model on the
pairs matching lets through, the store). Beside it, `make score`'s command (serving/batch) scores the same number of
(headline, body) pairs, one pair a document. Both are timed from launch to exit, in processes of their own. The
monitor's target is at least 80% of batch scoring's documents per second. Writes
reports/monitor_speed/{bench_monitor.md,bench_monitor.json}.
"""

from __future__ import annotations

import json
import logging
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd
from sqlalchemy import func, select

from eval.speed.bench_batch import batch_command, cycled, run_measured, write_pairs
from eval.speed.machine import this_machine
from models.command import Command, exit_with, first_paragraph
from models.defaults import EMBEDDER_NAME, MODEL_NAME
from models.embedding import SentenceEmbedder
from models.pair import DEFAULT_LIMITS
from models.registry import locate
from serving.monitor.database import monitor_engine, sessions
from serving.monitor.store import MonitorStore, NewClaim
from serving.monitor.tables import AnswerRow
from training.config import data_dir_field
from training.data import FNC1_FILES, read_fnc_format

log = logging.getLogger("claimstance.bench_monitor")


@dataclass
class BenchMonitorConfig:
    model: str = field(default=f"{MODEL_NAME}:latest", metadata={"help": "Stance model: store tag or folder."})
    embedder: str = field(default=f"{EMBEDDER_NAME}:latest", metadata={"help": "Embedding model: tag or folder."})
    data_dir: str = data_dir_field()
    claims: int = field(default=1_000, metadata={"help": "FNC-1 headlines watched."})
    documents: int = field(
        default=500,
        metadata={
            "help": "FNC-1 bodies ingested (cycled). Each reaches about 40 of the watched FNC-1 headlines: 500 take "
            "12 minutes on 2 cores, the issue's 10,000 about four hours."
        },
    )
    output_dir: str = field(
        default="reports/monitor_speed", metadata={"help": "Where the report goes (.md and .json)."}
    )


def fnc1_headlines_and_bodies(data_dir: str) -> tuple[list[str], list[str]]:
    fnc = read_fnc_format(Path(data_dir), FNC1_FILES, "fnc1")
    return sorted(set(fnc.claim)), sorted(set(fnc.text))


def watch(database_url: str, embedder_name: str, headlines: list[str]) -> None:
    store = MonitorStore(database_url, SentenceEmbedder.served(*locate(embedder_name)))
    store.register([NewClaim(text, f"h{i}") for i, text in enumerate(headlines)])
    store.close()


def answers_stored(database_url: str) -> int:
    engine = monitor_engine(database_url)
    with sessions(engine)() as session:
        count = session.scalar(select(func.count()).select_from(AnswerRow))
    engine.dispose()
    return count


def run(config: BenchMonitorConfig) -> dict:
    headlines, bodies = fnc1_headlines_and_bodies(config.data_dir)
    headlines = headlines[: config.claims]
    documents = cycled(pd.DataFrame({"text": bodies}), config.documents)
    with tempfile.TemporaryDirectory(prefix="claimstance-bench-monitor-") as scratch:
        work = Path(scratch)
        database = f"sqlite:///{work / 'monitor.sqlite3'}"
        watch(database, config.embedder, headlines)
        source = work / "documents.jsonl"
        with source.open("w") as handle:
            for i, text in enumerate(documents.text):
                handle.write(json.dumps({"id": f"doc-{i}", "text": text}) + "\n")
        monitor = [sys.executable, "-m", "serving.monitor.ingest_file", "--input", str(source), "--database_url",
                   database, "--model", config.model, "--embedder", config.embedder]  # fmt: skip
        log.info("ingesting %d documents against %d claims ...", config.documents, len(headlines))
        monitor_seconds, monitor_peak = run_measured(monitor)
        answers = answers_stored(database)
        pairs = cycled(pd.DataFrame({"claim": headlines}), config.documents).assign(text=documents.text.values)
        long = write_pairs(pairs, work / "long.parquet")
        log.info("scoring %d (headline, body) pairs with the batch job ...", config.documents)
        score = batch_command(config.model, long, work / "scored.parquet", "local", DEFAULT_LIMITS.max_evidence)
        score_seconds, score_peak = run_measured(score)
    report = {
        "machine": this_machine().to_json(),
        "machine_text": this_machine().describe(),
        "config": asdict(config),
        "watched claims": len(headlines),
        "monitor": {
            "seconds": monitor_seconds,
            "documents_per_s": config.documents / monitor_seconds,
            "peak_rss_mb": monitor_peak,
            "answers": answers,
        },  # fmt: skip
        "score": {
            "seconds": score_seconds,
            "documents_per_s": config.documents / score_seconds,
            "peak_rss_mb": score_peak,
        },  # fmt: skip
    }
    report["monitor_share_of_score"] = report["monitor"]["documents_per_s"] / report["score"]["documents_per_s"]
    write(report, Path(config.output_dir))
    return report


def write(report: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_monitor.json").write_text(json.dumps(report, indent=2))
    monitor, score = report["monitor"], report["score"]
    lines = [
        f"On {report['machine_text']}: {report['config']['documents']:,} FNC-1 bodies, "
        f"{report['watched claims']:,} watched headlines; launch to exit.",
        "",
        "| command | seconds | documents/s | peak RSS MB | stance passes | stance passes/s |",
        "|---|---|---|---|---|---|",
        f"| make monitor (embed, match, score the matches, store) | {monitor['seconds']:.1f} "
        f"| {monitor['documents_per_s']:.1f} | {monitor['peak_rss_mb']:.0f} | {monitor['answers']:,} pairs "
        f"| {monitor['answers'] / monitor['seconds']:.1f} |",
        f"| make score (one headline a body) | {score['seconds']:.1f} | {score['documents_per_s']:.1f} "
        f"| {score['peak_rss_mb']:.0f} | {report['config']['documents']:,} pairs | {score['documents_per_s']:.1f} |",
        "",
        f"The monitor ingests at {report['monitor_share_of_score']:.0%} of batch scoring's documents per second, "
        f"with {monitor['answers'] / report['config']['documents']:.1f} stance passes a document against one.",
    ]
    (out / "bench_monitor.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


COMMAND = Command(
    "claimstance bench monitor",
    first_paragraph(__doc__),
    "claimstance bench monitor --model claimstance:latest",
    BenchMonitorConfig,
    run,
)


if __name__ == "__main__":
    exit_with(COMMAND)
