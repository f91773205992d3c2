#!/usr/bin/env python3
"""Exec latency: median wall time of `snakescope exec PID -c pass` against a
busy multi-threaded target and an idle one.  See README.md."""
import argparse
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TARGET = os.path.join(ROOT, "tests", "py", "targets", "execstates.py")
SHAPES = {"busy": "threads", "idle": "sleep"}


def start(python, state):
    r, w = os.pipe()
    env = dict(os.environ, EXEC_STATE=state, SNAKESCOPE_READY_FD=str(w))
    p = subprocess.Popen([python, "-B", "-s", TARGET], env=env, pass_fds=(w,),
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        if f.readline() != b"ready\n":
            p.kill()
            raise SystemExit("%s did not start" % python)
    time.sleep(0.2)  # let the helper threads block
    return p


def measure(snakescope, pid, runs):
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        res = subprocess.run([snakescope, "exec", str(pid), "-c", "pass"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        times.append((time.perf_counter() - t0) * 1000)
        if res.returncode:
            raise SystemExit("exec failed: %s" % res.stderr.decode())
    return times


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--python", action="append", default=[],
                    help="interpreter to target (repeatable)")
    ap.add_argument("--snakescope", action="append", default=[],
                    help="binary to time (repeatable; default build/snakescope)")
    ap.add_argument("--runs", type=int, default=101)
    a = ap.parse_args()
    pythons = a.python or [sys.executable]
    bins = a.snakescope or [os.path.join(ROOT, "build", "snakescope")]
    print("| python | target | binary | median ms | p90 ms | max ms |")
    print("|---|---|---|---|---|---|")
    for py in pythons:
        for shape, state in SHAPES.items():
            p = start(py, state)
            try:
                # the binaries alternate run by run, so that load on the
                # machine weighs on every column alike
                res = {b: [] for b in bins}
                for _ in range(a.runs):
                    for b in bins:
                        res[b] += measure(b, p.pid, 1)
                for b in bins:
                    t = sorted(res[b])
                    print("| %s | %s | %s | %.1f | %.1f | %.1f |" % (
                        py, shape, os.path.relpath(b, ROOT), statistics.median(t),
                        t[int(len(t) * 0.9)], t[-1]), flush=True)
            finally:
                p.kill()
                p.wait()


if __name__ == "__main__":
    main()
