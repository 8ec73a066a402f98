"""The flags and errors every file job shares (the batch job, `make monitor`): the engine, the Spark master and
settings, and the one error a job stops on with its cause named."""

from __future__ import annotations

from dataclasses import field
from enum import StrEnum
from typing import Any


class Engine(StrEnum):
    LOCAL = "local"
    SPARK = "spark"


class JobInputError(ValueError):
    """The job cannot start or go on: a missing or unreadable file, a bad header, bad arguments."""


def spark_master_field() -> Any:
    """--spark_master, as every command with a Spark engine takes it (the batch job, make monitor)."""
    return field(default="local[*]", metadata={"help": "Spark master URL for --engine spark."})


def spark_conf_field() -> Any:
    """--spark_conf, as every command with a Spark engine takes it; checked by check_spark_conf."""
    return field(
        default_factory=list, metadata={"help": "More Spark settings, as KEY=VALUE (e.g. spark.executor.memory=4g)."}
    )


def check_spark_conf(conf: list[str]) -> None:
    """--spark_conf settings are KEY=VALUE: one that is not is refused by name, before Spark starts."""
    for setting in conf:
        if "=" not in setting:
            raise JobInputError(f"--spark_conf {setting!r}: write it as KEY=VALUE")
