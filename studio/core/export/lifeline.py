"""Worker processes die with their driver: a killed driver (``kill -9``, the out-of-memory
killer) leaves no worker behind, nor the resource tracker those workers keep alive.

Two guards, set up by each worker when it starts:

- Linux: a parent-death signal (``prctl(PR_SET_PDEATHSIG, SIGKILL)``). The kernel sends it
  when the *thread* that started the worker ends, so it is only asked for when that thread
  lives as long as the pool (the driver's main thread);
- everywhere: a watchdog thread that ends the worker within :data:`POLL_S` seconds of its
  parent's death (the parent's id changes when the worker is handed to init).
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time

POLL_S = 0.5  #: seconds between two looks of the watchdog at the parent
PR_SET_PDEATHSIG = 1


def _parent_death_signal() -> None:
    """Ask the kernel for SIGKILL when the parent dies (Linux; elsewhere nothing)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):
        pass  # the watchdog still guards


def _watch(parent: int) -> None:
    while True:
        time.sleep(POLL_S)
        if os.getppid() != parent:
            os._exit(1)  # the driver is gone: nothing to report to


def die_with_parent(death_signal: bool = True) -> None:
    """Make this (worker) process end when its parent does; see the module docstring.

    ``death_signal`` asks for the Linux parent-death signal too (only when the thread that
    started this process outlives it)."""
    parent = os.getppid()  # (a driver may itself be PID 1: in a container)
    if death_signal:
        _parent_death_signal()
    if os.getppid() != parent:
        os._exit(1)  # the parent died while the guards were set
    threading.Thread(target=_watch, args=(parent,), name="lifeline", daemon=True).start()
