"""The service's settings: one typed object, read from CLAIMSTANCE_* environment variables.

`bentoml serve` owns the command line, so the service is configured the way BentoML services are,
through the environment; every field below is `CLAIMSTANCE_<FIELD NAME IN CAPITALS>`. pydantic-settings owns the
names, types, defaults, bounds and error messages: a bad value stops start-up with the variable named, a boolean
takes only true/false/1/0/yes/no/on/off, and no count can be zero where zero would crash a worker. A CLAIMSTANCE_*
variable that names no setting stops start-up too, with the nearest setting named: a misspelt limit is not ignored.
"""

from __future__ import annotations

import difflib
import ipaddress
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import SettingsConfigDict

from models.defaults import EMBEDDER_NAME, MODEL_NAME
from models.document_fields import DocumentLimits
from models.runtime import available_cores
from serving.access import ApiKey, KeyRing, keys_from_file
from serving.monitor.database import ENV_PREFIX, DatabaseSettings
from serving.monitor.matching import MatchSettings
from serving.monitor.store import StoreLimits

log = logging.getLogger("bentoml.claimstance")


class SettingsError(ValueError):
    """A CLAIMSTANCE_* variable with a value the service cannot run with; the message names each one."""


class ServiceSettings(DatabaseSettings, DocumentLimits):
    """The input limits (models/document_fields.py: DocumentLimits, CLAIMSTANCE_MAX_CLAIM_CHARS and the rest), where
    the monitor's data lives (serving/monitor/database.py: DatabaseSettings, CLAIMSTANCE_DATA_DIR and the rest) and
    everything else the service is run with."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        frozen=True,
        extra="ignore",
        case_sensitive=False,
        use_attribute_docstrings=True,
    )

    model: str = Field(default=f"{MODEL_NAME}:latest", min_length=1)
    """Model-store tag of the model to serve."""
    runtime: str = Field(default="auto", pattern="^(auto|onnx|torch)$")
    """auto (what the model's build step chose), onnx or torch."""
    workers: int = Field(default=1, ge=1)
    """Worker processes; each loads the model once and takes cores/workers threads."""
    model_copies: int = Field(default=2, ge=1)
    """Copies of the model in a worker, each scoring its own batch at once on threads/model_copies threads
    (CLAIMSTANCE_LANES, its former name, still sets it)."""
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
    """Requests of the large-body routes (/track, /predict_batch, /documents/ingest, /claims/register) read or scored
    at once per worker; more get 503 before their body is read, so memory is bounded by max_large_bodies ×
    max_track_body_bytes × ~3 (docs/service.md)."""
    request_timeout_s: float = Field(default=60.0, gt=0)
    """A request still unanswered after this long is cancelled, its queued work dropped, and answered 503."""
    max_pairs: int = Field(default=256, ge=1)
    """Most pairs in one /predict_batch call."""
    max_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1)
    """The body limit of /predict_batch; /predict takes one pair (`pair_body_bytes`), /track has its own."""
    max_track_documents: int = Field(default=500, ge=1)
    """Most documents in one /track call."""
    max_track_body_bytes: int = Field(default=16 * 1024 * 1024, ge=1)
    """The body limit of /track alone (hundreds of articles); every other route has max_body_bytes."""
    track_batch_documents: int = Field(default=1, ge=1)
    """Documents of a /track call scored per model call: single predictions wait for at most one such batch. One:
    the int8 runtime gives each pair its own forward pass anyway, so larger batches saved little and made a
    /predict wait for four whole articles (p95 0.2 s during a /track call: reports/RESULTS.md)."""
    max_track_queue_ms: float = Field(default=30000.0, gt=0)
    """Latency budget of the tracking queue: past this estimated wait, /track calls get 503."""
    max_track_delay_ms: float = Field(default=100.0, gt=0)
    """Under a steady stream of single predictions, a batch of a /track call still goes at least this often."""
    monitor: bool = True
    """The claim monitor's routes (/claims/*, /documents/*); off, the service needs neither embedder nor database."""
    embedder: str = Field(default=f"{EMBEDDER_NAME}:latest", min_length=1)
    """Model-store tag of the monitor's embedding model (`make embedder` builds it)."""
    match: MatchSettings = MatchSettings()
    """CLAIMSTANCE_MATCH__THRESHOLD, CLAIMSTANCE_MATCH__TOP_K and CLAIMSTANCE_MATCH__APPROXIMATE_FROM
    (serving/monitor/matching.py)."""
    max_ingest_documents: int = Field(default=100, ge=1)
    """Most documents in one /documents/ingest call: each is embedded sentence by sentence and matched before any
    is stored, and a retry of a timed-out call repeats all of it."""
    max_ingest_pairs: int = Field(default=2000, ge=1)
    """Most (document, claim) pairs one /documents/ingest call may have scored: a call whose documents reach more is
    refused whole (413, naming both), as is one the bulk queue could not score within its budget."""
    max_claims_per_call: int = Field(default=1000, ge=1)
    """Most claims registered in one /claims/register call."""
    max_recent_documents: int = Field(default=200, ge=1)
    """Most documents one /documents/recent answer holds."""
    max_listed_claims: int = Field(default=1000, ge=1)
    """Most claims one /claims/list answer holds; `after` pages on from there."""
    max_watched_claims: int = Field(default=100_000, ge=1)
    """Most claims watched at once: registering or watching again past it is refused (409), naming the cap."""
    max_stored_documents: int = Field(default=1_000_000, ge=1)
    """Most documents stored: an ingest that would keep more is refused (409), naming the cap."""
    max_page_documents: int = Field(default=200, ge=1)
    """Most documents one /claims/documents answer holds; `after` pages on from there."""
    max_audit_entries: int = Field(default=200, ge=1)
    """Most writes one /audit/list answer holds; `before` pages on from there."""
    small_body_bytes: int = Field(default=64 * 1024, ge=1024)
    """The body limit of the monitor's small routes (a claim id, a date range, a page's size)."""
    min_body_bytes_per_s: int = Field(default=16 * 1024, ge=0)
    """A body that arrives slower than this, once `body_grace_s` have passed, is cut off with 408 (0: no minimum), so
    a few slow senders cannot hold every large-body slot (`max_large_bodies`)."""
    body_grace_s: float = Field(default=5.0, gt=0)
    """How long a body may take before its rate is checked."""
    refused_body_drain_s: float = Field(default=5.0, ge=0)
    """A refused body (too large, or over `max_large_bodies`) is read and thrown away for up to this long before the
    answer, so a caller still sending reads the refusal instead of a reset connection."""
    database_threads: int = Field(default=4, ge=1)
    """Threads of a worker that wait on the monitor's database: their own pool, so a slow database cannot take the
    threads other routes build their answers on."""
    host: str = "127.0.0.1"
    """The address `make serve` listens on: this machine only, unless set (0.0.0.0: every interface)."""
    allowed_hosts: list[str] = ["localhost", "127.0.0.1"]
    """Host names a request's Host header may name (["*"]: any): a page on another site cannot reach a service on a
    desk's laptop by rebinding its name to 127.0.0.1."""
    api_keys: list[ApiKey] = []
    """API keys, as JSON: `[{"name": "desk", "scope": "write", "key_sha256": "…"}]` (serving/access.py)."""
    api_keys_file: Path | None = None
    """A JSON file of API keys, the same list: where keys belong rather than the environment."""
    access_log: bool = False
    """One log line per request costs ~5% of throughput on two cores; on for debugging."""

    @field_validator("api_keys_file")
    @classmethod
    def readable_keys_file(cls, path: Path | None) -> Path | None:
        if path is not None:
            keys_from_file(path)  # a ValueError naming the file, at start-up
        return path

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> ServiceSettings:
        """Settings from the process environment; every bad value, and every CLAIMSTANCE_* variable that is no
        setting, is named by its variable."""
        if unknown := unknown_variables(environ):
            raise SettingsError("; ".join(unknown))
        try:
            return cls(**former_names(environ))
        except ValidationError as error:
            raise SettingsError("; ".join(named(problem) for problem in error.errors())) from None

    @property
    def key_ring(self) -> KeyRing:
        return KeyRing([*self.api_keys, *(keys_from_file(self.api_keys_file) if self.api_keys_file else [])])

    @property
    def store_limits(self) -> StoreLimits:
        return StoreLimits(self.max_watched_claims, self.max_stored_documents)

    @property
    def listens_beyond_this_machine(self) -> bool:
        try:
            return not ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return self.host != "localhost"

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
    def threads_per_copy(self) -> int:
        return max(1, self.threads_per_worker // self.model_copies)


FORMER_NAMES = {f"{ENV_PREFIX}LANES": "model_copies", f"{ENV_PREFIX}MATCH__READING": "match__cut"}
"""Variables renamed, and the setting each still sets (a nested one by `__`) where its new name is not set itself
(deprecated)."""


def former_names(environ: Mapping[str, str]) -> dict[str, Any]:
    """The settings former variable names set, as keyword arguments: pydantic-settings merges them, nested ones
    too, over what it reads from the environment."""
    upper = {name.upper(): value for name, value in environ.items()}
    settings: dict[str, Any] = {}
    for former, field in FORMER_NAMES.items():
        if former in upper and f"{ENV_PREFIX}{field.upper()}" not in upper:
            log.warning("%s is deprecated: set %s%s instead", former, ENV_PREFIX, field.upper())
            *outer, name = field.split("__")
            place = settings
            for part in outer:
                place = place.setdefault(part, {})
            place[name] = upper[former]
    return settings


def known_variables() -> set[str]:
    """Every CLAIMSTANCE_* variable the settings read: one per field, and one per field of a nested one (MATCH__…)."""
    names = set(FORMER_NAMES)
    for name, info in ServiceSettings.model_fields.items():
        names.add(f"{ENV_PREFIX}{name.upper()}")
        nested = getattr(info.annotation, "model_fields", None)
        names |= {f"{ENV_PREFIX}{name.upper()}__{inner.upper()}" for inner in nested or {}}
    return names


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    known = known_variables()
    unknown = sorted(name for name in environ if name.upper().startswith(ENV_PREFIX) and name.upper() not in known)
    return [
        f"{name}: no such setting" + (f" (did you mean {near[0]}?)" if (near := difflib.get_close_matches(
            name.upper(), known, n=1, cutoff=0.6)) else "")
        for name in unknown
    ]  # fmt: skip


def named(problem: dict) -> str:
    """One validation problem, as the variable the user sets: `CLAIMSTANCE_MODEL_COPIES=0: Input should be >= 1`,
    `CLAIMSTANCE_MATCH__TOP_K=0: …` for a nested one."""
    field = "__".join(str(part) for part in problem["loc"])
    if field.startswith("api_keys__") or field == "api_keys":  # its value holds secrets: the place, not the value
        return f"{ENV_PREFIX}API_KEYS, at {'.'.join(str(part) for part in problem['loc'][1:])}: {problem['msg']}"
    return f"{ENV_PREFIX}{field.upper()}={problem['input']!r}: {problem['msg']}"


SETTINGS = ServiceSettings.from_env()
"""Read once at import: BentoML builds the service (workers, routes, schemas) when the module loads."""
