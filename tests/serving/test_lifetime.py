import os
import signal
import subprocess
import sys
import time

import pytest

from serving.lifetime import exit_with_parent

CHILD = """
import os, sys, time
from serving.lifetime import exit_with_parent
assert exit_with_parent()
print(os.getpid(), flush=True)
time.sleep(60)
"""
PARENT = f"""
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", {CHILD!r}], stdout=sys.stdout)
time.sleep(60)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux's")
def test_a_process_exits_when_its_parent_is_killed():
    """As a BentoML worker must when `make serve` is killed: it runs in a process group of its own, so the kill of
    the server's group does not reach it."""
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True, cwd=os.getcwd(),
                              start_new_session=True)  # fmt: skip
    try:
        child = int(parent.stdout.readline())
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and alive(child):
            time.sleep(0.05)
        assert not alive(child)
    finally:
        if parent.poll() is None:
            parent.kill()


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"  # a zombie has exited: only its parent's wait is missing
    except FileNotFoundError:
        return False


def test_outside_linux_it_says_it_could_not(monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")
    assert exit_with_parent() is False
