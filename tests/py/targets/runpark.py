# -*- coding: utf-8 -*-
"""A program supervised by `snakescope run` in tests/py/test_run.py.

    runpark.py park    a named thread and the main thread park on reads
                       of a pipe nobody writes; "ready" when both are
    runpark.py sigint  "ready", then waits for Ctrl-C and reports it
    runpark.py hups    "ready", then counts SIGHUPs; on SIGTERM prints
                       their number and exits 0 (Python 3 only)
"""
from __future__ import print_function

import os
import signal
import sys
import threading
import time

_R, _W = os.pipe()


def parked_worker(started):
    started.set()
    os.read(_R, 1)  # @worker


def waiting_main():
    os.read(_R, 1)  # @main


def park():
    started = threading.Event()
    t = threading.Thread(target=parked_worker, args=(started,), name="parked-worker")
    t.daemon = True
    t.start()
    started.wait()
    print("ready")
    sys.stdout.flush()
    waiting_main()


def sigint():
    try:
        print("ready")
        sys.stdout.flush()
        while True:
            time.sleep(0.01)
    except KeyboardInterrupt:
        print("caught KeyboardInterrupt")
        sys.stdout.flush()
        sys.exit(5)


def hups():
    # The wakeup fd gets a byte for every delivery of a signal, where
    # Python handlers would run once for two that arrive together.
    import select
    r, w = os.pipe()
    for fd in (r, w):
        os.set_blocking(fd, False)
    signal.set_wakeup_fd(w)
    signal.signal(signal.SIGHUP, lambda signum, frame: None)
    signal.signal(signal.SIGTERM, lambda signum, frame: None)
    print("ready")
    sys.stdout.flush()
    hups = 0
    while True:
        select.select([r], [], [])
        for signum in os.read(r, 64):
            if signum == signal.SIGTERM:
                print("hups %d" % hups)
                sys.stdout.flush()
                sys.exit(0)
            if signum == signal.SIGHUP:
                hups += 1


if __name__ == "__main__":
    {"park": park, "sigint": sigint, "hups": hups}[sys.argv[1]]()
