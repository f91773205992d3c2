# -*- coding: utf-8 -*-
"""A program supervised by `snakescope run` in tests/py/test_run.py.

    runpark.py park    a named thread and the main thread park on reads
                       of a pipe nobody writes; "ready" when both are
    runpark.py sigint  "ready", then waits for Ctrl-C and reports it
"""
from __future__ import print_function

import os
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


if __name__ == "__main__":
    {"park": park, "sigint": sigint}[sys.argv[1]]()
