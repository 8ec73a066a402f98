"""The job report: rows read, scored and rejected, and the throughput of this run."""

from __future__ import annotations

from dataclasses import dataclass

from serving.batch.config import BatchConfig
from serving.batch.workdir import Progress


@dataclass(frozen=True)
class JobReport:
    rows_read: int
    rows_scored: int
    rows_rejected: int
    rows_this_run: int
    """Rows read by this run; fewer than rows_read where it resumed an earlier one."""
    seconds: float
    output: str
    rejects: str
    claim_summaries: str | None = None
    """Where --track wrote the claims' summaries."""

    @classmethod
    def of(cls, progress: Progress, rows_this_run: int, seconds: float, config: BatchConfig) -> JobReport:
        return cls(
            progress.rows_read,
            progress.rows_scored,
            progress.rows_rejected,
            rows_this_run,
            seconds,
            str(config.output_path),
            str(config.rejects_path),
            str(config.claim_summaries_path) if config.track else None,
        )

    @property
    def rows_per_second(self) -> float:
        return self.rows_this_run / self.seconds if self.seconds else 0.0

    def describe(self) -> str:
        resumed = f" ({self.rows_this_run:,} by this run)" if self.rows_this_run != self.rows_read else ""
        summaries = f"claim summaries -> {self.claim_summaries}; " if self.claim_summaries else ""
        return (
            f"read {self.rows_read:,} rows{resumed}: {self.rows_scored:,} scored -> {self.output}, "
            f"{self.rows_rejected:,} rejected -> {self.rejects}; {summaries}"
            f"{self.seconds:.1f} s, {self.rows_per_second:,.1f} rows/s"
        )
