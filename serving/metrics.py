"""The service's own Prometheus metrics, beside BentoML's at /metrics."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

PREDICTIONS = Counter("claimstance_predictions", "Pairs answered, by predicted label.", ["label"])
BATCH_SIZE = Histogram("claimstance_batch_pairs", "Pairs per model call.", buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256))
BATCH_SECONDS = Histogram(
    "claimstance_batch_seconds",
    "Model time per batch, tokenization included.",
    buckets=(0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0),
)
QUEUED = Gauge("claimstance_queued_items", "Items waiting for a model copy, by queue.", ["queue"])


def count_queued(single: int, bulk: int) -> None:
    QUEUED.labels("predict").set(single)
    QUEUED.labels("track").set(bulk)
