#!/usr/bin/env python3
"""bench/run: the cost of `snakescope run` supervision on thread-heavy
programs (bench/run/target.py), supervised and not, in alternating runs.

    python3 bench/run/run.py [--runs N] [--python EXE] [--snakescope PATH]
                             [--mode pool|churn] [ARGS for target.py...]

Prints a markdown table (median, min, max wall time of each; the ratio of
the medians, the goal being within 5%) and the per-pair ratios' median.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def timed(argv):
    t0 = time.perf_counter()
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit("failed (%d): %s\n%s" % (p.returncode, " ".join(argv),
                                         p.stderr.decode("utf-8", "replace")))
    return dt, p.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=11)
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--snakescope", default=os.path.join(REPO, "build", "snakescope"))
    ap.add_argument("--mode", choices=("pool", "churn"), default="pool")
    ap.add_argument("args", nargs="*", help="target.py's numbers (see its docstring)")
    a = ap.parse_args()
    prog = [a.python, os.path.join(HERE, "target.py"), a.mode] + a.args
    sup = [a.snakescope, "run", "--"] + prog
    timed(prog)  # warm the page cache
    plain, supervised, ratios = [], [], []
    for i in range(a.runs):
        # Alternate which goes first, so drift hits both alike.
        order = (prog, sup) if i % 2 == 0 else (sup, prog)
        got = {}
        for argv in order:
            dt, out = timed(argv)
            got[argv is sup] = (dt, out)
        if got[True][1] != got[False][1]:
            sys.exit("output differs: %r vs %r" % (got[False][1], got[True][1]))
        plain.append(got[False][0])
        supervised.append(got[True][0])
        ratios.append(got[True][0] / got[False][0])
        print("run %d: plain %.3f s, supervised %.3f s" % (i + 1, got[False][0], got[True][0]),
              file=sys.stderr)
    mp, ms = statistics.median(plain), statistics.median(supervised)
    print("%s, target.py %s, %d alternating runs\n"
          % (a.python, " ".join([a.mode] + a.args), a.runs))
    print("| | median s | min s | max s |")
    print("|---|---|---|---|")
    print("| unsupervised | %.3f | %.3f | %.3f |" % (mp, min(plain), max(plain)))
    print("| snakescope run | %.3f | %.3f | %.3f |" % (ms, min(supervised), max(supervised)))
    print("\nratio of medians: %.3f (goal <= 1.05); median of per-pair ratios: %.3f"
          % (ms / mp, statistics.median(ratios)))


main()
