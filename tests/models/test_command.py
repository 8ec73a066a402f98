from dataclasses import dataclass, field

import pytest

from models.command import Command


@dataclass
class Flags:
    count: int = field(default=1, metadata={"help": "How many."})
    mode: str = "plain"


def describe(flags: Flags, result: int) -> str:
    return f"did {result} of {flags.count}"


def command(run, **extra) -> Command:
    return Command("job", "Does a job.", "job --count 3", Flags, run, describe, (ValueError,), **extra)


@pytest.mark.parametrize(
    ("outcome", "status", "line"),
    [
        (lambda flags: flags.count * 2, 0, "job: did 6 of 3"),
        (lambda flags: (_ for _ in ()).throw(ValueError("--count 3: too many")), 2, "job: error: --count 3: too many"),
        (lambda flags: (_ for _ in ()).throw(KeyboardInterrupt), 130, "job: interrupted; rerun the same command"),
    ],
)
def test_a_command_ends_with_one_line_and_its_status(outcome, status, line, capsys):
    assert command(outcome).main(["--count", "3"]) == status
    assert capsys.readouterr().err.startswith(line)


def test_an_error_not_refused_is_raised_whole():
    with pytest.raises(KeyError):
        command(lambda flags: {}["missing"]).main([])


def test_help_shows_each_flag_with_its_default_and_ends_with_the_example(capsys):
    with pytest.raises(SystemExit) as stopped:
        command(lambda flags: 0).main(["--help"])
    shown = capsys.readouterr().out
    assert stopped.value.code == 0
    assert shown.startswith("usage: job") and "Does a job." in shown
    assert "How many. (default: 1)" in " ".join(shown.split())
    assert shown.rstrip().endswith("example:\n  job --count 3")


def test_an_unknown_flag_is_status_2_naming_it(capsys):
    with pytest.raises(SystemExit) as stopped:
        command(lambda flags: 0).main(["--cuont", "3"])
    assert stopped.value.code == 2
    assert "unrecognized arguments: --cuont 3" in capsys.readouterr().err


def test_defaults_from_a_first_flag_yield_to_the_flags_given():
    modes = {"fast": {"count": 9}}

    def defaults(first: Flags) -> dict:
        if first.mode not in modes:
            raise ValueError(f"--mode must be one of {', '.join(modes)}")
        return modes[first.mode]

    parsed = command(lambda flags: flags, defaults_from=defaults)
    assert parsed.parse(["--mode", "fast"]).count == 9
    assert parsed.parse(["--mode", "fast", "--count", "2"]).count == 2
    with pytest.raises(SystemExit):
        parsed.parse(["--mode", "slow"])


@dataclass
class Listed:
    name: str = "x"
    sizes: list[int] = field(default_factory=lambda: [1])


def test_flags_fill_the_config_dataclass():
    seen = []
    Command("job", "", "job", Listed, seen.append).main(["--name", "y", "--sizes", "2", "3"])
    assert seen == [Listed(name="y", sizes=[2, 3])]
