# -*- coding: utf-8 -*-
"""A clean program for `snakescope run`: output on both streams, input
echoed, threads and a child process, a chosen exit status."""
from __future__ import print_function

import os
import subprocess
import sys
import threading


def work(i, out):
    out[i] = sum(range(1000 * (i + 1)))


if __name__ == "__main__":
    data = sys.stdin.read()
    print("stdin:", data.strip().upper())
    out = [0] * 8
    ts = [threading.Thread(target=work, args=(i, out)) for i in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print("sums:", out)
    sys.stdout.flush()
    rc = subprocess.call([sys.executable, "-c", "import sys; sys.stderr.write('child says hi\\n'); sys.exit(2)"])
    print("child:", rc)
    sys.stderr.write("to stderr\n")
    sys.stdout.flush()
    os._exit(7)
