#!/usr/bin/env python3
"""bench/native: `snakescope dump --native` against gdb's
`thread apply all bt` on the same parked target (10 threads x 50 Python
frames, bench/dump/target.py): median wall time of each, and the pause
(how long snakescope held the threads, from --verbose).  See
bench/README.md.

    python3 bench/native/run.py [--python EXE] [--runs N] [--gdb-runs N]
                                [--baseline OTHER_SNAKESCOPE]

With --baseline, another build of snakescope (e.g. one of an older commit)
is timed too, its runs interleaved with those of --snakescope.
"""
import argparse
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
TARGET = os.path.join(REPO, "bench", "dump", "target.py")


def start_target(python, threads, depth):
    ready_r, ready_w = os.pipe()
    park_r, park_w = os.pipe()
    p = subprocess.Popen([python, TARGET, str(threads), str(depth), str(ready_w), str(park_r)],
                         pass_fds=(ready_w, park_r), start_new_session=True)
    os.close(ready_w)
    os.close(park_r)
    if os.read(ready_r, 1) != b"R":
        sys.exit("target did not become ready")
    os.close(ready_r)
    # every thread inside read(2)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        tids = os.listdir("/proc/%d/task" % p.pid)
        busy = 0
        for t in tids:
            try:
                with open("/proc/%d/task/%s/syscall" % (p.pid, t)) as f:
                    sc = f.read().split()
                busy += not sc or sc[0] != "0"
            except OSError:
                busy += 1
        if len(tids) == threads and not busy:
            return p, park_w
        time.sleep(0.01)
    sys.exit("target threads did not all block in read(2)")


def children_cpu():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def timed(cmd):
    """Wall time, CPU time (user + sys of cmd and its children: less
    sensitive than wall to a loaded machine) and the finished process."""
    c0 = children_cpu()
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    dt = time.perf_counter() - t0
    p.cpu = children_cpu() - c0
    if p.returncode != 0:
        sys.exit("%s failed: %s" % (" ".join(cmd), p.stderr[-2000:]))
    return dt, p


def time_snakescope(exe, pid, walls, cpus, pauses):
    """One `dump --native --verbose`; returns its C frame count."""
    dt, r = timed([exe, "dump", "--native", "--verbose", str(pid)])
    m = re.search(r"stopped for (\d+) us", r.stderr)
    walls.append(dt)
    cpus.append(r.cpu)
    pauses.append(int(m.group(1)) / 1000.0)
    return r.stdout.count("!")


def row(name, runs, walls, cpus, pauses):
    print("| %s | %d | %.1f | %.1f | %.2f (max %.2f) |"
          % (name, runs, statistics.median(walls) * 1000, statistics.median(cpus) * 1000,
             statistics.median(pauses), max(pauses)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--python", default=os.path.expanduser("~/.pyenv/versions/3.12.1/bin/python3"))
    ap.add_argument("--snakescope", default=os.path.join(REPO, "build", "snakescope"))
    ap.add_argument("--threads", type=int, default=10)
    ap.add_argument("--depth", type=int, default=50)
    ap.add_argument("--runs", type=int, default=21)
    ap.add_argument("--gdb-runs", type=int, default=3)
    ap.add_argument("--baseline", help="another snakescope binary to time alongside")
    a = ap.parse_args()
    gdb = shutil.which("gdb")
    p, lifeline = start_target(a.python, a.threads, a.depth)
    try:
        walls, pauses, cpus, gcpus = [], [], [], []
        bwalls, bpauses, bcpus = [], [], []
        for _ in range(a.runs):
            frames = time_snakescope(a.snakescope, p.pid, walls, cpus, pauses)
            if a.baseline:
                time_snakescope(a.baseline, p.pid, bwalls, bcpus, bpauses)
        gwalls = []
        for _ in range(a.gdb_runs if gdb else 0):
            dt, r = timed([gdb, "-nx", "-batch", "-p", str(p.pid), "-ex", "thread apply all bt"])
            gwalls.append(dt)
            gcpus.append(r.cpu)
    finally:
        os.close(lifeline)
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
    sw = statistics.median(walls) * 1000
    print("target: %s, %d threads x %d Python frames" % (a.python, a.threads, a.depth))
    print("")
    sc = statistics.median(cpus) * 1000
    print("load average: %.1f on %d CPUs" % (os.getloadavg()[0], os.cpu_count()))
    print("")
    print("| tool | runs | median wall (ms) | median CPU (ms) | median pause (ms) |")
    print("|---|---|---|---|---|")
    row("snakescope dump --native", a.runs, walls, cpus, pauses)
    if a.baseline:
        row("baseline (%s) dump --native" % a.baseline, a.runs, bwalls, bcpus, bpauses)
    if gwalls:
        gw = statistics.median(gwalls) * 1000
        gc = statistics.median(gcpus) * 1000
        print("| gdb -batch -ex 'thread apply all bt' | %d | %.1f | %.1f | whole run |"
              % (len(gwalls), gw, gc))
        print("")
        print("gdb / snakescope: wall %.1fx, CPU %.1fx" % (gw / sw, gc / sc))
        if a.baseline:
            print("gdb / baseline: wall %.1fx, CPU %.1fx"
                  % (gw / (statistics.median(bwalls) * 1000), gc / (statistics.median(bcpus) * 1000)))
    print("(%d C frames in the last snakescope output)" % frames)


if __name__ == "__main__":
    main()
