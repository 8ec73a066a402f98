"""The `claimstance` command, as installed by `pip install -e .` (make setup): each subcommand starts its module."""

from __future__ import annotations

import importlib
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from serving.cli import BENCHMARKS, JOBS, main

CLAIMSTANCE = Path(sys.executable).with_name("claimstance")
pytestmark = pytest.mark.skipif(not CLAIMSTANCE.exists(), reason="the command is not installed (make setup)")


def claimstance(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CLAIMSTANCE), *args], capture_output=True, text=True, timeout=120)


def test_help_lists_every_command():
    shown = claimstance("--help")
    assert shown.returncode == 0
    for name in (*JOBS, "bench"):
        assert f"  {name} " in shown.stdout, name


def test_each_command_and_benchmark_is_its_modules_command():
    """Each subcommand's module names itself as the subcommand (its usage line and example)."""
    runner = CliRunner()
    assert runner.invoke(main, ["bench", "--help"]).exit_code == 0
    for group, jobs in (("", JOBS), ("bench ", BENCHMARKS)):
        for name, job in jobs.items():
            package = importlib.util.find_spec(job.module).submodule_search_locations is not None
            module = importlib.import_module(f"{job.module}.__main__" if package else job.module)
            command = module.COMMANDS[job.args[0]] if job.args else module.COMMAND  # one module, several commands
            assert command.name == f"claimstance {group}{name}", job.module
            assert command.example.startswith(f"claimstance {group}{name}"), job.module


@pytest.mark.parametrize("name", sorted(JOBS))
def test_a_commands_help_shows_its_flags_defaults_and_an_example(name):
    shown = claimstance(name, "--help")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith(f"usage: claimstance {name}")
    assert "(default:" in shown.stdout
    assert f"example:\n  claimstance {name}" in shown.stdout


def test_a_bad_flag_is_named_with_status_2():
    stopped = claimstance("score", "--input", "a.jsonl", "--output", "b.jsonl", "--bogus", "1")
    assert stopped.returncode == 2
    assert "claimstance score: error: unrecognized arguments: --bogus 1" in stopped.stderr


def test_a_job_the_input_stops_ends_with_one_line_and_status_2(tmp_path):
    paths = ["--input", str(tmp_path / "in.jsonl"), "--output", str(tmp_path / "out.jsonl")]
    stopped = claimstance("score", *paths, "--model", str(tmp_path / "no-such-model"))
    assert stopped.returncode == 2
    assert stopped.stderr.strip().splitlines() == [stopped.stderr.strip()]
    assert stopped.stderr.startswith("claimstance score: error:") and "no-such-model" in stopped.stderr


def test_serve_names_a_model_the_store_does_not_hold():
    stopped = claimstance("serve", "--model", "claimstance:nosuchversion")
    assert stopped.returncode == 2
    assert "claimstance:nosuchversion is not in the model store: make model" in stopped.stderr


def test_an_unknown_command_is_status_2():
    assert claimstance("nosuchcommand").returncode == 2
