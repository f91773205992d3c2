#!/usr/bin/env python3
"""bench/core: `snakescope dump --core` on a large core.

A Python process holding SIZE of bytes objects (1 MiB each, every page
written) parks in a known stack; gdb's gcore writes its core; snakescope
then dumps the core RUNS times.  Reported: the core's size, the median and
range of the wall time, and snakescope's peak RSS (ru_maxrss of the child),
next to the same numbers for a small core of the same program holding
nothing, to show that memory use does not depend on the core's size.

    make && python3 bench/core/run.py                 # 2 GiB, 11 runs
    python3 bench/core/run.py --size-mib 512 --runs 5
    python3 bench/core/run.py --python /usr/bin/python3.11 --keep /var/tmp/big.core

Needs gdb (gcore) and root or ptrace rights over its own children.  The
cores go to $TMPDIR (default /var/tmp) and are deleted unless --keep.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

TARGET = r"""
import os, sys
def hold(n):
    blobs = [bytes([i & 0xff or 1]) * (1 << 20) for i in range(n)]
    park(blobs)
def park(blobs):
    sys.stdout.write("ready\n"); sys.stdout.flush()
    os.read(0, 1)
hold(int(sys.argv[1]))
"""


def take_core(python, mib, path):
    p = subprocess.Popen([python, "-c", TARGET, str(mib)], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE)
    try:
        if p.stdout.readline() != b"ready\n":
            raise SystemExit("the target did not start")
        t0 = time.monotonic()
        r = subprocess.run(["gcore", "-o", path, str(p.pid)], capture_output=True)
        if r.returncode:
            raise SystemExit("gcore failed: %s" % r.stderr.decode()[-1000:])
        os.rename("%s.%d" % (path, p.pid), path)
        return time.monotonic() - t0
    finally:
        p.kill()
        p.wait()


def run_once(snakescope, core):
    t0 = time.monotonic()
    p = subprocess.Popen([snakescope, "dump", "--core", core], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    out, err = p.communicate()
    wall = time.monotonic() - t0
    if p.returncode != 0:
        raise SystemExit("snakescope failed: %s" % err.decode())
    if b"in park" not in out:
        raise SystemExit("unexpected dump:\n%s" % out.decode())
    return wall


def measure(snakescope, core, runs):
    walls, rss = [], []
    for _ in range(runs):
        walls.append(run_once(snakescope, core))
    # ru_maxrss of children is the maximum over every child waited for:
    # measure in a fresh helper process so only snakescope counts
    for _ in range(3):
        rss.append(child_rss(snakescope, core))
    return walls, max(rss)


def child_rss(snakescope, core):
    code = ("import os,resource,subprocess,sys;"
            "subprocess.run(sys.argv[1:],stdout=subprocess.DEVNULL,check=True);"
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", code, snakescope, "dump", "--core", core],
                         capture_output=True, check=True)
    return int(out.stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size-mib", type=int, default=2048)
    ap.add_argument("--runs", type=int, default=11)
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--snakescope", default=os.path.join(ROOT, "build", "snakescope"))
    ap.add_argument("--keep", help="keep the large core at this path")
    a = ap.parse_args()
    if not shutil.which("gcore"):
        raise SystemExit("gcore (gdb) not installed")
    tmp = tempfile.mkdtemp(prefix="ss-core-bench-", dir=os.environ.get("TMPDIR", "/var/tmp"))
    try:
        rows = []
        for label, mib in (("small", 0), ("large", a.size_mib)):
            core = os.path.join(tmp, "%s.core" % label)
            took = take_core(a.python, mib, core)
            size = os.path.getsize(core)
            # one warm-up run: the page cache holds the core afterwards
            run_once(a.snakescope, core)
            walls, rss = measure(a.snakescope, core, a.runs)
            rows.append((label, mib, size, took, walls, rss))
            if label == "large" and a.keep:
                shutil.move(core, a.keep)
            elif os.path.exists(core):
                os.unlink(core)
        print("| core | held by the target | core size | gcore took | dump --core median "
              "(min-max, %d runs) | peak RSS |" % a.runs)
        print("|---|---|---|---|---|---|")
        for label, mib, size, took, walls, rss in rows:
            print("| %s | %d MiB of bytes | %.2f GiB | %.1f s | %.1f ms (%.1f-%.1f) | %.1f MiB |"
                  % (label, mib, size / 2 ** 30, took, statistics.median(walls) * 1e3,
                     min(walls) * 1e3, max(walls) * 1e3, rss / 1024))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
