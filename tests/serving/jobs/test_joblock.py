"""The lock that keeps a second job off an output: refused with the first named, released however the first ends."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from serving.batch.__main__ import main
from serving.jobs.joblock import holder_path, lock_path, output_lock, read_holder
from serving.jobs.options import JobInputError
from tests.serving.batch.batch_files import good_rows, write_rows

REPO = Path(__file__).resolve().parents[3]
HOLD = """
import sys
import threading
from pathlib import Path
from serving.jobs.joblock import output_lock
with output_lock(Path(sys.argv[1])):
    print("held", flush=True)
    sys.stdin.read()
"""
"""A job that takes the output's lock and holds it until its stdin closes (or it is killed)."""


def holding(output: Path) -> subprocess.Popen:
    job = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(output)],
        cwd=REPO,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert job.stdout.readline() == "held\n"
    return job


def score(model: Path, source: Path, output: Path) -> int:
    return main(["--input", str(source), "--output", str(output), "--model", str(model), "--workers", "1",
                 "--progress", "false"])  # fmt: skip


def test_a_second_job_on_the_same_output_is_refused_with_the_first_named(onnx_model_dir, tmp_path, capsys):
    source, output = write_rows(good_rows(5), tmp_path / "in.jsonl"), tmp_path / "out.jsonl"
    first = holding(output)
    try:
        assert score(onnx_model_dir, source, output) == 2
        error = capsys.readouterr().err.strip()
        assert error.startswith(
            f"claimstance score: error: {output}: another batch job is writing this output (pid {first.pid} on "
            f"{socket.gethostname()}, started "
        )
        assert error.endswith("wait for it to end, or stop it and run this command again to resume its work")
        assert "Traceback" not in error and "\n" not in error
        assert not output.exists() and not (tmp_path / ".out.jsonl.claimstance-work").exists()
    finally:
        first.kill()
        first.wait()


def test_a_killed_jobs_lock_goes_with_it(onnx_model_dir, tmp_path):
    source, output = write_rows(good_rows(5), tmp_path / "in.jsonl"), tmp_path / "out.jsonl"
    first = holding(output)
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert lock_path(output).exists() and holder_path(output).exists()  # left behind, and no obstacle
    assert score(onnx_model_dir, source, output) == 0
    assert sorted(path.name for path in tmp_path.iterdir()) == ["in.jsonl", "out.jsonl", "out.rejects.jsonl"]


def test_the_holder_is_written_beside_the_lock_and_both_removed_at_the_end(tmp_path):
    output = tmp_path / "out.csv"
    with output_lock(output) as holder:
        assert lock_path(output).name == ".out.csv.claimstance-lock"
        assert json.loads(holder_path(output).read_text()) == {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": holder.started,
        }
    assert list(tmp_path.iterdir()) == []


def test_the_lock_is_released_when_the_job_fails(tmp_path):
    output = tmp_path / "out.csv"
    with pytest.raises(JobInputError, match="boom"), output_lock(output):
        raise JobInputError("boom")
    second = holding(output)
    second.kill()
    second.wait()


def test_a_job_that_ended_normally_leaves_the_lock_to_the_next(tmp_path):
    output = tmp_path / "sub" / "out.csv"
    first = holding(output)
    first.stdin.close()
    assert first.wait() == 0
    assert list((tmp_path / "sub").iterdir()) == []
    with output_lock(output):
        pass


def test_a_job_refused_just_as_the_first_takes_the_lock_waits_for_its_name(tmp_path):
    output = tmp_path / "out.csv"
    holder = {"pid": 7, "host": "box", "started": "2026-01-02T03:04:05+00:00"}
    writer = threading.Timer(0.3, lambda: holder_path(output).write_text(json.dumps(holder)))
    writer.start()
    assert read_holder(output) == "pid 7 on box, started 2026-01-02T03:04:05+00:00"
    writer.join()
    never = tmp_path / "never.csv"
    assert read_holder(never, wait_seconds=0.1) == (
        f"its pid, host and start time not yet written to {tmp_path / '.never.csv.claimstance-lock.json'}"
    )
