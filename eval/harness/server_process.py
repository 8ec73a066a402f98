"""A server in a subprocess, for benchmarks and tests: started, awaited until /readyz says 200, stopped
(`with start_server(...) as server:` stops it at the end of the block)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

MONITOR_OFF = {"CLAIMSTANCE_MONITOR": "false"}
"""The benchmarks and fault runs of /predict and /track run the service without the claim monitor: it needs no
embedding model then, and its figures compare with those made before the monitor existed."""


@dataclass
class ServerProcess:
    url: str
    process: subprocess.Popen
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_ready(self, seconds: float) -> None:
        """Return once /readyz answers 200; raise with the server's log if it exits or takes too long."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.log_text()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"server not ready after {seconds:.0f} s:\n{self.log_text()}")

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def kill(self) -> None:
        """SIGKILL to the server and every process under it, all at once: a crash, not a shutdown. BentoML's
        workers run in sessions of their own, so a signal to the server's group would leave them serving."""
        tree = [psutil.Process(self.process.pid), *psutil.Process(self.process.pid).children(recursive=True)]
        for process in tree:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.send_signal(signal.SIGKILL)
        psutil.wait_procs(tree, timeout=30)
        self.process.wait()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_server(
    command: list[str],
    url: str,
    env: dict[str, str],
    log: Path,
    cwd: Path | None = None,
    ready_within: float | None = 180,
) -> ServerProcess:
    """Start `command` with `env` added to this environment; wait for readiness unless `ready_within` is None."""
    with log.open("w") as out:
        process = subprocess.Popen(command, cwd=cwd, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT)
    server = ServerProcess(url, process, log)
    if ready_within is not None:
        server.wait_ready(ready_within)
    return server
