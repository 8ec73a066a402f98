"""The one way the serving side's commands (the batch job, `make monitor`, `make rescore`) start and end: flags
parsed into their config dataclass, the job run, and one line on stderr that says what it did, or why it stopped
with the exit status a script can test: 2 for bad input, 130 when interrupted (rerunning resumes)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import TypeVar

from transformers import HfArgumentParser

Config = TypeVar("Config")
Result = TypeVar("Result")


def run_command(
    name: str,
    config_class: type[Config],
    run: Callable[[Config], Result],
    describe: Callable[[Config, Result], str],
    refused: tuple[type[Exception], ...],
    argv: list[str] | None = None,
) -> int:
    """`refused`: the errors that are the input's or the environment's fault, printed as one line, not a trace."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        (config,) = HfArgumentParser(config_class).parse_args_into_dataclasses(argv)
        result = run(config)
    except refused as error:
        print(f"{name}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{name}: interrupted; rerun the same command to resume", file=sys.stderr)
        return 130
    print(f"{name}: {describe(config, result)}", file=sys.stderr)
    return 0
