"""The claim tracker's benchmark: `python -m eval.speed.bench_track` (`make bench-track`).

- HTTP: the real service (`bentoml serve`) gets `calls` POST /track calls of `documents` FNC-1 article bodies
  (about 350 words each) for one claim, one after another, alone; then `calls` more while one client sends
  single /predict calls (Emergent test pairs), one after the other. Their p50/p95 are reported beside the same
  client's on the idle service, to show whether a big tracking call holds single predictions up.
- Batch: the same kind of rows (claim, id, article body, source, published) through `serving.batch` without and
  with `--track` (the local engine), timed from launch to exit: documents/s of tracking against plain scoring.
Writes reports/track/{bench_track.md,bench_track.json}, naming the CPU.
"""

from __future__ import annotations

import asyncio
import json
import logging
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx
import pandas as pd

from eval.harness.server_process import MONITOR_OFF, start_server
from eval.speed.bench_batch import batch_command, cycled, run_measured
from eval.speed.bench_serve import service_command
from eval.speed.machine import this_machine
from models.command import Command, exit_with, first_paragraph
from models.defaults import MODEL_NAME
from models.pair import DEFAULT_LIMITS
from models.registry import find
from training.config import data_dir_field
from training.data import FNC1_FILES, read_emergent, read_fnc_format

log = logging.getLogger("claimstance.bench_track")

SOURCES = 20
DAYS = 10
"""The synthetic sources and publication days the documents are spread over, so the summary has work to do."""
BATCH_CHUNK_ROWS = 200
"""Chunks small enough that every worker of the batch job has some of the rows."""


@dataclass
class BenchTrackConfig:
    model: str = field(default=f"{MODEL_NAME}:latest", metadata={"help": "Model-store tag to serve and score with."})
    data_dir: str = data_dir_field()
    documents: int = field(default=200, metadata={"help": "FNC-1 article bodies in one /track call."})
    calls: int = field(default=3, metadata={"help": "/track calls, one after another."})
    idle_probes: int = field(default=200, metadata={"help": "Single /predict calls on the idle service."})
    batch_rows: int = field(default=2000, metadata={"help": "Rows of the batch comparison (0: skip it)."})
    max_evidence: int = field(
        default=DEFAULT_LIMITS.max_evidence,
        metadata={"help": "Sentences of a long text read and shown (CLAIMSTANCE_MAX_EVIDENCE)."},
    )
    port: int = field(default=3112, metadata={"help": "Loopback port of the service under test."})
    output_dir: str = field(default="reports/track", metadata={"help": "Where the report goes (.md and .json)."})


def tracked_documents(data_dir: Path, count: int) -> tuple[str, pd.DataFrame]:
    """One FNC-1 headline as the claim and `count` distinct article bodies, with synthetic sources and days."""
    fnc = read_fnc_format(data_dir, FNC1_FILES, "fnc1")
    bodies = fnc.drop_duplicates("text").head(count).reset_index(drop=True)
    frame = pd.DataFrame(
        {
            "id": [f"body-{i}" for i in range(len(bodies))],
            "text": bodies.text,
            "source": [f"source-{i % SOURCES:02d}" for i in range(len(bodies))],
            "published": [f"2015-10-{1 + i % DAYS:02d}" for i in range(len(bodies))],
        }
    )
    return str(fnc.claim.iloc[0]), frame


def percentiles(seconds: list[float]) -> dict[str, float]:
    if not seconds:
        return {"count": 0}
    ordered = sorted(seconds)
    return {
        "count": len(ordered),
        "p50_ms": round(1000 * statistics.median(ordered), 1),
        "p95_ms": round(1000 * ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 1),
    }


async def probe(
    client: httpx.AsyncClient, url: str, pairs: list[dict], until: asyncio.Event | None, count: int
) -> list[float]:
    """Latencies of single /predict calls sent one after another, until `until` is set (or `count` are done)."""
    latencies: list[float] = []
    i = 0
    while (until is None and i < count) or (until is not None and not until.is_set()):
        started = time.perf_counter()
        response = await client.post(f"{url}/predict", json=pairs[i % len(pairs)])
        response.raise_for_status()
        latencies.append(time.perf_counter() - started)
        i += 1
    return latencies


async def track_while_probing(
    url: str, body: dict, pairs: list[dict], probing: bool
) -> tuple[float, list[float], dict]:
    """One /track call's seconds, the single predictions' latencies during it (none unless `probing`), and the
    call's summary."""
    async with httpx.AsyncClient(timeout=120) as client:
        done = asyncio.Event()
        prober = asyncio.create_task(probe(client, url, pairs, done, 0) if probing else asyncio.sleep(0, []))
        started = time.perf_counter()
        response = await client.post(f"{url}/track", json=body)
        seconds = time.perf_counter() - started
        done.set()
        latencies = await prober
    response.raise_for_status()
    return seconds, latencies, response.json()["summary"]


async def idle(url: str, pairs: list[dict], count: int) -> list[float]:
    async with httpx.AsyncClient(timeout=60) as client:
        await probe(client, url, pairs, None, 10)  # warm the connection and the batcher's estimate
        return await probe(client, url, pairs, None, count)


def http_phase(config: BenchTrackConfig, claim: str, documents: pd.DataFrame, pairs: list[dict], out: Path) -> dict:
    _, tag = find(config.model)
    url = f"http://127.0.0.1:{config.port}"
    env = {
        "CLAIMSTANCE_MODEL": config.model,
        **MONITOR_OFF,
        "CLAIMSTANCE_MAX_EVIDENCE": str(config.max_evidence),
        "BENTOML_DO_NOT_TRACK": "True",
    }
    body = {"claim": claim, "documents": documents.to_dict("records")}
    with start_server(service_command(config.port), url, env, out / "service.log"):
        idle_latencies = asyncio.run(idle(url, pairs, config.idle_probes))
        alone, calls, during = [], [], []
        for probing in (False, True):
            for call in range(config.calls):
                seconds, latencies, summary = asyncio.run(track_while_probing(url, body, pairs, probing))
                (calls if probing else alone).append(round(seconds, 2))
                during += latencies
                log.info("/track call %d: %.2f s, %d single predictions during it", call + 1, seconds, len(latencies))
    return {
        "model": tag,
        "documents": len(documents),
        "body_bytes": len(json.dumps(body).encode()),
        "track_seconds_alone": alone,
        "track_seconds_alone_median": statistics.median(alone),
        "track_seconds": calls,
        "track_seconds_median": statistics.median(calls),
        "predict_idle": percentiles(idle_latencies),
        "predict_during_track": percentiles(during),
        "summary_related": summary["related"],
    }


def batch_phase(config: BenchTrackConfig, claim: str, documents: pd.DataFrame) -> dict:
    rows = cycled(documents.assign(claim=claim), config.batch_rows)
    rows["id"] = [f"row-{i}" for i in range(len(rows))]
    timings = {}
    with tempfile.TemporaryDirectory(prefix="claimstance-bench-track-") as scratch:
        source = Path(scratch) / "documents.jsonl"
        rows.to_json(source, orient="records", lines=True, force_ascii=False)
        for name, flags in (("score", []), ("track", ["--track", "true"])):
            output = Path(scratch) / f"{name}.jsonl"
            command = batch_command(config.model, source, output, "local", config.max_evidence)
            seconds, peak = run_measured([*command, "--chunk_rows", str(BATCH_CHUNK_ROWS), *flags])
            timings[name] = {"seconds": round(seconds, 1), "documents_per_s": round(len(rows) / seconds, 2),
                             "peak_rss_mb": round(peak)}  # fmt: skip
            log.info("batch %s: %s", name, timings[name])
    ratio = timings["track"]["documents_per_s"] / timings["score"]["documents_per_s"]
    return {"rows": len(rows), **timings, "track_over_score": round(ratio, 3)}


def run(config: BenchTrackConfig) -> dict:
    out = Path(config.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    claim, documents = tracked_documents(Path(config.data_dir), config.documents)
    _, emergent_test = read_emergent(Path(config.data_dir))
    pairs = [{"claim": c, "text": t} for c, t in zip(emergent_test.claim, emergent_test.text, strict=True)]
    results: dict = {"config": asdict(config), "machine": this_machine().to_json(), "claim": claim}
    results["http"] = http_phase(config, claim, documents, pairs, out)
    if config.batch_rows:
        results["batch"] = batch_phase(config, claim, documents)
    (out / "bench_track.json").write_text(json.dumps(results, indent=1))
    (out / "bench_track.md").write_text(render(results) + "\n")
    log.info("\n%s", render(results))
    return results


def render(results: dict) -> str:
    http = results["http"]
    idle_, during = http["predict_idle"], http["predict_during_track"]
    lines = [
        f"# Claim tracker benchmark ({http['model']})",
        "",
        f"On {results['machine']['description']}. Evidence: up to {results['config']['max_evidence']} sentence(s) of "
        "each text read and shown.",
        "",
        f"One POST /track of {http['documents']} FNC-1 article bodies ({http['body_bytes'] / 1e6:.1f} MB) for the "
        f'claim "{results["claim"]}", calls one after another. Alone: '
        f"{', '.join(f'{s:.2f}' for s in http['track_seconds_alone'])} s (median "
        f"**{http['track_seconds_alone_median']:.2f} s**); with one client sending single predictions throughout: "
        f"{', '.join(f'{s:.2f}' for s in http['track_seconds'])} s (median **{http['track_seconds_median']:.2f} s**).",
        "",
        "Single /predict calls from one client, one after another (Emergent test pairs):",
        "",
        "| | calls | p50 ms | p95 ms |",
        "|---|---|---|---|",
        f"| idle service | {idle_['count']} | {idle_.get('p50_ms', '-')} | {idle_.get('p95_ms', '-')} |",
        f"| during /track | {during['count']} | {during.get('p50_ms', '-')} | {during.get('p95_ms', '-')} |",
    ]
    if batch := results.get("batch"):
        lines += [
            "",
            f"Batch, local engine, {batch['rows']:,} rows of (claim, article body), launch to exit:",
            "",
            "| job | seconds | documents/s | peak RSS MB |",
            "|---|---|---|---|",
            *(
                f"| {name} | {job['seconds']} | {job['documents_per_s']} | {job['peak_rss_mb']} |"
                for name, job in ((name, batch[name]) for name in ("score", "track"))
            ),
            "",
            f"Tracking runs at {100 * batch['track_over_score']:.0f}% of plain scoring's documents/s.",
        ]
    return "\n".join(lines)


COMMAND = Command(
    "claimstance bench track",
    first_paragraph(__doc__),
    "claimstance bench track --model claimstance:latest",
    BenchTrackConfig,
    run,
)


if __name__ == "__main__":
    exit_with(COMMAND)
