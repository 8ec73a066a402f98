"""The service's settings: one typed object, read from CLAIMSTANCE_* environment variables.

`bentoml serve` owns the command line, so the service is configured the way BentoML services are,
through the environment; every field below is `CLAIMSTANCE_<FIELD NAME IN CAPITALS>`. pydantic-settings owns the
names, types, defaults, bounds and error messages: a bad value stops start-up with the variable named, a boolean
takes only true/false/1/0/yes/no/on/off, and no count can be zero where zero would crash a worker.
"""

from __future__ import annotations

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from models.defaults import EMBEDDER_NAME, MODEL_NAME
from models.pair import InputLimits
from models.runtime import available_cores
from serving.monitor.database import DEFAULT_DATABASE_URL
from serving.monitor.matching import MatchSettings

ENV_PREFIX = "CLAIMSTANCE_"


class SettingsError(ValueError):
    """A CLAIMSTANCE_* variable with a value the service cannot run with; the message names each one."""


class ServiceSettings(BaseSettings, InputLimits):
    """The input limits (models/pair.py: InputLimits, CLAIMSTANCE_MAX_CLAIM_CHARS and the rest) and everything
    else the service is run with."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", frozen=True, extra="ignore", case_sensitive=False
    )

    model: str = Field(default=f"{MODEL_NAME}:latest", min_length=1)
    """Model-store tag of the model to serve."""
    runtime: str = Field(default="auto", pattern="^(auto|onnx|torch)$")
    """auto (what the model's build step chose), onnx or torch."""
    workers: int = Field(default=1, ge=1)
    """Worker processes; each loads the model once and takes cores/workers threads."""
    lanes: int = Field(default=2, ge=1)
    """Batches scored at once in a worker, each by its own model copy on threads/lanes threads."""
    threads: int = Field(default=0, ge=0)
    """Inference threads per worker (0: the machine's cores divided by the workers)."""
    max_batch_size: int = Field(default=64, ge=1)
    """Most pairs scored in one model call; concurrent requests are merged up to this."""
    model_batch_pairs: int = Field(default=0, ge=0)
    """Pairs per forward pass within a merged batch (0: the runtime's default, models.runtime.default_batch_size:
    1 for int8, so that an answer never depends on the requests it was batched with)."""
    batch_wait_ms: float = Field(default=0.0, ge=0)
    """How long a batch waits for more requests once the model is free (0: go at once, batch only what queued
    while the model was busy)."""
    max_queue_ms: float = Field(default=2000.0, gt=0)
    """Latency budget of the queue: past this estimated wait, requests get 503 instead of waiting."""
    max_concurrency: int = Field(default=256, ge=1)
    """Requests in flight per service; more get 429."""
    max_large_bodies: int = Field(default=4, ge=1)
    """Requests of the large-body routes (/track, /predict_batch) read or scored at once per worker; more get 503
    before their body is read, so memory is bounded by max_large_bodies × max_track_body_bytes × ~3 (README,
    Reliability)."""
    request_timeout_s: float = Field(default=60.0, gt=0)
    """A request still unanswered after this long is cancelled, its queued work dropped, and answered 503."""
    max_pairs: int = Field(default=256, ge=1)
    """Most pairs in one /predict_batch call."""
    max_id_chars: int = Field(default=256, ge=1)
    """Ids are echoed back in answers: a caller's key, not a document."""
    max_published_chars: int = Field(default=64, ge=1)
    """An ISO 8601 date or date-time fits in 35 characters; the rest is room for odd but honest formats."""
    max_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1)
    """The body limit of /predict_batch; /predict takes one pair (`pair_body_bytes`), /track has its own."""
    max_track_documents: int = Field(default=500, ge=1)
    """Most documents in one /track call."""
    max_track_body_bytes: int = Field(default=16 * 1024 * 1024, ge=1)
    """The body limit of /track alone (hundreds of articles); every other route has max_body_bytes."""
    track_batch_documents: int = Field(default=1, ge=1)
    """Documents of a /track call scored per model call: single predictions wait for at most one such batch. One:
    the int8 runtime gives each pair its own forward pass anyway, so larger batches saved little and made a
    /predict wait for four whole articles (p95 0.2 s during a /track call: README, Claim tracker benchmark)."""
    max_track_queue_ms: float = Field(default=30000.0, gt=0)
    """Latency budget of the tracking queue: past this estimated wait, /track calls get 503."""
    max_track_delay_ms: float = Field(default=100.0, gt=0)
    """Under a steady stream of single predictions, a batch of a /track call still goes at least this often."""
    max_source_chars: int = Field(default=500, ge=1)
    max_url_chars: int = Field(default=2048, ge=1)
    monitor: bool = True
    """The claim monitor's routes (/claims/*, /documents/*); off, the service needs neither embedder nor database."""
    embedder: str = Field(default=f"{EMBEDDER_NAME}:latest", min_length=1)
    """Model-store tag of the monitor's embedding model (`make embedder` builds it)."""
    database_url: str = Field(default=DEFAULT_DATABASE_URL, min_length=1)
    """The monitor's database, as a SQLAlchemy URL: a SQLite file by default; `postgresql+psycopg://user:password@host/db`
    for a server (serving/monitor/database.py)."""
    match: MatchSettings = MatchSettings()
    """CLAIMSTANCE_MATCH__THRESHOLD, CLAIMSTANCE_MATCH__TOP_K and CLAIMSTANCE_MATCH__APPROXIMATE_FROM
    (serving/monitor/matching.py)."""
    max_ingest_documents: int = Field(default=100, ge=1)
    """Most documents in one /documents/ingest call: each is embedded sentence by sentence and matched before any
    is stored, and a retry of a timed-out call repeats all of it."""
    max_claims_per_call: int = Field(default=1000, ge=1)
    """Most claims registered in one /claims/register call."""
    max_recent_documents: int = Field(default=200, ge=1)
    max_listed_claims: int = Field(default=1000, ge=1)
    """Most claims one /claims/list answer holds; `after` pages on from there."""
    access_log: bool = False
    """One log line per request costs ~5% of throughput on two cores; on for debugging."""

    @classmethod
    def from_env(cls) -> ServiceSettings:
        """Settings from the process environment; every bad value is named by its variable."""
        try:
            return cls()
        except ValidationError as error:
            raise SettingsError("; ".join(named(problem) for problem in error.errors())) from None

    @property
    def pair_body_bytes(self) -> int:
        """The body limit of /predict: one pair at its character limits, every character a 6-byte JSON escape
        (`\\uXXXX`), and room for the keys. Much under max_body_bytes, so that 256 concurrent calls stay small."""
        characters = self.max_claim_chars + self.max_text_chars + self.max_title_chars + self.max_id_chars
        return 6 * characters + 1024

    @property
    def threads_per_worker(self) -> int:
        return self.threads or max(1, available_cores() // self.workers)

    @property
    def threads_per_lane(self) -> int:
        return max(1, self.threads_per_worker // self.lanes)


def named(problem: dict) -> str:
    """One validation problem, as the variable the user sets: `CLAIMSTANCE_LANES=0: Input should be >= 1`,
    `CLAIMSTANCE_MATCH__TOP_K=0: …` for a nested one."""
    field = "__".join(str(part) for part in problem["loc"])
    return f"{ENV_PREFIX}{field.upper()}={problem['input']!r}: {problem['msg']}"


SETTINGS = ServiceSettings.from_env()
"""Read once at import: BentoML builds the service (workers, routes, schemas) when the module loads."""
