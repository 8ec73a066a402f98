"""The one way every command of the project starts and ends (`claimstance <command>`, or `python -m <module>`).

Its flags are one config dataclass's fields, parsed by transformers' HfArgumentParser as the training scripts of
the field are; `--help` lists each with its default and ends with an example. A command stops with an exit status a
script can test: 0 done, 2 bad input (argparse's own for an unknown or malformed flag, naming it; one line naming the
problem for an input the job refuses), 130 interrupted (a job that commits its work resumes when rerun).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from transformers import HfArgumentParser

Config = TypeVar("Config")
Result = TypeVar("Result")

BAD_INPUT = 2
INTERRUPTED = 130


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Each flag's default beside its help; the description and the example as written."""


@dataclass(frozen=True)
class Command(Generic[Config, Result]):
    """A command: its name as typed (`claimstance score`), what it does, one example, and its job."""

    name: str
    about: str
    example: str
    config_class: type[Config]
    run: Callable[[Config], Result]
    describe: Callable[[Config, Result], str] | None = None
    """The one line printed on stderr when the job is done (None: the job logs its own)."""
    refused: tuple[type[Exception], ...] = ()
    """The errors that are the input's or the environment's fault: one line and status 2, not a trace."""
    defaults_from: Callable[[Config], dict[str, Any]] | None = None
    """Defaults that depend on one flag (a training recipe's): read from a first parse, given before the real one, so
    that the flags the user gives still win. A ValueError is a bad flag."""

    def parser(self) -> HfArgumentParser:
        return HfArgumentParser(
            self.config_class,
            prog=self.name,
            description=self.about,
            epilog=f"example:\n  {self.example}",
            formatter_class=HelpFormatter,
        )

    def parse(self, argv: list[str] | None = None) -> Config:
        parser = self.parser()
        if self.defaults_from is not None:
            (first,) = parser.parse_args_into_dataclasses(args=argv, return_remaining_strings=True)[:1]
            try:
                parser.set_defaults(**self.defaults_from(first))
            except ValueError as error:
                parser.error(str(error))
        config, unknown = parser.parse_args_into_dataclasses(args=argv, return_remaining_strings=True)
        if unknown:
            parser.error(f"unrecognized arguments: {' '.join(unknown)}")
        return config

    def main(self, argv: list[str] | None = None) -> int:
        """Parse, run, and say how it ended: the exit status."""
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
        logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per readiness poll is noise
        try:
            config = self.parse(argv)
            result = self.run(config)
        except self.refused as error:
            print(f"{self.name}: error: {error}", file=sys.stderr)
            return BAD_INPUT
        except KeyboardInterrupt:
            print(f"{self.name}: interrupted; rerun the same command to resume", file=sys.stderr)
            return INTERRUPTED
        if self.describe is not None:
            print(f"{self.name}: {self.describe(config, result)}", file=sys.stderr)
        return 0


def first_paragraph(doc: str | None) -> str:
    """A module's docstring up to its first blank line: a command's `--help` description."""
    return (doc or "").strip().split("\n\n")[0]


def exit_with(command: Command[Any, Any]) -> None:
    """A module's `if __name__ == "__main__"`: run the command and exit with its status."""
    sys.exit(command.main())
