"""Load benchmark of the HTTP service against a naive server: `make bench-serve`.

Starts the real service (`bentoml serve`) and the naive baseline (eval/speed/naive_server.py) on loopback,
one after the other so they never share the CPU, and sends Emergent test pairs at each concurrency.
Then it overloads the service past its concurrency limit and drops back to one client, to show the
429/503 answers and the recovery. Writes reports/serve/{bench_serve.md,bench_serve.json}.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

from eval.harness.server_process import MONITOR_OFF, start_server
from eval.speed.load import LoadResult, run_load
from eval.speed.machine import this_machine
from models.command import Command, exit_with, first_paragraph
from models.defaults import MODEL_NAME
from models.registry import find
from training.config import data_dir_field
from training.data import read_emergent

log = logging.getLogger("claimstance.bench_serve")


@dataclass
class BenchServeConfig:
    model: str = field(default=f"{MODEL_NAME}:latest", metadata={"help": "Model-store tag to serve."})
    data_dir: str = data_dir_field()
    concurrency: list[int] = field(
        default_factory=lambda: [1, 8, 32, 64], metadata={"help": "Clients sending at once, one level after another."}
    )
    max_requests: int = field(default=3000, metadata={"help": "Requests per concurrency level at most."})
    max_seconds: float = field(default=20.0, metadata={"help": "Seconds per concurrency level at most."})
    batch_pairs: int = field(default=32, metadata={"help": "Pairs per /predict_batch call in the list run."})
    workers: int = field(default=1, metadata={"help": "Worker processes of the service."})
    model_copies: int = field(default=2, metadata={"help": "Model copies per worker, each scoring a batch at once."})
    threads: int = field(default=0, metadata={"help": "Inference threads per worker (0: cores / workers)."})
    model_batch_pairs: int = field(default=0, metadata={"help": "Pairs per forward pass (0: the runtime's default)."})
    naive: bool = field(default=True, metadata={"help": "Also measure the naive pipeline server."})
    overload_concurrency: int = field(default=96, metadata={"help": "Clients in the overload phase."})
    overload_limit: int = field(default=32, metadata={"help": "Service max_concurrency during the overload phase."})
    port: int = field(default=3111, metadata={"help": "Loopback port of the service under test."})
    output_dir: str = field(default="reports/serve", metadata={"help": "Where the report goes (.md and .json)."})


def emergent_pairs(data_dir: str) -> list[dict[str, str]]:
    _, test = read_emergent(Path(data_dir))
    return [{"claim": c, "text": t} for c, t in zip(test["claim"], test["text"], strict=True)]


def measure(url: str, bodies: list, concurrency: int, config: BenchServeConfig, **kwargs) -> dict:
    # Warm the connections and the batcher's estimate before timing.
    asyncio.run(run_load(url, bodies, concurrency, max_requests=concurrency * 4, max_seconds=5, **kwargs))
    result: LoadResult = asyncio.run(
        run_load(url, bodies, concurrency, config.max_requests, config.max_seconds, **kwargs)
    )
    summary = result.summary()
    log.info("%s c=%d %s", url, concurrency, json.dumps(summary))
    return summary


def service_command(port: int) -> list[str]:
    return [sys.executable, "-m", "bentoml", "serve", "serving.service:Claimstance", "--port", str(port)]


def service_env(config: BenchServeConfig, **overrides: int) -> dict[str, str]:
    env = {
        "CLAIMSTANCE_MODEL": config.model,
        **MONITOR_OFF,
        "CLAIMSTANCE_WORKERS": str(config.workers),
        "CLAIMSTANCE_MODEL_COPIES": str(config.model_copies),
        "CLAIMSTANCE_THREADS": str(config.threads),
        "CLAIMSTANCE_MODEL_BATCH_PAIRS": str(config.model_batch_pairs),
        "BENTOML_DO_NOT_TRACK": "True",
    }
    return env | {f"CLAIMSTANCE_{k.upper()}": str(v) for k, v in overrides.items()}


def run(config: BenchServeConfig) -> dict:
    out = Path(config.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    pairs = emergent_pairs(config.data_dir)
    model_dir, tag = find(config.model)
    url = f"http://127.0.0.1:{config.port}"
    results: dict = {"model": tag, "pairs": len(pairs), "config": asdict(config), "machine": this_machine().to_json()}

    with start_server(service_command(config.port), url, service_env(config), out / "service.log"):
        results["service"] = [measure(f"{url}/predict", pairs, c, config) for c in config.concurrency]
        lists = [pairs[i : i + config.batch_pairs] for i in range(0, len(pairs), config.batch_pairs)]
        results["service_list"] = measure(
            f"{url}/predict_batch",
            [{"pairs": chunk} for chunk in lists],
            2,
            config,
            pairs_per_body=lambda body: len(body["pairs"]),
        )

    overload_env = service_env(config, max_concurrency=config.overload_limit)
    with start_server(service_command(config.port), url, overload_env, out / "service_overload.log"):
        phases = []
        for concurrency in (config.overload_concurrency, 1):
            result = asyncio.run(run_load(f"{url}/predict", pairs, concurrency, 2000, 10))
            phases.append(result.summary())
            log.info("overload phase c=%d %s", concurrency, json.dumps(phases[-1]))
        results["overload"] = {"max_concurrency": config.overload_limit, "phases": phases}

    if config.naive:
        naive = [sys.executable, "-m", "eval.speed.naive_server", "--model", str(model_dir), "--port", str(config.port)]
        with start_server(naive, url, {}, out / "naive.log"):
            results["naive"] = [measure(f"{url}/predict", pairs, c, config) for c in config.concurrency]

    (out / "bench_serve.json").write_text(json.dumps(results, indent=2))
    (out / "bench_serve.md").write_text(render(results) + "\n")
    log.info("\n%s", render(results))
    return results


def render(results: dict) -> str:
    head = "| server | concurrency | pairs/s | p50 ms | p95 ms | p99 ms | errors |\n|---|---|---|---|---|---|---|"
    rows = []
    for name, key in (("claimstance /predict", "service"), ("naive pipeline", "naive")):
        for r in results.get(key, []):
            rows.append(
                f"| {name} | {r['concurrency']} | {r['pairs_per_s']} | {r['p50_ms']} | {r['p95_ms']} "
                f"| {r['p99_ms']} | {r['errors']} |"
            )
    if r := results.get("service_list"):
        rows.append(
            f"| claimstance /predict_batch ({results['config']['batch_pairs']} pairs/call) | "
            f"{r['concurrency']} | {r['pairs_per_s']} | {r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} "
            f"| {r['errors']} |"
        )
    lines = [
        f"Model {results['model']}, {results['pairs']} Emergent test pairs, on {results['machine']['description']}.",
        "",
        head,
        *rows,
    ]
    if overload := results.get("overload"):
        lines += [
            "",
            f"Overload (service max_concurrency={overload['max_concurrency']}):",
            "",
            "| clients | requests | statuses | p50 ms of 200s |",
            "|---|---|---|---|",
        ]
        for phase in overload["phases"]:
            lines.append(f"| {phase['concurrency']} | {phase['requests']} | {phase['statuses']} | {phase['p50_ms']} |")
    return "\n".join(lines)


COMMAND = Command(
    "claimstance bench serve",
    first_paragraph(__doc__),
    "claimstance bench serve --model claimstance:latest",
    BenchServeConfig,
    run,
)


if __name__ == "__main__":
    exit_with(COMMAND)
