"""`make monitor IN=documents.jsonl ARGS="--engine spark"`: the slow part of ingest (embedding, matching, the stance
model) on Spark's executors, a partition at a time; the answers written once, by the driver, through the same
commit as the local engine's.

The executors get the watched claims once (a broadcast of the claim index and texts, as the driver reads them at the
start), the stance model and the embedder folders (`addFile`) and this project's code (`addPyFile`); each Python
worker loads the models on its first batch and keeps them. They never open the database: a cluster's executors
need not reach it. The file goes through in waves of chunks (as many chunks as Spark has slices); the driver
collects a wave's answers, and commits them a chunk of lines at a time in line order (ingest_file/job.py: progress,
rejects and resume are the local engine's), so exactly-once rests on the same two things: a chunk is one
transaction, and a document stored before is never stored twice. A killed job loses one wave of work at most.

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
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import groupby, islice
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from models.embedding import SentenceEmbedder
from models.pair import Pair
from models.predictor import StancePredictor
from models.registry import locate
from models.result import StanceResult
from serving.jobs.lines import OverlongLine, count_lines, without_break
from serving.jobs.rejects import Reject
from serving.jobs.spark import SLICES_PER_CORE, code_archive, spark_failure, spark_session
from serving.monitor.document_lines import MAX_LINE_BYTES, line_document
from serving.monitor.documents import IncomingDocument, claim_pairs, match_documents
from serving.monitor.ingest_file.chunks import ChunkDone, ingest_chunk
from serving.monitor.ingest_file.config import MonitorFileConfig
from serving.monitor.matching import Candidate, ClaimIndex, MatchSettings, claim_index
from serving.monitor.neighbour_graph import NeighbourGraph
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
    job: str = field(default_factory=lambda: uuid.uuid4().hex)
    """Which job's claims these are: a worker builds their index once (`executor_index`)."""


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

        _loaded[spec] = (
            SentenceEmbedder.served(SparkFiles.get(EMBEDDER), spec.embedder_tag, spec.threads),
            StancePredictor.served(SparkFiles.get(STANCE_MODEL), spec.model_tag, spec.threads),
        )
    return _loaded[spec]


_index: dict[tuple[str, MatchSettings], ClaimIndex] = {}


def executor_index(claims: WatchedClaims, settings: MatchSettings, threads: int) -> ClaimIndex:
    """The watched claims' index, built once per Python worker and job: past `settings.approximate_from` claims it
    holds a neighbour graph, about 40 s to build at 100,000 claims, not to be repeated for every batch."""
    key = (claims.job, settings)
    if key not in _index:
        _index.clear()
        graph = NeighbourGraph(claims.vectors.shape[1], threads)
        _index[key] = claim_index(claims.ids, claims.vectors, settings, graph)
    return _index[key]


def answer_lines(rows: list[int], lines: list[str], spec: ExecutorModels, claims: WatchedClaims) -> list[LineOutcome]:
    """Each line read as the local engine reads it (document_lines.line_document), its document matched against
    the watched claims and its matches scored, in one model pass for the whole batch."""
    embedder, predictor = executor_models(spec)
    outcomes: dict[int, LineOutcome] = {}
    documents: list[tuple[int, IncomingDocument]] = []
    for row, line in zip(rows, lines, strict=True):
        raw = line.encode() + b"\n"  # the line with its break, as the local engine reads it
        found = line_document(row, raw if without_break(raw) <= MAX_LINE_BYTES else OverlongLine(without_break(raw)))
        if isinstance(found, IncomingDocument):
            documents.append((row, found))
        else:
            outcomes[row] = LineOutcome(reject=found)
    matched = match_documents(
        executor_index(claims, spec.match, spec.threads), embedder, spec.match, [document for _, document in documents]
    )
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
    matches and answers stand in for matching and scoring here. An id on two lines of the chunk is the first
    line's document (a later line with other content is rejected, as locally), so its matches are the first's."""
    answered = [(row, outcome) for row, outcome in outcomes if outcome.document is not None]
    matches: dict[str, tuple[Candidate, ...]] = {}
    answers: dict[Pair, StanceResult] = {}
    for _, outcome in answered:
        matches.setdefault(outcome.document.id, outcome.candidates)
        pairs = claim_pairs(((outcome.document, outcome.candidates),), claims.texts)
        answers.update(zip(pairs, outcome.results, strict=True))
    report, conflicts = ingest_chunk(
        store,
        [(row, outcome.document) for row, outcome in answered],
        lambda pairs: [answers[pair] for pair in pairs],
        matches,
    )
    rejects = [outcome.reject for _, outcome in outcomes if outcome.reject is not None]
    return ChunkDone(len(outcomes), report, rejects + conflicts)


def spark_chunks(config: MonitorFileConfig, store: MonitorStore, start: int) -> Iterator[ChunkDone]:
    """From chunk `start` on, the file a wave of chunks at a time (as many as Spark has slices): each wave's lines
    answered on the executors, then committed here chunk by chunk in line order, so a killed job loses one wave
    of work at most and every answer is computed once."""
    from py4j.protocol import Py4JJavaError
    from pyspark import StorageLevel
    from pyspark.errors import PySparkException

    active = store.ingest.claims.active()  # the executors build the index: the driver only reads the claims
    claims = WatchedClaims(active.ids, active.vectors, dict(zip(active.ids, active.texts, strict=True)))
    (model_dir, model_tag), (embedder_dir, embedder_tag) = locate(config.model), locate(config.embedder)
    spec = ExecutorModels(model_tag, embedder_tag, store.ingest.match, config.threads or 1)
    spark = spark_session(config.spark_master, config.spark_conf, config.chunk_documents, "claimstance-monitor")
    size, total = config.chunk_documents, count_lines(Path(config.input))
    try:
        with tempfile.TemporaryDirectory(prefix="claimstance-monitor-") as scratch:
            ship(spark, Path(scratch), {STANCE_MODEL: model_dir, EMBEDDER: embedder_dir})
            broadcast = spark.sparkContext.broadcast(claims)
            slices = SLICES_PER_CORE * spark.sparkContext.defaultParallelism
            lines = spark.read.option("lineSep", "\n").text(config.input).rdd.map(lambda row: row.value)
            numbered = lines.zipWithIndex().map(lambda pair: (pair[1] + 1, pair[0])).persist(StorageLevel.DISK_ONLY)
            for first in range(start * size + 1, total + 1, slices * size):
                last = first + slices * size  # this wave: rows first .. last - 1
                wave = numbered.filter(lambda pair, first=first, last=last: first <= pair[0] < last)
                answered = (
                    spark.createDataFrame(wave, "row long, line string")
                    .repartition(slices)
                    .mapInArrow(lambda batches: answer_batches(batches, spec, broadcast), "row long, outcome binary")
                    .collect()
                )
                in_order = sorted(((row.row, pickle.loads(row.outcome)) for row in answered), key=lambda p: p[0])
                for _, chunk in groupby(in_order, key=lambda pair: (pair[0] - 1) // size):
                    yield commit_outcomes(store, list(chunk), claims)
            numbered.unpersist()
    except (PySparkException, Py4JJavaError) as error:
        raise spark_failure(error) from error


def ship(spark, scratch: Path, folders: dict[str, Path]) -> None:
    """The model folders, each under a name of its own (two store folders may share a version's name), and the
    code, to every executor."""
    for name, folder in folders.items():
        shutil.copytree(folder, scratch / name)
        spark.sparkContext.addFile(str(scratch / name), recursive=True)
    spark.sparkContext.addPyFile(str(code_archive(scratch)))
