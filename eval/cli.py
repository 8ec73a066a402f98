"""The one way eval commands start: parse their config dataclass from the command line, log, run."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from transformers import HfArgumentParser

Config = TypeVar("Config")


def run_from_cli(config_class: type[Config], run: Callable[[Config], object]) -> None:
    """Every field of `config_class` is a flag (`--help` lists them)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per readiness poll is noise
    (config,) = HfArgumentParser(config_class).parse_args_into_dataclasses()
    run(config)
