"""Faults a deployment meets, against the real service: `make chaos` (with eval/chaos/batch.py for the batch job).

1. Large bodies under load: `big_calls` concurrent /track calls of ~16 MiB each while single predictions arrive at
   `predict_rate` a second. Measured: the service's peak memory (every process of it), each answer's status (only
   503 may be a 5xx), and /predict latency throughout.
2. Abandoned calls: `abandoned_calls` /track calls of `abandoned_documents` documents, each given up by its caller
   after `abandon_after_s`. Measured: how long until the tracking queue is empty (the service's
   `claimstance_queued_items` gauge), and how a following /track is answered.

Writes reports/chaos/chaos_serve.{md,json}; every figure names the machine it was measured on.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx
import numpy as np
import psutil

from eval.harness.server_process import MONITOR_OFF, ServerProcess, start_server
from eval.speed.machine import this_machine
from models.command import Command, exit_with, first_paragraph
from models.defaults import MODEL_NAME
from models.registry import find
from serving.settings import ServiceSettings

log = logging.getLogger("claimstance.chaos_serve")

CLAIM = "Russia's airstrikes in Syria are targeting the Islamic State group"
SENTENCE = "Officials said on Tuesday that the strikes hit positions near the city, though that could not be verified. "
JSON_HEADERS = {"content-type": "application/json"}
MIB = 1024 * 1024


@dataclass
class ChaosServeConfig:
    model: str = field(default=f"{MODEL_NAME}:latest", metadata={"help": "Model-store tag to serve."})
    big_calls: int = 8
    big_body_mib: float = field(default=16.0, metadata={"help": "Size of each large /track body (the limit: 16)."})
    predict_rate: float = field(default=20.0, metadata={"help": "Single predictions a second during phase 1."})
    abandoned_calls: int = 50
    abandoned_documents: int = 200
    abandon_after_s: float = 0.5
    port: int = 3112
    output_dir: str = "reports/chaos"


@dataclass
class MemorySampler:
    """Peak resident memory of a process and its children, sampled every 50 ms on a thread of its own."""

    pid: int
    peak_bytes: int = 0
    running: bool = True

    def current(self) -> int:
        try:
            root = psutil.Process(self.pid)
            return sum(p.memory_info().rss for p in [root, *root.children(recursive=True)])
        except psutil.Error:
            return 0

    def run(self) -> None:
        while self.running:
            self.peak_bytes = max(self.peak_bytes, self.current())
            time.sleep(0.05)


def track_body(claim: str, documents: int, text_chars: int) -> bytes:
    text = (SENTENCE * (text_chars // len(SENTENCE) + 1))[:text_chars]
    docs = [{"id": f"doc-{i}", "text": text, "source": f"source-{i % 7}"} for i in range(documents)]
    return json.dumps({"claim": claim, "documents": docs}).encode()


def big_body(mib: float, settings: ServiceSettings) -> bytes:
    """Up to the document limit, each text as long as the body's size allows (within the text limit)."""
    documents = settings.max_track_documents
    text_chars = min(settings.max_text_chars, int(mib * MIB * 0.995) // documents - 60)
    return track_body(CLAIM, documents, text_chars)


def queued_track_items(metrics: str) -> float | None:
    """The tracking queue's length from /metrics (one series per worker process, summed); None if not exported."""
    pattern = r'^claimstance_queued_items\{[^}]*queue="track"[^}]*\}\s+([0-9.e+-]+)$'
    values = re.findall(pattern, metrics, flags=re.MULTILINE)
    return sum(float(value) for value in values) if values else None


def status_counts(statuses: list[int]) -> dict[str, int]:
    return {str(status): statuses.count(status) for status in sorted(set(statuses))}


def percentile_ms(seconds: list[float], q: float) -> float | None:
    return round(1000 * float(np.percentile(seconds, q)), 1) if seconds else None


async def predict_stream(client: httpx.AsyncClient, url: str, rate: float, stop: asyncio.Event) -> list[tuple]:
    """Open loop: a new /predict every 1/rate s until `stop`, whatever the answers' pace; (status, seconds) each."""
    outcomes: list[tuple[int, float]] = []

    async def one(i: int) -> None:
        started = time.perf_counter()
        try:
            body = {"claim": CLAIM, "text": f"Report {i}: Russian jets struck Islamic State targets near Raqqa."}
            response = await client.post(f"{url}/predict", json=body, timeout=30)
            outcomes.append((response.status_code, time.perf_counter() - started))
        except httpx.HTTPError:
            outcomes.append((0, time.perf_counter() - started))

    tasks = []
    i = 0
    while not stop.is_set():
        tasks.append(asyncio.ensure_future(one(i)))
        i += 1
        await asyncio.sleep(1 / rate)
    await asyncio.gather(*tasks)
    return outcomes


async def large_bodies_phase(url: str, body: bytes, config: ChaosServeConfig) -> dict:
    async with httpx.AsyncClient(timeout=180) as client:
        stop = asyncio.Event()
        stream = asyncio.ensure_future(predict_stream(client, url, config.predict_rate, stop))
        await asyncio.sleep(1.0)

        async def big() -> int:
            try:
                return (await client.post(f"{url}/track", content=body, headers=JSON_HEADERS)).status_code
            except httpx.HTTPError:
                return 0

        started = time.perf_counter()
        statuses = await asyncio.gather(*(big() for _ in range(config.big_calls)))
        seconds = time.perf_counter() - started
        await asyncio.sleep(1.0)
        stop.set()
        predictions = await stream
    latencies = [s for status, s in predictions if status == 200]
    every_status = [*statuses, *(status for status, _ in predictions)]
    return {
        "track_statuses": sorted(statuses),
        "track_seconds": round(seconds, 1),
        "predict_calls": len(predictions),
        "predict_statuses": status_counts([status for status, _ in predictions]),
        "predict_p50_ms": percentile_ms(latencies, 50),
        "predict_p99_ms": percentile_ms(latencies, 99),
        "server_errors_other_than_503": sum(1 for s in every_status if s >= 500 and s != 503),
        "connection_failures": sum(1 for s in every_status if s == 0),
    }


async def abandoned_phase(url: str, config: ChaosServeConfig, max_at_once: int) -> dict:
    """Calls in waves of the service's `max_large_bodies`, each wave given up after `abandon_after_s`."""
    body = track_body(CLAIM, config.abandoned_documents, 2000)
    statuses: list[str] = []

    async def abandoned(client: httpx.AsyncClient) -> None:
        try:
            response = await client.post(f"{url}/track", content=body, headers=JSON_HEADERS)
            statuses.append(str(response.status_code))
        except httpx.TimeoutException:
            statuses.append("abandoned")

    peak_queued = 0.0

    async def queued_while_waiting(client: httpx.AsyncClient) -> None:
        nonlocal peak_queued
        await asyncio.sleep(config.abandon_after_s * 0.8)
        reading = queued_track_items((await client.get(f"{url}/metrics", timeout=5)).text)
        peak_queued = max(peak_queued, reading or 0.0)

    async with httpx.AsyncClient() as observer:
        for start in range(0, config.abandoned_calls, max_at_once):
            wave = min(max_at_once, config.abandoned_calls - start)
            async with httpx.AsyncClient(timeout=config.abandon_after_s) as client:
                calls = [abandoned(client) for _ in range(wave)]
                await asyncio.gather(*calls, queued_while_waiting(observer))
    gone_at = time.perf_counter()
    async with httpx.AsyncClient(timeout=60) as client:
        queued: list[float | None] = []
        while time.perf_counter() - gone_at < 30:
            queued.append(queued_track_items((await client.get(f"{url}/metrics")).text))
            if queued[-1] is None:
                raise RuntimeError('the service exports no claimstance_queued_items{queue="track"} gauge')
            if queued[-1] == 0:
                break
            await asyncio.sleep(0.1)
        empty_after = time.perf_counter() - gone_at
        started = time.perf_counter()
        following = await client.post(f"{url}/track", content=track_body(CLAIM, 10, 2000), headers=JSON_HEADERS)
        following_seconds = time.perf_counter() - started
    return {
        "calls": {status: statuses.count(status) for status in sorted(set(statuses))},
        "queued_track_items_peak_while_waiting": peak_queued,
        "queued_track_items_first_seen": queued[0] if queued else None,
        "queue_empty_after_s": round(empty_after, 2) if queued and queued[-1] == 0 else None,
        "following_track_status": following.status_code,
        "following_track_seconds": round(following_seconds, 2),
    }


def service_command(port: int) -> list[str]:
    return [sys.executable, "-m", "bentoml", "serve", "serving.service:Claimstance", "--port", str(port)]


def run(config: ChaosServeConfig) -> dict:
    out = Path(config.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    _, tag = find(config.model)
    settings = ServiceSettings()
    url = f"http://127.0.0.1:{config.port}"
    env = {"CLAIMSTANCE_MODEL": config.model, "BENTOML_DO_NOT_TRACK": "True", **MONITOR_OFF}
    body = big_body(config.big_body_mib, settings)
    results: dict = {"model": tag, "config": asdict(config), "machine": this_machine().to_json()}
    results["settings"] = {
        "max_large_bodies": settings.max_large_bodies,
        "max_track_body_bytes": settings.max_track_body_bytes,
        "big_body_bytes": len(body),
    }
    server: ServerProcess
    with start_server(service_command(config.port), url, env, out / "chaos_service.log") as server:
        sampler = MemorySampler(server.process.pid)
        results["idle_rss_mib"] = round(sampler.current() / MIB)
        thread = threading.Thread(target=sampler.run, daemon=True)
        thread.start()
        results["large_bodies"] = asyncio.run(large_bodies_phase(url, body, config))
        sampler.running = False
        thread.join()
        results["large_bodies"]["peak_rss_mib"] = round(sampler.peak_bytes / MIB)
        log.info("large bodies: %s", json.dumps(results["large_bodies"]))
        results["abandoned"] = asyncio.run(abandoned_phase(url, config, settings.max_large_bodies))
        log.info("abandoned calls: %s", json.dumps(results["abandoned"]))
    (out / "chaos_serve.json").write_text(json.dumps(results, indent=2))
    (out / "chaos_serve.md").write_text(render(results) + "\n")
    log.info("\n%s", render(results))
    return results


def render(results: dict) -> str:
    big, gone, settings = results["large_bodies"], results["abandoned"], results["settings"]
    bound = results["idle_rss_mib"] + 3 * settings["max_large_bodies"] * settings["max_track_body_bytes"] // MIB
    return "\n".join(
        [
            f"Model {results['model']} on {results['machine']['description']}.",
            "",
            f"**{results['config']['big_calls']} concurrent /track bodies of "
            f"{settings['big_body_bytes'] / MIB:.1f} MiB** with /predict at {results['config']['predict_rate']:g}/s:",
            f"- /track answers: {big['track_statuses']} in {big['track_seconds']} s",
            f"- peak service memory {big['peak_rss_mib']} MiB (idle {results['idle_rss_mib']} MiB; documented bound "
            f"idle + 3 × {settings['max_large_bodies']} at once × {settings['max_track_body_bytes'] // MIB} MiB = "
            f"{bound} MiB)",
            f"- 5xx other than 503: {big['server_errors_other_than_503']}; connection failures: "
            f"{big['connection_failures']}",
            f"- /predict: {big['predict_calls']} calls {big['predict_statuses']}, p50 {big['predict_p50_ms']} ms, "
            f"p99 {big['predict_p99_ms']} ms",
            "",
            f"**{results['config']['abandoned_calls']} /track calls of {results['config']['abandoned_documents']} "
            f"documents abandoned after {results['config']['abandon_after_s']} s:**",
            f"- calls: {gone['calls']}",
            f"- tracking queue empty {gone['queue_empty_after_s']} s after the last caller left "
            f"(first reading {gone['queued_track_items_first_seen']} items; up to "
            f"{gone['queued_track_items_peak_while_waiting']:g} queued while callers waited)",
            f"- a following 10-document /track: {gone['following_track_status']} in "
            f"{gone['following_track_seconds']} s",
        ]
    )


COMMAND = Command(
    "python -m eval.chaos.service",
    first_paragraph(__doc__),
    "python -m eval.chaos.service --model claimstance:latest",
    ChaosServeConfig,
    run,
)


if __name__ == "__main__":
    exit_with(COMMAND)
