import sys
import time

import pytest

from eval.harness.server_process import start_server


def test_a_server_that_exits_raises_with_its_log(tmp_path):
    command = [sys.executable, "-c", "import sys; print('boom: no model'); sys.exit(3)"]
    with pytest.raises(RuntimeError, match=r"exited with 3:\nboom: no model"):
        start_server(command, "http://127.0.0.1:9", {}, tmp_path / "log.txt", ready_within=30)


def test_a_server_never_ready_is_stopped_and_raises(tmp_path):
    command = [sys.executable, "-c", "import time; time.sleep(60)"]
    with pytest.raises(RuntimeError, match="not ready after 1 s"):
        start_server(command, "http://127.0.0.1:9", {}, tmp_path / "log.txt", ready_within=1)


def test_without_waiting_the_process_is_returned_running(tmp_path):
    command = [sys.executable, "-c", "import os, time; print(os.environ['MARK'], flush=True); time.sleep(60)"]
    with start_server(
        command, "http://127.0.0.1:9", {"MARK": "set"}, tmp_path / "log.txt", ready_within=None
    ) as server:
        assert server.process.poll() is None
        deadline = time.monotonic() + 20
        while "set" not in server.log_text() and time.monotonic() < deadline:
            time.sleep(0.1)
    assert server.process.returncode is not None
    assert "set" in server.log_text()
