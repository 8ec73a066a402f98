"""The claim monitor's routes against the real service, exposed with keys: `python -m eval.chaos.monitor_service`
(part of `make chaos`).

1. Access: every route tried with no key, a read key, a write key and an admin key; each answer is compared with the
   documented one (401 without a key, 403 with too low a scope, anything else with enough).
2. Abandoned ingests: `ingests` concurrent /documents/ingest calls of `documents` documents of `document_chars`
   characters each, given up after `abandon_after_s`, again and again for `seconds`, beside /predict at
   `predict_rate` a second and a `track_documents`-document /track every `track_every_s`. Measured: every status
   (only 503 may be a 5xx), /predict's p99, and how long after the last caller left the service's processes are
   idle (under `idle_cpu_percent` of a core).
3. Slow senders: `slow_senders` callers that declare a large /track body and send a byte a second, while other
   callers post /track: how many of those are served.

Writes reports/chaos/chaos_monitor_serve.{md,json}, with the machine they were measured on.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

from eval.chaos.service import CLAIM, percentile_ms, status_counts, track_body
from eval.harness.server_process import start_server
from eval.harness.slow_sender import slow_senders
from eval.speed.machine import this_machine
from models.command import Command, exit_with, first_paragraph
from models.defaults import EMBEDDER_NAME, MODEL_NAME
from models.registry import find

log = logging.getLogger("claimstance.chaos_monitor_serve")

SENTENCE = "Officials said the strikes hit positions near the city, though that could not be verified. "
ROUTES = {  # route: (body, scope it needs)
    "/predict": ({"claim": CLAIM, "text": SENTENCE}, "read"),
    "/predict_batch": ({"pairs": [{"claim": CLAIM, "text": SENTENCE}]}, "read"),
    "/track": ({"claim": CLAIM, "documents": [{"id": 1, "text": SENTENCE}]}, "read"),
    "/claims/list": ({}, "read"),
    "/claims/summary": ({"id": "strikes"}, "read"),
    "/claims/documents": ({"id": "strikes"}, "read"),
    "/documents/recent": ({}, "read"),
    "/claims/register": ({"claims": [{"id": "access", "text": CLAIM}]}, "write"),
    "/documents/ingest": ({"documents": [{"id": "access-doc", "text": SENTENCE}]}, "write"),
    "/claims/retire": ({"id": "access"}, "admin"),
    "/claims/unretire": ({"id": "access"}, "admin"),
    "/documents/delete": ({"id": "access-doc"}, "admin"),
    "/audit/list": ({}, "admin"),
}
SCOPES = ("read", "write", "admin")


@dataclass
class ChaosMonitorServeConfig:
    model: str = field(default=f"{MODEL_NAME}:latest", metadata={"help": "Model-store tag to serve."})
    embedder: str = f"{EMBEDDER_NAME}:latest"
    ingests: int = 4
    documents: int = 100
    document_chars: int = 50_000
    abandon_after_s: float = 1.0
    seconds: float = 60.0
    predict_rate: float = 20.0
    track_documents: int = 10
    track_every_s: float = 5.0
    idle_cpu_percent: float = 10.0
    slow_senders: int = 4
    port: int = 3113
    output_dir: str = "reports/chaos"


def expected(route_scope: str, key_scope: str | None) -> str:
    if key_scope is None:
        return "401"
    return "403" if SCOPES.index(key_scope) < SCOPES.index(route_scope) else "allowed"


def access_phase(url: str, keys: dict[str, str]) -> dict[str, Any]:
    rows, wrong = [], []
    for route, (body, needed) in ROUTES.items():
        for scope in (None, *SCOPES):
            headers = {"Authorization": f"Bearer {keys[scope]}"} if scope else {}
            status = httpx.post(f"{url}{route}", json=body, headers=headers, timeout=120).status_code
            want = expected(needed, scope)
            ok = str(status) == want or (want == "allowed" and status not in (401, 403))
            rows.append(
                {"route": route, "key": scope or "none", "status": status, "expected": want, "as_documented": ok}
            )
            wrong += [] if ok else [rows[-1]]
    return {"calls": len(rows), "not_as_documented": wrong, "rows": rows}


def documents_body(count: int, chars: int, wave: int, call: int) -> bytes:
    text = (SENTENCE * (chars // len(SENTENCE) + 1))[:chars]
    documents = [{"id": f"w{wave}-c{call}-d{k}", "text": text, "source": "Wire"} for k in range(count)]
    return json.dumps({"documents": documents}).encode()


async def ingest_phase(url: str, keys: dict[str, str], config: ChaosMonitorServeConfig, pids: list[int]) -> dict:
    write = {"Authorization": f"Bearer {keys['write']}", "content-type": "application/json"}
    read = {"Authorization": f"Bearer {keys['read']}"}
    statuses: list[str] = []
    predictions: list[tuple[int, float]] = []
    tracks: list[int] = []
    stop = asyncio.Event()

    async def abandoned_waves(client: httpx.AsyncClient) -> None:
        wave = 0
        while not stop.is_set():
            bodies = [documents_body(config.documents, config.document_chars, wave, k) for k in range(config.ingests)]

            async def one(body: bytes) -> None:
                try:
                    response = await client.post(f"{url}/documents/ingest", content=body, headers=write,
                                                 timeout=config.abandon_after_s)  # fmt: skip
                    statuses.append(str(response.status_code))
                except httpx.TimeoutException:
                    statuses.append("abandoned")
                except httpx.HTTPError:
                    statuses.append("connection failed")

            await asyncio.gather(*(one(body) for body in bodies))
            wave += 1

    async def predict_stream(client: httpx.AsyncClient) -> None:
        tasks = []

        async def one() -> None:
            started = time.perf_counter()
            try:
                response = await client.post(f"{url}/predict", json=ROUTES["/predict"][0], headers=read, timeout=30)
                predictions.append((response.status_code, time.perf_counter() - started))
            except httpx.HTTPError:
                predictions.append((0, time.perf_counter() - started))

        while not stop.is_set():
            tasks.append(asyncio.ensure_future(one()))
            await asyncio.sleep(1 / config.predict_rate)
        await asyncio.gather(*tasks)

    async def track_stream(client: httpx.AsyncClient) -> None:
        body = track_body(CLAIM, config.track_documents, 2000)
        while not stop.is_set():
            try:
                response = await client.post(f"{url}/track", content=body, timeout=60,
                                              headers={**read, "content-type": "application/json"})  # fmt: skip
                tracks.append(response.status_code)
            except httpx.HTTPError:
                tracks.append(0)
            await asyncio.sleep(config.track_every_s)

    async with httpx.AsyncClient() as client:
        workers = [abandoned_waves(client), predict_stream(client), track_stream(client)]
        running = [asyncio.ensure_future(worker) for worker in workers]
        await asyncio.sleep(config.seconds)
        stop.set()
        await asyncio.gather(*running)
    idle_after = await asyncio.to_thread(seconds_until_idle, pids, config.idle_cpu_percent, 60.0)
    every = [*(int(s) for s in statuses if s.isdigit()), *(s for s, _ in predictions), *tracks]
    latencies = [seconds for status, seconds in predictions if status == 200]
    return {
        "ingest_calls": {status: statuses.count(status) for status in sorted(set(statuses))},
        "predict_statuses": status_counts([status for status, _ in predictions]),
        "predict_p50_ms": percentile_ms(latencies, 50),
        "predict_p99_ms": percentile_ms(latencies, 99),
        "track_statuses": status_counts(tracks),
        "server_errors_other_than_503": sum(1 for s in every if s >= 500 and s != 503),
        "idle_after_s": idle_after,
    }


def seconds_until_idle(pids: list[int], percent: float, limit: float) -> float | None:
    """Seconds until the processes use under `percent` of a core together, over a 0.5 s reading (None: not within
    `limit`)."""
    processes = [psutil.Process(pid) for pid in pids if psutil.pid_exists(pid)]
    started = time.perf_counter()
    while time.perf_counter() - started < limit:
        before = sum(p.cpu_times().user + p.cpu_times().system for p in processes)
        time.sleep(0.5)
        after = sum(p.cpu_times().user + p.cpu_times().system for p in processes)
        if (after - before) / 0.5 * 100 < percent:
            return round(time.perf_counter() - started - 0.5, 1)
    return None


def slow_phase(url: str, keys: dict[str, str], senders: int) -> dict:
    stop, answers, threads = slow_senders(url, "/track", {"Authorization": f"Bearer {keys['read']}"}, senders)
    time.sleep(1.0)
    served, started = [], time.perf_counter()
    while time.perf_counter() - started < 20:
        response = httpx.post(f"{url}/track", json=ROUTES["/track"][0], timeout=30,
                              headers={"Authorization": f"Bearer {keys['read']}"})  # fmt: skip
        served.append((round(time.perf_counter() - started, 1), response.status_code))
        time.sleep(0.5)
    stop.set()
    for thread in threads:
        thread.join(30)
    return {
        "slow_senders_answered": sorted(answers),
        "other_calls": len(served),
        "other_calls_served": sum(status == 200 for _, status in served),
        "first_served_after_s": next((at for at, status in served if status == 200), None),
    }


def run(config: ChaosMonitorServeConfig) -> dict:
    out = Path(config.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    _, tag = find(config.model)
    keys = {scope: secrets.token_urlsafe(24) for scope in SCOPES}
    api_keys = [{"name": f"{scope}-key", "scope": scope, "key": key} for scope, key in keys.items()]
    url = f"http://127.0.0.1:{config.port}"
    results: dict = {"model": tag, "config": asdict(config), "machine": this_machine().to_json()}
    with tempfile.TemporaryDirectory(prefix="claimstance-chaos-") as data:
        env = {
            "CLAIMSTANCE_MODEL": config.model, "CLAIMSTANCE_EMBEDDER": config.embedder, "BENTOML_DO_NOT_TRACK": "True",
            "CLAIMSTANCE_API_KEYS": json.dumps(api_keys), "CLAIMSTANCE_DATA_DIR": data,
        }  # fmt: skip
        command = [sys.executable, "-m", "bentoml", "serve", "serving.service:Claimstance", "--port", str(config.port)]
        with start_server(command, url, env, out / "chaos_monitor_service.log") as server:
            headers = {"Authorization": f"Bearer {keys['write']}"}
            httpx.post(f"{url}/claims/register", json={"claims": [{"id": "strikes", "text": CLAIM}]}, headers=headers)
            results["access"] = access_phase(url, keys)
            log.info("access: %d calls, %d not as documented", results["access"]["calls"],
                     len(results["access"]["not_as_documented"]))  # fmt: skip
            pids = [server.process.pid, *(child.pid for child in psutil.Process(server.process.pid).children(True))]
            results["ingests"] = asyncio.run(ingest_phase(url, keys, config, pids))
            log.info("abandoned ingests: %s", json.dumps(results["ingests"]))
            results["slow_senders"] = slow_phase(url, keys, config.slow_senders)
            log.info("slow senders: %s", json.dumps(results["slow_senders"]))
    (out / "chaos_monitor_serve.json").write_text(json.dumps(results, indent=2))
    (out / "chaos_monitor_serve.md").write_text(render(results) + "\n")
    log.info("\n%s", render(results))
    return results


def render(results: dict) -> str:
    config, access, ingests, slow = results["config"], results["access"], results["ingests"], results["slow_senders"]
    return "\n".join([
        f"Model {results['model']} on {results['machine']['description']}; `python -m eval.chaos.monitor_service`.",
        "",
        f"**Access:** {access['calls']} calls (every route with no key, a read, a write and an admin key): "
        f"{len(access['not_as_documented'])} not answered as documented.",
        "",
        f"**{config['ingests']} ingests of {config['documents']} × {config['document_chars']:,}-character documents "
        f"abandoned at {config['abandon_after_s']:g} s, for {config['seconds']:g} s,** beside /predict at "
        f"{config['predict_rate']:g}/s and a {config['track_documents']}-document /track every "
        f"{config['track_every_s']:g} s:",
        f"- ingest calls: {ingests['ingest_calls']}",
        f"- /predict: {ingests['predict_statuses']}, p50 {ingests['predict_p50_ms']} ms, p99 "
        f"{ingests['predict_p99_ms']} ms; /track: {ingests['track_statuses']}",
        f"- 5xx other than 503: {ingests['server_errors_other_than_503']}",
        f"- the service's processes idle (under {config['idle_cpu_percent']:g}% of a core) {ingests['idle_after_s']} s "
        "after the last caller left",
        "",
        f"**{config['slow_senders']} slow senders** (a byte a second) holding every large-body slot: answered "
        f"{slow['slow_senders_answered']}; of {slow['other_calls']} other /track calls, {slow['other_calls_served']} "
        f"served, the first {slow['first_served_after_s']} s in.",
    ])  # fmt: skip


COMMAND = Command(
    "python -m eval.chaos.monitor_service",
    first_paragraph(__doc__),
    "python -m eval.chaos.monitor_service --model claimstance:latest",
    ChaosMonitorServeConfig,
    run,
)


if __name__ == "__main__":
    exit_with(COMMAND)
