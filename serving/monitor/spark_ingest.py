"""`make monitor IN=documents.jsonl ARGS="--engine spark"`: the slow part of ingest (embedding, matching, the stance
model) on Spark's executors, a partition at a time; the answers written once, by the driver, through the same
commit as the local engine's.

The executors get the watched claims once (a broadcast of the claim index and texts, as the driver reads them at the
start), the stance model and the embedder folders (`addFile`) and this project's code (`addPyFile`); each Python
worker loads the models on its first batch and keeps them. They never open the database: a cluster's executors
need not reach it. The driver reads their answers back in line order and commits them a chunk of lines at a time
(serving/monitor/ingest_file.py: progress, rejects and resume are the local engine's), so exactly-once rests on the
same two things: a chunk is one transaction, and a document stored before is never stored twice.

Lines are numbered as the local engine numbers them (1-based, blank lines counted): Spark reads the file as text
split on "\\n" alone, and `zipWithIndex` numbers the lines in file order. A rerun skips the chunks done (they are
filtered out before any model runs); a document of the chunk being done when the job stopped is scored again and
then found stored. Documents stored by another job or the service are found stored at commit, after the executors
scored them (the executors do not ask the database first).
"""

from __future__ import annotations

import pickle
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import groupby, islice
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from models.embedding import SentenceEmbedder
from models.predictor import StancePredictor
from models.registry import locate
from models.result import StanceResult
from models.runtime import chosen_runtime
from serving.batch.readers import OverlongLine, without_break
from serving.batch.rows import Reject
from serving.batch.spark import SLICES_PER_CORE, code_archive, spark_failure, spark_session
from serving.monitor.document_lines import MAX_LINE_BYTES, document_of
from serving.monitor.documents import IncomingDocument, claim_pairs, claim_texts, match_documents
from serving.monitor.ingest_file import ChunkDone, MonitorFileConfig, ingest_chunk
from serving.monitor.matching import Candidate, ClaimIndex, MatchSettings
from serving.monitor.store import MonitorStore

if TYPE_CHECKING:
    from pyspark import Broadcast

OUTCOMES = pa.schema([("row", pa.int64()), ("outcome", pa.binary())])
"""What the executors send back: each line's number and its LineOutcome, pickled (Spark's own way of moving
Python objects; both ends run this code)."""
STANCE_MODEL, EMBEDDER = "claimstance-stance-model", "claimstance-embedder"
"""The names the two model folders are shipped under (SparkFiles finds a file by its name)."""


@dataclass(frozen=True)
class ExecutorModels:
    """Which models an executor loads, and how many threads each task gives them."""

    model_tag: str
    embedder_tag: str
    match: MatchSettings
    threads: int = 1


@dataclass(frozen=True)
class WatchedClaims:
    """The active claims as the driver read them when the job started: broadcast once to every executor."""

    ids: tuple[str, ...]
    vectors: np.ndarray
    texts: dict[str, str]


@dataclass(frozen=True)
class LineOutcome:
    """One line as the executors left it: a reject, a document with its matches and their answers, or neither (a
    blank line)."""

    reject: Reject | None = None
    document: IncomingDocument | None = None
    candidates: tuple[Candidate, ...] = ()
    results: tuple[StanceResult, ...] = ()


_loaded: dict[ExecutorModels, tuple[SentenceEmbedder, StancePredictor]] = {}


def executor_models(spec: ExecutorModels) -> tuple[SentenceEmbedder, StancePredictor]:
    """This Python worker's embedder and stance model, loaded on its first batch from the folders Spark shipped."""
    if spec not in _loaded:
        from pyspark import SparkFiles

        model_dir, embedder_dir = Path(SparkFiles.get(STANCE_MODEL)), Path(SparkFiles.get(EMBEDDER))
        _loaded[spec] = (
            SentenceEmbedder.served(embedder_dir, spec.embedder_tag, spec.threads),
            StancePredictor.from_dir(
                model_dir, chosen_runtime(model_dir, "auto"), spec.threads, model_tag=spec.model_tag
            ),
        )
    return _loaded[spec]


def answer_lines(rows: list[int], lines: list[str], spec: ExecutorModels, claims: WatchedClaims) -> list[LineOutcome]:
    """Each line read, its document matched against the watched claims and its matches scored, in one model pass
    for the whole batch."""
    embedder, predictor = executor_models(spec)
    outcomes: dict[int, LineOutcome] = {}
    documents: list[tuple[int, IncomingDocument]] = []
    for row, line in zip(rows, lines, strict=True):
        raw = line.encode() + b"\n"  # as the local engine reads it (Spark split the text on "\n")
        raw_or_length = raw if without_break(raw) <= MAX_LINE_BYTES else OverlongLine(without_break(raw))
        found = document_of(row, raw_or_length) if line.strip() else None
        if isinstance(found, IncomingDocument):
            documents.append((row, found))
        else:
            outcomes[row] = LineOutcome(reject=found)
    index = ClaimIndex(claims.ids, claims.vectors)
    matched = match_documents(index, embedder, spec.match, [document for _, document in documents])
    pairs = claim_pairs(matched, claims.texts)
    results = iter(predictor.predict(list(pairs)) if pairs else [])
    for (row, _), (document, found) in zip(documents, matched, strict=True):
        outcomes[row] = LineOutcome(None, document, found, tuple(islice(results, len(found))))
    return [outcomes[row] for row in rows]


def answer_batches(
    batches: Iterator[pa.RecordBatch], spec: ExecutorModels, claims: Broadcast[WatchedClaims]
) -> Iterator[pa.RecordBatch]:
    """mapInArrow's function: (row, line) batches in, (row, pickled LineOutcome) batches out."""
    for batch in batches:
        rows, lines = batch.column("row").to_pylist(), batch.column("line").to_pylist()
        outcomes = answer_lines(rows, lines, spec, claims.value)
        pickled = pa.array([pickle.dumps(outcome) for outcome in outcomes], pa.binary())
        yield pa.RecordBatch.from_arrays([pa.array(rows, pa.int64()), pickled], schema=OUTCOMES)


def commit_outcomes(store: MonitorStore, outcomes: list[tuple[int, LineOutcome]], claims: WatchedClaims) -> ChunkDone:
    """One chunk's answers stored as the local engine stores its own (ingest_file.ingest_chunk): the executors'
    matches and answers stand in for matching and scoring here."""
    answered = [(row, outcome) for row, outcome in outcomes if outcome.document is not None]
    matched = tuple((outcome.document, outcome.candidates) for _, outcome in answered)
    results = [result for _, outcome in answered for result in outcome.results]
    answers = dict(zip(claim_pairs(matched, claims.texts), results, strict=True))
    report, conflicts = ingest_chunk(
        store,
        [(row, outcome.document) for row, outcome in answered],
        lambda pairs: [answers[pair] for pair in pairs],
        {document.id: candidates for document, candidates in matched},
    )
    rejects = [outcome.reject for _, outcome in outcomes if outcome.reject is not None]
    return ChunkDone(len(outcomes), report, rejects + conflicts)


def spark_chunks(config: MonitorFileConfig, store: MonitorStore, start: int) -> Iterator[ChunkDone]:
    """From chunk `start` on, each chunk's lines answered on the executors, then committed here in line order."""
    from py4j.protocol import Py4JJavaError
    from pyspark.errors import PySparkException

    index = store.ingest.claims.current()
    with store.sessions() as session:
        claims = WatchedClaims(index.ids, index.vectors, claim_texts(session, set(index.ids)))
    (model_dir, model_tag), (embedder_dir, embedder_tag) = locate(config.model), locate(config.embedder)
    spec = ExecutorModels(model_tag, embedder_tag, store.ingest.match, config.threads or 1)
    spark = spark_session(config.spark_master, config.spark_conf, config.chunk_documents, "claimstance-monitor")
    size = config.chunk_documents
    try:
        with tempfile.TemporaryDirectory(prefix="claimstance-monitor-") as scratch:
            ship(spark, Path(scratch), {STANCE_MODEL: model_dir, EMBEDDER: embedder_dir})
            broadcast = spark.sparkContext.broadcast(claims)
            lines = spark.read.option("lineSep", "\n").text(config.input).rdd.map(lambda row: row.value)
            todo = lines.zipWithIndex().filter(lambda pair: pair[1] >= start * size)
            frame = spark.createDataFrame(todo.map(lambda pair: (pair[1] + 1, pair[0])), "row long, line string")
            slices = SLICES_PER_CORE * spark.sparkContext.defaultParallelism
            answered = frame.repartition(slices).mapInArrow(
                lambda batches: answer_batches(batches, spec, broadcast), "row long, outcome binary"
            )
            in_order = ((row.row, pickle.loads(row.outcome)) for row in answered.orderBy("row").toLocalIterator())
            for _, chunk in groupby(in_order, key=lambda pair: (pair[0] - 1) // size):
                yield commit_outcomes(store, list(chunk), claims)
    except (PySparkException, Py4JJavaError) as error:
        raise spark_failure(error) from error


def ship(spark, scratch: Path, folders: dict[str, Path]) -> None:
    """The model folders, each under a name of its own (two store folders may share a version's name), and the
    code, to every executor."""
    for name, folder in folders.items():
        shutil.copytree(folder, scratch / name)
        spark.sparkContext.addFile(str(scratch / name), recursive=True)
    spark.sparkContext.addPyFile(str(code_archive(scratch)))
