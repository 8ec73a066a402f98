"""The service's settings: one typed object, read from CLAIMSTANCE_* environment variables.

`bentoml serve` owns the command line, so the service is configured the way BentoML services are,
through the environment; every field below is `CLAIMSTANCE_<FIELD NAME IN CAPITALS>`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields

from models.runtime import available_cores
from models.settings import MAX_CLAIM_CHARS, MAX_EVIDENCE, MAX_TEXT_CHARS, MAX_TITLE_CHARS, MODEL_NAME

ENV_PREFIX = "CLAIMSTANCE_"


@dataclass(frozen=True)
class ServiceSettings:
    model: str = f"{MODEL_NAME}:latest"
    """Model-store tag of the model to serve."""
    runtime: str = "auto"
    """auto (what the model's build step chose), onnx or torch."""
    workers: int = 1
    """Worker processes; each loads the model once and takes cores/workers threads."""
    lanes: int = 2
    """Batches scored at once in a worker, each by its own model copy on threads/lanes threads."""
    threads: int = 0
    """Inference threads per worker (0: the machine's cores divided by the workers)."""
    max_batch_size: int = 64
    """Most pairs scored in one model call; concurrent requests are merged up to this."""
    model_batch_pairs: int = 0
    """Pairs per forward pass within a merged batch (0: the runtime's default, models.runtime.default_batch_size:
    1 for int8, so that an answer never depends on the requests it was batched with)."""
    batch_wait_ms: float = 0.0
    """How long a batch waits for more requests once the model is free (0: go at once, batch only what queued
    while the model was busy)."""
    max_queue_ms: float = 2000.0
    """Latency budget of the queue: past this estimated wait, requests get 503 instead of waiting."""
    max_concurrency: int = 256
    """Requests in flight per service; more get 429."""
    max_pairs: int = 256
    """Most pairs in one /predict_batch call."""
    max_claim_chars: int = MAX_CLAIM_CHARS
    max_text_chars: int = MAX_TEXT_CHARS
    max_title_chars: int = MAX_TITLE_CHARS
    max_evidence: int = MAX_EVIDENCE
    """Sentences of a long text read against the claim and shown as its evidence."""
    max_body_bytes: int = 4 * 1024 * 1024
    max_track_documents: int = 500
    """Most documents in one /track call."""
    max_track_body_bytes: int = 16 * 1024 * 1024
    """The body limit of /track alone (hundreds of articles); every other route has max_body_bytes."""
    track_batch_documents: int = 4
    """Documents of a /track call scored per model call: single predictions wait for at most one such batch."""
    max_track_queue_ms: float = 30000.0
    """Latency budget of the tracking queue: past this estimated wait, /track calls get 503."""
    max_track_delay_ms: float = 250.0
    """Under a steady stream of single predictions, a batch of a /track call still goes at least this often."""
    max_source_chars: int = 500
    max_url_chars: int = 2048
    access_log: bool = False
    """One log line per request costs ~5% of throughput on two cores; on for debugging."""

    def __post_init__(self) -> None:
        for name in (
            "max_evidence",
            "max_pairs",
            "max_claim_chars",
            "max_text_chars",
            "max_title_chars",
            "max_body_bytes",
            "max_track_documents",
            "max_track_body_bytes",
            "track_batch_documents",
            "max_source_chars",
            "max_url_chars",
            "max_track_queue_ms",
            "max_track_delay_ms",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"{ENV_PREFIX}{name.upper()} must be at least 1, got {getattr(self, name)}")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> ServiceSettings:
        """Settings with each field overridden by its CLAIMSTANCE_* variable; a bad value names the variable."""
        environ = os.environ if environ is None else environ
        values = {}
        for spec in fields(cls):
            name = ENV_PREFIX + spec.name.upper()
            if name not in environ:
                continue
            raw = environ[name]
            kind = type(getattr(cls, spec.name))
            try:
                values[spec.name] = raw.lower() in ("1", "true", "yes", "on") if kind is bool else kind(raw)
            except ValueError as error:
                raise ValueError(f"{name}={raw!r} is not a valid {kind.__name__}") from error
        return cls(**values)

    @property
    def threads_per_worker(self) -> int:
        return self.threads or max(1, available_cores() // self.workers)

    @property
    def threads_per_lane(self) -> int:
        return max(1, self.threads_per_worker // self.lanes)


SETTINGS = ServiceSettings.from_env()
"""Read once at import: BentoML builds the service (workers, routes, schemas) when the module loads."""
