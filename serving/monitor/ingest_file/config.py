"""`make monitor`'s arguments, its progress file, and the store and models it opens."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from models.defaults import EMBEDDER_NAME, MODEL_NAME
from models.embedding import SentenceEmbedder
from models.predictor import StancePredictor
from models.registry import locate
from serving.jobs.options import Engine, check_spark_conf, spark_conf_field, spark_master_field
from serving.monitor.database import DatabaseSettings, database_settings
from serving.monitor.store import MonitorStore
from serving.settings import SETTINGS


@dataclass
class MonitorFileConfig:
    input: str = field(metadata={"help": "JSONL of documents: id and text, title, source, url, published optional."})
    rejects: str = field(
        default="", metadata={"help": "Where rejected lines go (default: INPUT.monitor_rejects.jsonl)."}
    )
    database_url: str = field(
        default="", metadata={"help": "The monitor's database (default: CLAIMSTANCE_DATABASE_URL, as the service)."}
    )
    model: str = field(default=f"{MODEL_NAME}:latest", metadata={"help": "Stance model: store tag or folder."})
    embedder: str = field(default=f"{EMBEDDER_NAME}:latest", metadata={"help": "Embedding model: store tag or folder."})
    chunk_documents: int = field(default=64, metadata={"help": "Lines ingested, and committed, at a time."})
    threads: int = field(default=0, metadata={"help": "Inference threads (0: all cores; on Spark, 1 a task)."})
    engine: Engine = field(
        default=Engine.LOCAL,
        metadata={"help": "local (this machine) or spark (matching and stance on the executors, stored once here)."},
    )
    spark_master: str = spark_master_field()
    spark_conf: list[str] = spark_conf_field()

    def __post_init__(self) -> None:
        self.engine = Engine(self.engine)
        check_spark_conf(self.spark_conf)

    @property
    def database(self) -> DatabaseSettings:
        """The service's database settings (CLAIMSTANCE_DATA_DIR, CLAIMSTANCE_DATABASE_URL and its timeouts), the
        URL the flag gives instead where it gives one."""
        return database_settings(self.database_url)

    @property
    def rejects_path(self) -> Path:
        return Path(self.rejects or f"{self.input}.monitor_rejects.jsonl")

    @property
    def progress_path(self) -> Path:
        return self.rejects_path.with_name(self.rejects_path.name + ".progress.json")


@dataclass
class FileProgress:
    job: dict
    chunks_done: int = 0
    rejects_bytes: int = 0
    stored: int = 0
    already_stored: int = 0
    rejected: int = 0
    answers: int = 0

    def describe(self) -> str:
        return (
            f"{self.stored} documents stored, {self.already_stored} already stored, {self.rejected} rejected, "
            f"{self.answers} answers"
        )


def open_store(config: MonitorFileConfig) -> MonitorStore:
    embedder = SentenceEmbedder.served(*locate(config.embedder), config.threads or None)
    database = config.database
    return MonitorStore(database.url, embedder, SETTINGS.match, SETTINGS.store_limits, database)


def open_predictor(config: MonitorFileConfig) -> StancePredictor:
    return StancePredictor.served(*locate(config.model), config.threads or None)
