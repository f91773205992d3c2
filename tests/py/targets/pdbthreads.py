# -*- coding: utf-8 -*-
"""Target of test_pdb.py (Python 2.7 and 3.x): the main thread and one
more thread, "worker", both mostly asleep (so either can be chosen to run
code), each with its own value in the thread-local TL.who.  The worker
calls worker_step(i) between its sleeps.  Readiness: "ready" on
$SNAKESCOPE_READY_FD once the worker runs."""
from __future__ import print_function

import os
import threading
import time

TL = threading.local()
STEPS = [0]
STARTED = threading.Event()


def ready():
    fd = int(os.environ["SNAKESCOPE_READY_FD"])
    os.write(fd, b"ready\n")
    os.close(fd)


def worker_step(i):
    step_value = i * 2
    STEPS[0] = i
    return step_value


def worker_loop():
    TL.who = "worker"
    STARTED.set()
    i = 0
    while True:
        i += 1
        worker_step(i)
        time.sleep(0.05)


def main():
    TL.who = "main"
    t = threading.Thread(target=worker_loop, name="worker")
    t.daemon = True
    t.start()
    STARTED.wait()
    ready()
    while True:
        # asleep all but a moment: exec's default choice is the main thread
        time.sleep(10)


main()
