from dataclasses import dataclass

import pytest

from serving.command import run_command


@dataclass
class Flags:
    count: int = 1


def describe(flags: Flags, result: int) -> str:
    return f"did {result} of {flags.count}"


@pytest.mark.parametrize(
    ("outcome", "status", "line"),
    [
        (lambda flags: flags.count * 2, 0, "job: did 6 of 3"),
        (lambda flags: (_ for _ in ()).throw(ValueError("--count 3: too many")), 2, "job: error: --count 3: too many"),
        (lambda flags: (_ for _ in ()).throw(KeyboardInterrupt), 130, "job: interrupted; rerun the same command"),
    ],
)
def test_a_command_ends_with_one_line_and_its_status(outcome, status, line, capsys):
    assert run_command("job", Flags, outcome, describe, (ValueError,), ["--count", "3"]) == status
    assert capsys.readouterr().err.startswith(line)


def test_an_error_not_refused_is_raised_whole():
    with pytest.raises(KeyError):
        run_command("job", Flags, lambda flags: {}["missing"], describe, (ValueError,), [])
