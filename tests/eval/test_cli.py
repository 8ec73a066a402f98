import sys
from dataclasses import dataclass, field

from eval.cli import run_from_cli


@dataclass
class Example:
    name: str = "x"
    sizes: list[int] = field(default_factory=lambda: [1])


def test_flags_fill_the_config_dataclass(monkeypatch):
    seen = []
    monkeypatch.setattr(sys, "argv", ["prog", "--name", "y", "--sizes", "2", "3"])
    run_from_cli(Example, seen.append)
    assert seen == [Example(name="y", sizes=[2, 3])]
