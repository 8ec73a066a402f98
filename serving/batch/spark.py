"""The Spark engine: the same checks and the same `ChunkScorer`, run by Spark's Python workers via `mapInArrow`.

Spark reads the input and writes the outputs (a folder of part files each, the Spark way), so the job
scales with the cluster. The model folder and this project's code are shipped to the executors with
`addFile`/`addPyFile`; each Python worker process loads the model once, on its first batch, and keeps
it for every later batch and task (`spark.python.worker.reuse`, on by default).

Row numbers and order: each row is numbered where it is read (its read partition and its place there);
the rows are then dealt out evenly over the cores, scored, and written back in row order. Offsets of the
read partitions come from the scored rows themselves, so rejects name the same 1-based rows as the local
engine's.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
from collections.abc import Iterator
from dataclasses import replace
from itertools import accumulate
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from models.registry import locate
from serving.batch.columns import PredictionColumns, missing_column
from serving.batch.config import BatchConfig, FileFormat
from serving.batch.report import JobReport
from serving.batch.scoring import ChunkScorer, ScorerSpec
from serving.batch.tracking import TrackColumns, claim_summary_line, summarize, write_claim_summaries
from serving.batch.workdir import Progress
from serving.batch.writers import formula_guarded
from serving.jobs.durable import remove_stale_temporaries
from serving.jobs.joblock import output_lock
from serving.jobs.options import JobInputError
from serving.jobs.rejects import Reject
from serving.jobs.spark import SLICES_PER_CORE, code_archive, spark_failure, spark_session

log = logging.getLogger("claimstance.batch")

ROW = "_claimstance_row"
"""A row's key while in Spark, its 1-based input row number once the offsets are known."""
PARTITION_SHIFT = 33
"""monotonically_increasing_id() puts the partition in the bits above 33 and the place below."""
REJECT_REASON = "_claimstance_reject"
REJECT_INPUT = "_claimstance_reject_input"
BOOKKEEPING = (ROW, REJECT_REASON, REJECT_INPUT)
"""Columns that travel with each scored row inside Spark and are dropped from the outputs."""
CORRUPT = "_corrupt_record"
"""Spark's column for a line its JSON or CSV reader could not parse."""
SPARK_FORMATS = {FileFormat.JSONL: "json", FileFormat.CSV: "csv", FileFormat.PARQUET: "parquet"}

_scorers: dict[ScorerSpec, ChunkScorer] = {}


def executor_scorer(spec: ScorerSpec) -> ChunkScorer:
    """This Python worker's scorer, built on its first batch from the model folder Spark shipped to it."""
    if spec not in _scorers:
        from pyspark import SparkFiles

        _scorers[spec] = ChunkScorer(replace(spec, model_dir=SparkFiles.get(spec.model_dir)))
    return _scorers[spec]


def with_bookkeeping(table: pa.Table, rows: list[int], rejects: list[Reject] | None = None) -> pa.Table:
    reasons = [r.reason for r in rejects] if rejects else [None] * len(rows)
    inputs = [json.dumps(r.input, default=str) for r in rejects] if rejects else [None] * len(rows)
    table = table.append_column(ROW, pa.array(rows, pa.int64()))
    table = table.append_column(REJECT_REASON, pa.array(reasons, pa.string()))
    return table.append_column(REJECT_INPUT, pa.array(inputs, pa.string()))


def score_batches(batches: Iterator[pa.RecordBatch], spec: ScorerSpec, schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    """mapInArrow's function: each Arrow batch checked and scored; rejects come out as rows with a reason."""
    scorer = executor_scorer(spec)
    data_fields = [field for field in schema if field.name not in BOOKKEEPING]
    for batch in batches:
        table = pa.Table.from_batches([batch])
        rejects: list[Reject] = []
        if CORRUPT in table.column_names:
            corrupt = table.filter(table.column(CORRUPT).is_valid())
            for row, line in zip(corrupt.column(ROW).to_pylist(), corrupt.column(CORRUPT).to_pylist(), strict=True):
                rejects.append(Reject(row, "unparseable: Spark's reader could not parse this row", line))
            table = table.filter(pc.invert(table.column(CORRUPT).is_valid())).drop_columns([CORRUPT])
        scored = scorer.score(table.drop_columns([ROW]), table.column(ROW).to_numpy())
        rejects += scored.rejects
        good = with_bookkeeping(scored.table, scored.rows.tolist())
        nulls = pa.table({field.name: pa.nulls(len(rejects), field.type) for field in data_fields})
        bad = with_bookkeeping(nulls, [r.row for r in rejects], rejects)
        yield from pa.concat_tables([good.cast(schema), bad.cast(schema)]).to_batches()


CSV_OPTIONS = {
    "header": True,
    "multiLine": True,
    "escape": '"',
    "ignoreLeadingWhiteSpace": False,
    "ignoreTrailingWhiteSpace": False,
}
"""RFC 4180 CSV, as the local engine and spreadsheets read and write it: quoted fields may hold line breaks
and doubled quotes, and values keep their spaces. (Spark's defaults, one row per line, backslash escapes and
trimmed values on write, would split articles and change texts.)"""

JSON_WRITE_OPTIONS = {"ignoreNullFields": False}
"""A null value is written as null, as the local engine writes it, not left out of its row."""


def read_input(spark, config: BatchConfig):
    """The input as a DataFrame; CSV values stay text, and rows Spark cannot parse keep their raw text."""
    from pyspark.sql.types import StringType, StructField, StructType

    fmt = config.input_file_format()
    path = str(config.input_path)
    if not config.input_path.exists():
        raise JobInputError(f"{path}: no such file or folder")
    reader = spark.read.option("mode", "PERMISSIVE").option("columnNameOfCorruptRecord", CORRUPT)
    if fmt is FileFormat.CSV:
        header = spark.read.options(**CSV_OPTIONS).csv(path).schema
        schema = StructType([StructField(f.name, StringType()) for f in header] + [StructField(CORRUPT, StringType())])
        return reader.options(**CSV_OPTIONS).schema(schema).csv(path)
    return reader.format(SPARK_FORMATS[fmt]).load(path)


def check_input_columns(frame, config: BatchConfig, predictions: PredictionColumns) -> None:
    from pyspark.sql.types import StringType

    names = frame.columns
    predictions.check(names)
    if config.track:
        TrackColumns.of(config, predictions).check([name for name in names if name != CORRUPT], config.input)
    for column, flag in ((config.claim_column, "claim"), (config.text_column, "text")):
        if column not in names:
            raise missing_column(config.input, column, flag, [name for name in names if name != CORRUPT])
        kind = frame.schema[column].dataType
        if not isinstance(kind, StringType):
            raise JobInputError(f"{config.input}: column {column!r} holds {kind.simpleString()}, not strings")


def with_row_keys(frame):
    """Each row's read partition and 1-based place there, as one number (partition << 33 | place), computed in
    the same pass that reads the row: it survives the deal to the cores unchanged."""
    from pyspark.sql import functions as F

    return frame.withColumn(ROW, F.monotonically_increasing_id() + 1)


def with_input_rows(scored):
    """Row keys turned into 1-based input row numbers. Every input row comes out of scoring once, scored or
    rejected, so the largest place in a read partition is its row count, and the offsets follow from those."""
    from pyspark.sql import functions as F

    partition = F.shiftright(F.col(ROW), PARTITION_SHIFT)
    place = F.col(ROW) - F.shiftleft(partition, PARTITION_SHIFT)
    counts = dict(scored.groupBy(partition.alias("partition")).agg(F.max(place)).collect())
    if not counts:
        return scored
    partitions = sorted(counts)
    offsets = accumulate((counts[p] for p in partitions), initial=0)
    offset = F.create_map(*(F.lit(v) for p, start in zip(partitions, offsets, strict=False) for v in (p, start)))
    return scored.withColumn(ROW, offset[partition] + place)


def guard_batches(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """mapInArrow's function for CSV output: the local CSV writer's formula guard, on each batch."""
    for batch in batches:
        yield from formula_guarded(pa.Table.from_batches([batch])).to_batches()


def for_csv(frame):
    """Spark's CSV writer takes flat columns only: nested ones are written as JSON text. A text cell that begins
    with =, +, -, @, a tab or a carriage return gets a single quote before it, as the local engine's CSV writer
    does (writers.formula_guarded, run here on the executors), so a spreadsheet shows it rather than runs it.
    mapInArrow keeps each partition's rows in their order, and the partitions in theirs."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import ArrayType, MapType, StructType

    nested = (ArrayType, MapType, StructType)
    flat = frame.select(
        *(F.to_json(f.name).alias(f.name) if isinstance(f.dataType, nested) else F.col(f.name) for f in frame.schema)
    )
    return flat.mapInArrow(guard_batches, flat.schema)


def output_schema(frame, config: BatchConfig, predictions: PredictionColumns) -> pa.Schema:
    """The input's columns (less claim and text if so asked), the predictions, and the bookkeeping columns."""
    from pyspark.sql.pandas.types import to_arrow_schema

    internal = (CORRUPT, ROW)
    kept = [f for f in to_arrow_schema(frame.schema) if f.name not in internal]
    if not config.keep_claim_text:
        kept = [f for f in kept if f.name not in (config.claim_column, config.text_column)]
    kinds = (pa.int64(), pa.string(), pa.string())
    return pa.schema([*kept, *predictions.schema, *zip(BOOKKEEPING, kinds, strict=True)])


def run_spark(config: BatchConfig) -> JobReport:
    from py4j.protocol import Py4JJavaError
    from pyspark.errors import PySparkException

    started = time.perf_counter()
    with output_lock(config.output_path):
        remove_stale_temporaries(config.claim_summaries_path)  # the one file not written by Spark
        config.refuse_existing_outputs()
        model_dir, tag = locate(config.model)
        # Executors find the shipped model folder by its name (SparkFiles); each task slot runs one thread.
        spec = replace(ScorerSpec.of(config, model_dir, tag, threads=config.threads or 1), model_dir=model_dir.name)
        spark = spark_session(config.spark_master, config.spark_conf, config.chunk_rows)
        try:
            counts = score_on_spark(spark, config, spec, model_dir)
        except (PySparkException, Py4JJavaError) as error:
            raise spark_failure(error) from error
    scored_rows, rejected_rows = counts.get(True, 0), counts.get(False, 0)
    progress = Progress(rows_read=scored_rows + rejected_rows, rows_scored=scored_rows, rows_rejected=rejected_rows)
    return JobReport.of(progress, progress.rows_read, time.perf_counter() - started, config)


def score_on_spark(spark, config: BatchConfig, spec: ScorerSpec, model_dir: Path) -> dict[bool, int]:
    """Read, check, score and write the outputs; the count of rows scored (True) and rejected (False)."""
    from pyspark import StorageLevel
    from pyspark.sql import functions as F
    from pyspark.sql.pandas.types import from_arrow_schema

    output_format = config.output_file_format()
    with tempfile.TemporaryDirectory(prefix="claimstance-spark-") as scratch:
        spark.sparkContext.addFile(str(model_dir), recursive=True)
        spark.sparkContext.addPyFile(str(code_archive(Path(scratch))))
        frame = read_input(spark, config)
        check_input_columns(frame, config, spec.columns)
        schema = output_schema(frame, config, spec.columns)
        numbered = with_row_keys(frame)
        slices = max(SLICES_PER_CORE * spark.sparkContext.defaultParallelism, numbered.rdd.getNumPartitions())
        scored = numbered.repartition(slices).mapInArrow(
            lambda batches: score_batches(batches, spec, schema), from_arrow_schema(schema)
        )
        scored = with_input_rows(scored.persist(StorageLevel.DISK_ONLY))
        counts = dict(scored.groupBy(F.col(REJECT_REASON).isNull()).count().collect())
        mode = "overwrite" if config.overwrite else "errorifexists"
        rejects = scored.filter(F.col(REJECT_REASON).isNotNull()).select(
            F.col(ROW).alias("row"), F.col(REJECT_REASON).alias("reason"), F.col(REJECT_INPUT).alias("input")
        )
        rejects.orderBy("row").write.mode(mode).json(str(config.rejects_path))
        good = scored.filter(F.col(REJECT_REASON).isNull()).orderBy(ROW).drop(*BOOKKEEPING)
        if output_format is FileFormat.CSV:
            for_csv(good).write.mode(mode).options(**CSV_OPTIONS).csv(str(config.output_path))
        else:
            writer = good.write.mode(mode).format(SPARK_FORMATS[output_format])
            if output_format is FileFormat.JSONL:
                writer = writer.options(**JSON_WRITE_OPTIONS)
            writer.save(str(config.output_path))
        if config.track:
            good_rows = scored.filter(F.col(REJECT_REASON).isNull())
            lines = claim_summaries(good_rows, TrackColumns.of(config, spec.columns), spec)
            write_claim_summaries(lines, config.claim_summaries_path)
        scored.unpersist()
    return counts


def claim_summaries(scored, columns: TrackColumns, spec: ScorerSpec) -> list[str]:
    """Each claim's summary line, built by the executors from the claim's rows in input order (grouped by claim),
    and returned in the order of each claim's first row: the lines the local engine writes."""

    def one_claim(table: pa.Table) -> pa.Table:
        table = table.sort_by(ROW)
        [(claim, builder)] = summarize([table], columns).items()
        line = claim_summary_line(claim, spec.model_tag, builder)
        return pa.table({"first_row": [table.column(ROW)[0].as_py()], "line": [line]})

    read = [name for name in columns.read() if name in scored.columns]
    grouped = scored.select(*read, ROW).groupBy(columns.claim)
    rows = grouped.applyInArrow(one_claim, "first_row long, line string").collect()
    return [row.line for row in sorted(rows, key=lambda row: row.first_row)]
