# -*- coding: utf-8 -*-
"""Scenario nothreads: a process that never imports threading (run with -S
so that site does not either).  No sstarget (it imports threading): this
writes its own ground truth and parks its only thread reading the
lifeline pipe, which also ends it when the harness goes away."""
import json
import os
import sys


def park(fd):
    os.read(fd, 1)  # @park


def main():
    if "threading" in sys.modules:
        msg = "skip: threading is imported at startup by this interpreter"
    else:
        msg = "ready"
        truth = {"pid": os.getpid(), "threads": [
            {"ident": None, "native_id": os.getpid(), "role": "parked",
             "blocked_in": "read", "name": None, "frames": None,
             "interpreter": 0}]}
        path = os.environ["SNAKESCOPE_TRUTH"]
        with open(path + ".tmp", "w") as f:
            json.dump(truth, f)
        os.rename(path + ".tmp", path)
    fd = int(os.environ["SNAKESCOPE_READY_FD"])
    os.write(fd, (msg + "\n").encode("ascii"))
    os.close(fd)
    park(int(os.environ["SNAKESCOPE_LIFELINE_FD"]))
    os._exit(0)


main()
