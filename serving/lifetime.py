"""A worker that outlives its parent is a server nobody stops: it keeps the port and writes to a database file that
may since have been deleted. On Linux the kernel can signal a process when its parent dies (prctl's
PR_SET_PDEATHSIG); BentoML's workers run in a process group of their own, so a kill of `make serve`'s group does not
reach them otherwise."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import signal
import sys

log = logging.getLogger("bentoml.claimstance")

PR_SET_PDEATHSIG = 1


def exit_with_parent(sig: int = signal.SIGTERM) -> bool:
    """Ask the kernel to send `sig` to this process when its parent dies; whether it could (Linux only). If the parent
    is already gone, the signal is sent now."""
    if not sys.platform.startswith("linux"):
        return False
    parent = os.getppid()
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0) != 0:
        log.warning("prctl(PR_SET_PDEATHSIG) failed: errno %d", ctypes.get_errno())
        return False
    if os.getppid() != parent:  # the parent died before the request was made
        os.kill(os.getpid(), sig)
    return True
