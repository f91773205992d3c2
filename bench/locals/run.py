#!/usr/bin/env python3
"""dump --locals against plain dump: how much longer is the target stopped?

    python3 bench/locals/run.py [--runs N] [--python LABEL ...]
                                [--shape TxD] [--snakescope PATH] [--json FILE]

For each interpreter it starts one target (bench/locals/target.py: THREADS
threads, each parked DEPTH frames deep in os.read(), every frame holding 10
locals: int, str, float, list of 5, dict of 3, tuple, None, bool, an
instance and the argument) and runs, interleaved run by run after one
warm-up each, `snakescope dump --verbose PID` and
`snakescope dump --locals --verbose PID`.  It reports, as a markdown table,
the median wall time of each and the median time the target was stopped
(the `stopped for N us` line of --verbose), and the ratio of the pauses
(median of the per-round ratios), which should stay under 2.

Must run as root (ptrace).  Targets cannot outlive the harness: they park on
a pipe only the harness can write (its EOF ends them) and get
PR_SET_PDEATHSIG.  Sid interpreters run in the chroot of tests/setup.sh
(SNAKESCOPE_SID, default /var/cache/snakescope/sid).
"""
import argparse
import ctypes
import json
import os
import re
import select
import shutil
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SID = os.environ.get("SNAKESCOPE_SID", "/var/cache/snakescope/sid")
PYENV = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")


def interpreters():
    """(label, argv prefix, chroot or None) of the interpreters found."""
    out = []
    for v in ("2.7", "3.8", "3.11", "3.12", "3.13"):
        for d in sorted(os.listdir(os.path.join(PYENV, "versions")) if
                        os.path.isdir(os.path.join(PYENV, "versions")) else []):
            if d.startswith(v + "."):
                exe = os.path.join(PYENV, "versions", d, "bin", "python")
                if os.access(exe, os.X_OK):
                    out.append(("pyenv %s" % d, exe, None))
                break
    if os.access("/usr/bin/python3.11", os.X_OK):
        out.append(("debian 3.11 (static)", "/usr/bin/python3.11", None))
    for v in ("3.14", "3.15"):
        if os.access(SID + "/usr/bin/python" + v, os.X_OK):
            out.append(("sid %s (chroot)" % v, "/usr/bin/python" + v, SID))
    return out


def pdeathsig():
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)
    except Exception:
        pass


class Target:
    def __init__(self, exe, root, threads, depth):
        script = os.path.join(HERE, "target.py")
        self.tmp = None
        if root:
            self.tmp = "/tmp/snakescope-bench-locals-%d" % os.getpid()
            os.makedirs(root + self.tmp, exist_ok=True)
            shutil.copy(script, root + self.tmp + "/target.py")
            script = self.tmp + "/target.py"
        ready_r, ready_w = os.pipe()
        park_r, self.park_w = os.pipe()
        argv = [exe, script, str(threads), str(depth), str(ready_w), str(park_r)]
        if root:
            argv = ["chroot", root] + argv
        self.root = root
        self.proc = subprocess.Popen(argv, pass_fds=(ready_w, park_r),
                                     preexec_fn=pdeathsig,
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        os.close(ready_w)
        os.close(park_r)
        rl, _, _ = select.select([ready_r], [], [], 60)
        if not rl or os.read(ready_r, 1) != b"R":
            self.kill()
            raise RuntimeError("target did not get ready: %s" %
                               self.proc.stderr.read().decode(errors="replace"))
        os.close(ready_r)
        self.pid = self.proc.pid
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not self.all_parked(threads):
            time.sleep(0.01)  # polling /proc: nothing to wait on

    def all_parked(self, threads):
        n = 0
        for tid in os.listdir("/proc/%d/task" % self.pid):
            try:
                with open("/proc/%d/task/%s/syscall" % (self.pid, tid)) as f:
                    n += f.read().split()[0] == "0"  # read(2)
            except OSError:
                pass
        return n >= threads

    def kill(self):
        try:
            os.close(self.park_w)
        except OSError:
            pass
        try:
            self.proc.kill()
            self.proc.wait(timeout=10)
        except Exception:
            pass
        if self.tmp:
            shutil.rmtree(self.root + self.tmp, ignore_errors=True)


def run_once(binary, args, pid):
    t0 = time.perf_counter()
    p = subprocess.run([binary, "dump", "--verbose"] + args + [str(pid)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=60)
    wall = time.perf_counter() - t0
    m = re.search(rb"stopped for (\d+) us", p.stderr)
    if p.returncode != 0 or not m:
        raise RuntimeError("snakescope failed (%d): %s" %
                           (p.returncode, p.stderr.decode(errors="replace")))
    return wall * 1e3, int(m.group(1)), len(p.stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=31)
    ap.add_argument("--shape", default="10x100")
    ap.add_argument("--python", action="append", default=[])
    ap.add_argument("--snakescope", default=os.path.join(REPO, "build", "snakescope"))
    ap.add_argument("--json")
    args = ap.parse_args()
    threads, depth = (int(x) for x in args.shape.split("x"))
    binary = "/tmp/snakescope-bench-locals-bin-%d" % os.getpid()
    shutil.copy(args.snakescope, binary)
    rows, raw = [], {}
    try:
        for label, exe, root in interpreters():
            if args.python and not any(p in label for p in args.python):
                continue
            print("%s ..." % label, file=sys.stderr)
            try:
                t = Target(exe, root, threads, depth)
            except Exception as e:
                rows.append((label, None, str(e)))
                continue
            try:
                res = {"plain": [], "locals": []}
                for name, a in (("plain", []), ("locals", ["--locals"])):
                    run_once(binary, a, t.pid)  # warm-up
                for _ in range(args.runs):
                    for name, a in (("plain", []), ("locals", ["--locals"])):
                        res[name].append(run_once(binary, a, t.pid))
                raw[label] = res
                rows.append((label, res, None))
            except Exception as e:
                rows.append((label, None, str(e)))
            finally:
                t.kill()
    finally:
        os.unlink(binary)
    print("Shape %dx%d (threads x depth, 10 locals a frame), %d runs each, "
          "medians.\n" % (threads, depth, args.runs))
    print("| interpreter | dump wall ms | --locals wall ms | dump pause us | "
          "--locals pause us | pause ratio | under 2x |")
    print("|---|---|---|---|---|---|---|")
    for label, res, err in rows:
        if res is None:
            print("| %s | skipped: %s |||||" % (label, err))
            continue
        med = lambda k, i: statistics.median(x[i] for x in res[k])
        ratio = statistics.median(l[1] / p[1] for p, l in
                                  zip(res["plain"], res["locals"]))
        print("| %s | %.1f | %.1f | %d | %d | %.2f | %s |" % (
            label, med("plain", 0), med("locals", 0), med("plain", 1),
            med("locals", 1), ratio, "yes" if ratio < 2 else "NO"))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(raw, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
