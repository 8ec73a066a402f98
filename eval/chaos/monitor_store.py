"""The claim monitor's store at a desk's scale, SQLite and PostgreSQL: `python -m eval.chaos.monitor_store` (part
of `make chaos`).

A store of `claims` watched claims (each with one of `tags` tags), `documents` stored documents and `answers` stored
answers, one claim (`main`) holding `main_answers` of them, built by bulk inserts. Measured:
- a claim's summary (`/claims/summary`) of `main`, and a page of its documents: time, and the Python memory the call
  takes at its peak (tracemalloc);
- `/documents/recent` (50) and a tag's first page of claims (100): time;
- the claim index of every worker: built once, then one claim registered and one retired: time until the index
  holds the change (the service's ingest reads it at its next call), and that it does.
PostgreSQL runs where a server can be started here (Debian's postgresql, as `make setup` installs it).

Writes reports/monitor_scale/monitor_scale.{md,json}, with the machine they were measured on.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import insert

from eval.harness.postgres import fresh_database, postgres_binaries, throwaway_postgres
from eval.speed.machine import this_machine
from models.command import Command, exit_with, first_paragraph
from models.labels import LABELS
from serving.monitor import claims, summaries
from serving.monitor.claim_index import ClaimIndexCache
from serving.monitor.database import monitor_engine, sessions, upgrade
from serving.monitor.tables import AnswerRow, ClaimChangeRow, ClaimRow, ClaimTagRow, DocumentRow

log = logging.getLogger("claimstance.chaos_monitor")

DIMENSION = 384
MODEL = "claimstance:scale"
EMBEDDER = "embedder:scale"
ROWS_AT_ONCE = 20_000


@dataclass
class MonitorScaleConfig:
    claims: int = 100_000
    tags: int = 50
    documents: int = 100_000
    answers: int = 1_000_000
    main_answers: int = 100_000
    text_chars: int = field(default=2_000, metadata={"help": "Characters of each stored document's text."})
    postgresql: bool = field(default=True, metadata={"help": "Also on a throwaway PostgreSQL server, if installed."})
    repeats: int = 5
    output_dir: str = "reports/monitor_scale"


class VectorEmbedder:
    """A stand-in embedding model that gives each text its own random unit vector: the claim index's cost is its
    rows', whatever made them."""

    name = EMBEDDER
    dimension = DIMENSION
    max_tokens = 128

    def embed(self, texts) -> np.ndarray:
        rng = np.random.default_rng(len(texts))
        vectors = rng.standard_normal((len(texts), DIMENSION)).astype(np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    def token_counts(self, texts) -> list[int]:
        return [len(text.split()) for text in texts]


def answer_values(answer_id: int, document: int, claim: str, at: datetime) -> dict[str, Any]:
    label = LABELS[answer_id % len(LABELS)]
    scores = {name: (0.7 if name == label else 0.1) for name in LABELS}
    sentence = {"text": "A sentence.", "start": 0, "end": 11, "field": "text", "label": label, "scores": scores}
    return {
        "document_id": f"d{document}", "claim_id": claim, "model": MODEL, "similarity": 0.5, "label": label,
        "relevance": 0.9, "scores": scores, "evidence": [sentence], "text_reduced": False, "created_at": at,
        "label_score": 0.7, "asserting_strength": 0.7 if label == "asserting" else None,
        "disputing_strength": 0.7 if label == "disputing" else None,
    }  # fmt: skip


def answer_pair(k: int, config: MonitorScaleConfig) -> tuple[int, str]:
    """The (document, claim) of the k-th answer: the first `main_answers` about `main`, one document each; the rest
    spread over the other claims, no pair twice (each document's answers in its later rounds go to other claims)."""
    document = k % config.documents
    if k < config.main_answers:
        return document, "main"
    spread = (k // config.documents) * 7919 + document
    return document, f"c{1 + spread % (config.claims - 1)}"


def build(url: str, config: MonitorScaleConfig) -> float:
    """The store, filled; seconds it took."""
    if config.main_answers > config.documents:
        raise SystemExit("--main_answers: at most --documents (one answer of the claim per document)")
    started = time.perf_counter()
    engine = monitor_engine(url)
    upgrade(engine)
    now = datetime.now(UTC)
    text = "word " * (config.text_chars // 5)
    maker = sessions(engine)
    for start in range(0, config.claims, ROWS_AT_ONCE):
        rows = range(start, min(start + ROWS_AT_ONCE, config.claims))
        vectors = VectorEmbedder().embed([""] * len(rows))
        with maker.begin() as session:
            claim_ids = ["main" if k == 0 else f"c{k}" for k in rows]
            created = [now + timedelta(microseconds=k) for k in rows]
            session.execute(insert(ClaimRow), [
                {"id": cid, "text": f"Claim number {k}", "tags": [f"tag{k % config.tags}"], "created_at": at,
                 "embedding": vector.tobytes(), "embedding_model": EMBEDDER}
                for k, cid, at, vector in zip(rows, claim_ids, created, vectors, strict=True)])  # fmt: skip
            session.execute(insert(ClaimTagRow), [
                {"claim_id": cid, "tag": f"tag{k % config.tags}", "created_at": at}
                for k, cid, at in zip(rows, claim_ids, created, strict=True)])  # fmt: skip
            session.execute(insert(ClaimChangeRow), [{"claim_id": cid} for cid in claim_ids])
    for start in range(0, config.documents, ROWS_AT_ONCE):
        rows = range(start, min(start + ROWS_AT_ONCE, config.documents))
        with maker.begin() as session:
            session.execute(insert(DocumentRow), [
                {"id": f"d{k}", "text": text, "source": f"source {k % 300}", "content_sha256": "x",
                 "published": None, "published_day": date(2026, 1, 1) + timedelta(days=k % 300),
                 "ingested_at": now + timedelta(microseconds=k)} for k in rows])  # fmt: skip
    for start in range(0, config.answers, ROWS_AT_ONCE):
        rows = range(start, min(start + ROWS_AT_ONCE, config.answers))
        with maker.begin() as session:
            session.execute(insert(AnswerRow), [answer_values(k, *answer_pair(k, config), now) for k in rows])
        log.info("%s answers stored", min(start + ROWS_AT_ONCE, config.answers))
    engine.dispose()
    return time.perf_counter() - started


def timed(call: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """The median seconds of `repeats` calls, after one to warm the caches, and the last call's result."""
    result = call()
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        result = call()
        seconds.append(time.perf_counter() - started)
    return float(np.median(seconds)), result


def peak_python_bytes(call: Callable[[], Any]) -> int:
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def measure(url: str, config: MonitorScaleConfig) -> dict[str, Any]:
    engine = monitor_engine(url)
    maker = sessions(engine)
    figures: dict[str, Any] = {}

    def in_session(call: Callable) -> Callable[[], Any]:
        def run() -> Any:
            with maker() as session:
                return call(session)

        return run

    summary = in_session(lambda s: summaries.claim_summary(s, "main", LABELS))
    figures["summary s"], found = timed(summary, config.repeats)
    figures["summary documents"] = found.summary.documents
    figures["summary peak Python MB"] = peak_python_bytes(summary) / 1e6
    page = in_session(lambda s: summaries.claim_documents(s, "main", 50))
    figures["documents page (50) s"], _ = timed(page, config.repeats)
    recent = in_session(lambda s: summaries.recent_documents(s, 50))
    figures["recent documents (50) s"], found = timed(recent, config.repeats)
    figures["recent documents found"] = len(found)
    tagged = in_session(lambda s: claims.list_claims(s, tag="tag7", limit=100))
    figures["claims of a tag (100) s"], found = timed(tagged, config.repeats)
    figures["claims of a tag found"] = len(found)
    listed = in_session(lambda s: claims.list_claims(s, limit=100, after=f"c{config.claims // 2}"))
    figures["claims page (100) s"], _ = timed(listed, config.repeats)

    cache = ClaimIndexCache(maker, VectorEmbedder())
    started = time.perf_counter()
    index = cache.current()
    figures["claim index built s"] = time.perf_counter() - started
    figures["claim index claims"] = len(index)
    with maker.begin() as session:
        vector = VectorEmbedder().embed(["new"])[0]
        claims.register(session, "A claim registered just now", claim_id="registered-now", embedding=vector,
                        embedding_model=EMBEDDER)  # fmt: skip
        claims.retire(session, "c17")
    started = time.perf_counter()
    index = cache.current()
    figures["one claim registered and one retired: index caught up s"] = time.perf_counter() - started
    found = index.candidates(vector[None], cache.settings)
    figures["the registered claim matches its own vector"] = bool(found and found[0].claim_id == "registered-now")
    figures["the retired claim is gone"] = "c17" not in set(index.ids)
    figures["index unchanged: one query s"], _ = timed(cache.current, config.repeats)
    engine.dispose()
    return figures


def run(config: MonitorScaleConfig) -> dict:
    out = Path(config.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"machine": this_machine().to_json(), "config": asdict(config), "databases": {}}
    with tempfile.TemporaryDirectory(prefix="claimstance-scale-") as scratch:
        url = f"sqlite:///{scratch}/monitor.sqlite3"
        built = build(url, config)
        results["databases"]["SQLite"] = {"built s": built, **measure(url, config)}
    if config.postgresql and postgres_binaries() is not None:
        with throwaway_postgres(durable=True) as server:
            url = fresh_database(server)
            built = build(url, config)
            results["databases"]["PostgreSQL"] = {"built s": built, **measure(url, config)}
    (out / "monitor_scale.json").write_text(json.dumps(results, indent=2, default=str))
    (out / "monitor_scale.md").write_text(render(results) + "\n")
    log.info("\n%s", render(results))
    return results


def render(results: dict) -> str:
    config = results["config"]
    lines = [
        f"Claim monitor at scale: {config['claims']:,} watched claims, {config['documents']:,} documents, "
        f"{config['answers']:,} answers ({config['main_answers']:,} of them about one claim). "
        f"Machine: {results['machine']['description']}. `python -m eval.chaos.monitor_store`; "
        f"times are medians of {config['repeats']}.",
        "",
        "| figure | " + " | ".join(results["databases"]) + " |",
        "|---" * (1 + len(results["databases"])) + "|",
    ]
    keys = list(dict.fromkeys(k for figures in results["databases"].values() for k in figures))
    for key in keys:
        cells = [cell(key, figures.get(key)) for figures in results["databases"].values()]
        lines.append(f"| {key.removesuffix(' s')} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def cell(key: str, value: Any) -> str:
    if key == "built s":
        return f"{value:.0f} s"
    if key.endswith(" s") and isinstance(value, float):
        return f"{value * 1000:.1f} ms"
    return f"{value:.1f}" if isinstance(value, float) else str(value)


COMMAND = Command(
    "python -m eval.chaos.monitor_store",
    first_paragraph(__doc__),
    "python -m eval.chaos.monitor_store --claims 10000",
    MonitorScaleConfig,
    run,
)


if __name__ == "__main__":
    exit_with(COMMAND)
