# -*- coding: utf-8 -*-
"""Scenario b: 20 named threads parked at different depths (thread i is
i+1 frames of descend() deep; every fifth one waits in Event.wait), one
thread started with the low-level thread module (no threading name), and
one thread spinning in pure Python (its innermost line changes)."""
from __future__ import print_function

try:
    import _thread
except ImportError:
    import thread as _thread

import sstarget

NTHREADS = 20


def descend(n, how):
    if n > 1:
        return descend(n - 1, how)  # @descend
    how()  # @bottom


def worker(i):
    descend(i + 1, sstarget.park_event if i % 5 == 4 else sstarget.park)


def spin():
    sstarget.register("spinner")
    n = 0
    while True:  # @spin
        n += 1  # @spin


def raw(started):
    started.release()
    sstarget.park()  # @raw


def main():
    sstarget.set_extra("spin_lines", sstarget.tagged_lines(__file__, "spin"))
    for i in range(NTHREADS):
        sstarget.start_thread("worker-%02d" % i, worker, i)
    # A low-level thread's state exists before it runs Python (it has no
    # frame yet, so sys._current_frames() would not list it): wait until it
    # runs, so that the ground truth cannot miss it.
    started = _thread.allocate_lock()
    started.acquire()
    _thread.start_new_thread(raw, (started,))
    started.acquire()
    sstarget.start_thread("spinner", spin)
    sstarget.finish()


sstarget.run_target(main)
