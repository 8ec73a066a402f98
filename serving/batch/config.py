"""The batch job's arguments: one typed dataclass, every field a command-line flag (`--help` lists them)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, make_dataclass
from enum import StrEnum
from pathlib import Path

from pydantic import ValidationError

from models.defaults import MODEL_NAME
from models.document_fields import DETAIL_FIELDS, DocumentDetails, SentDocument, field_description
from models.pair import DEFAULT_LIMITS, InputLimits
from serving.jobs.options import Engine, JobInputError, check_spark_conf, spark_conf_field, spark_master_field


class FileFormat(StrEnum):
    JSONL = "jsonl"
    CSV = "csv"
    PARQUET = "parquet"


EXTENSIONS = {".jsonl": FileFormat.JSONL, ".json": FileFormat.JSONL, ".ndjson": FileFormat.JSONL}
EXTENSIONS |= {".csv": FileFormat.CSV, ".parquet": FileFormat.PARQUET, ".pq": FileFormat.PARQUET}


def file_format(path: Path, flag: str | None, role: str) -> FileFormat:
    """The format named by the flag, else the one the file name's extension says."""
    if flag:
        try:
            return FileFormat(flag.lower())
        except ValueError:
            raise JobInputError(f"--{role}_format {flag!r}: use one of {', '.join(FileFormat)}") from None
    found = EXTENSIONS.get(path.suffix.lower())
    if found is None:
        raise JobInputError(
            f"{path}: cannot tell the {role} format from the extension {path.suffix!r}; "
            f"use {', '.join(EXTENSIONS)} or pass --{role}_format ({', '.join(FileFormat)})"
        )
    return found


def detail_column_flags() -> type:
    """A `--<detail>_column` flag for each detail of a document but its title (models/document_fields.py), each
    defaulting to the detail's own name: `--track` reads them. The title is read by the model: `--title_column`."""
    described = {field.name: field_description(SentDocument, field.name) for field in fields(DocumentDetails)}
    flags = [
        (f"{name}_column", str, field(default=name, metadata={"help": f"--track: the column of each document's {name} "
                                                                       f"(all but the id may be absent). {about}"}))
        for name, about in described.items()
        if name != "title"
    ]  # fmt: skip
    return make_dataclass("DetailColumns", flags, kw_only=True)


DetailColumns = detail_column_flags()


@dataclass
class BatchConfig(DetailColumns):
    input: str = field(
        metadata={"help": "File of (claim, text) rows: .jsonl, .csv or .parquet (Spark: also a folder)."}
    )
    output: str = field(metadata={"help": "Where the scored rows go; written whole at the end, never half."})
    input_format: str | None = field(default=None, metadata={"help": "jsonl, csv or parquet (default: by extension)."})
    output_format: str | None = field(default=None, metadata={"help": "jsonl, csv or parquet (default: by extension)."})
    claim_column: str = field(default="claim", metadata={"help": "The column of the claims."})
    text_column: str = field(default="text", metadata={"help": "The column of the texts read against them."})
    title_column: str | None = field(
        default=None,
        metadata={
            "help": "A column of the texts' headlines, read as one more sentence before each text (a null or "
            "empty title: none). Default: no titles, so that a column that happens to be called title is not "
            "read as one."
        },
    )
    model: str = field(default=f"{MODEL_NAME}:latest", metadata={"help": "Model-store tag or saved model folder."})
    runtime: str = field(default="auto", metadata={"help": "auto (the model's build-step choice), onnx or torch."})
    engine: Engine = field(default=Engine.LOCAL, metadata={"help": "local (this machine) or spark."})
    spark_master: str = spark_master_field()
    spark_conf: list[str] = spark_conf_field()
    workers: int = field(default=0, metadata={"help": "Scoring processes, each one model copy (0: one per core)."})
    threads: int = field(default=0, metadata={"help": "Inference threads per process (0: cores / workers)."})
    batch_size: int = field(
        default=0,
        metadata={
            "help": "Pairs per forward pass (0: the runtime's default, 1 for int8 so scores never depend on "
            "neighbouring rows)."
        },
    )
    chunk_rows: int = field(default=2048, metadata={"help": "Rows read, scored and committed together."})
    rejects: str | None = field(default=None, metadata={"help": "Rejected rows file (default: OUTPUT.rejects.jsonl)."})
    keep_claim_text: bool = field(default=True, metadata={"help": "Copy the claim and text columns to the output."})
    overwrite: bool = field(default=False, metadata={"help": "Replace an existing output file."})
    max_claim_chars: int = field(default=DEFAULT_LIMITS.max_claim_chars, metadata={"help": "A longer claim: a reject."})
    max_text_chars: int = field(default=DEFAULT_LIMITS.max_text_chars, metadata={"help": "A longer text: a reject."})
    max_title_chars: int = field(default=DEFAULT_LIMITS.max_title_chars, metadata={"help": "A longer title: a reject."})
    max_evidence: int = field(
        default=DEFAULT_LIMITS.max_evidence,
        metadata={"help": "Sentences of a long text read against the claim and shown as its evidence."},
    )
    progress: bool = field(default=True, metadata={"help": "Show a progress bar (rows/s, ETA) on stderr."})
    track: bool = field(
        default=False,
        metadata={
            "help": "Track each claim across its documents (make track): besides the scored rows, write one summary "
            "per claim to --claim_summaries, with the fields of POST /track's summary."
        },
    )
    claim_summaries: str | None = field(
        default=None,
        metadata={"help": "Where --track writes the claims' summaries (default: OUTPUT.claim_summaries.jsonl)."},
    )

    def __post_init__(self) -> None:
        self.engine = Engine(self.engine)
        if self.chunk_rows < 1:
            raise JobInputError(f"--chunk_rows must be at least 1, got {self.chunk_rows}")
        self.limits  # noqa: B018 (checks the limits' flags)
        for name in ("workers", "threads", "batch_size"):
            if getattr(self, name) < 0:
                raise JobInputError(f"--{name} must be 0 (automatic) or more, got {getattr(self, name)}")
        check_spark_conf(self.spark_conf)
        columns = {"claim": self.claim_column, "text": self.text_column}
        if self.title_column:
            columns["title"] = self.title_column
        if self.track and not self.keep_claim_text:
            raise JobInputError("--track groups the output's rows by claim: it needs --keep_claim_text true")
        if len(set(columns.values())) < len(columns):
            named = ", ".join(f"--{role}_column {name!r}" for role, name in columns.items())
            raise JobInputError(f"the claim, text and title columns must differ: {named}")

    @property
    def detail_columns(self) -> dict[str, str | None]:
        """Each of a document's details with the column that holds it (the title's: None without --title_column)."""
        return {name: getattr(self, f"{name}_column") for name in DETAIL_FIELDS}

    @property
    def limits(self) -> InputLimits:
        """The limits a row is held to, checked where they are declared (models/pair.py)."""
        try:
            return InputLimits(**{name: getattr(self, name) for name in InputLimits.model_fields})
        except ValidationError as error:
            problem = error.errors()[0]
            raise JobInputError(f"--{problem['loc'][0]} {problem['input']!r}: {problem['msg']}") from None

    @property
    def input_path(self) -> Path:
        return Path(self.input)

    @property
    def output_path(self) -> Path:
        return Path(self.output)

    @property
    def rejects_path(self) -> Path:
        if self.rejects:
            return Path(self.rejects)
        out = self.output_path
        return out.with_name(f"{out.stem if out.suffix else out.name}.rejects.jsonl")

    @property
    def claim_summaries_path(self) -> Path:
        if self.claim_summaries:
            return Path(self.claim_summaries)
        out = self.output_path
        return out.with_name(f"{out.stem if out.suffix else out.name}.claim_summaries.jsonl")

    @property
    def output_paths(self) -> tuple[Path, ...]:
        """Every file the job writes: the output, the rejects and, when tracking, the claims' summaries."""
        return (self.output_path, self.rejects_path, *([self.claim_summaries_path] if self.track else []))

    def refuse_existing_outputs(self) -> None:
        """An output, rejects or claim summaries file already there is replaced only with --overwrite."""
        for path in self.output_paths:
            if path.exists() and not self.overwrite:
                raise JobInputError(f"{path} exists; pass --overwrite to replace it")

    def input_file_format(self) -> FileFormat:
        return file_format(self.input_path, self.input_format, "input")

    def output_file_format(self) -> FileFormat:
        return file_format(self.output_path, self.output_format, "output")
