#!/usr/bin/env python3
"""bench/top: the CPU time `snakescope top` itself uses at a given rate.

Starts tests/py/targets/hotsplit.py (one busy thread), then for each run
starts `snakescope top -r RATE PID` either in its full-screen view (in a
private tmux server, an 80x24 pane, refreshed every second) or in batch
mode (text snapshots to /dev/null), lets it warm up, and reads
utime+stime of the top process from /proc/PID/stat over --seconds of
wall time.  Prints one markdown table row per mode: the median and the
spread of the runs, as percent of one core.

    make && python3 bench/top/run.py                 # 3 runs x 20 s per mode
    python3 bench/top/run.py --runs 5 --seconds 30 --rate 100 --python python3.12
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TARGET = os.path.join(REPO, "tests", "py", "targets", "hotsplit.py")
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


def wait_for(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    sys.exit("timed out waiting for " + what)


def measure(pid, seconds):
    c0, t0 = cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)  # a benchmark interval, not synchronisation
    c1, t1 = cpu_seconds(pid), time.monotonic()
    return 100.0 * (c1 - c0) / (t1 - t0)


def run_tui(args, target_pid, tmp):
    tmux = shutil.which("tmux")
    if not tmux:
        sys.exit("tmux is needed for the view (apt install tmux)")
    sock = "snakescope-bench-%d" % os.getpid()
    pidfile = os.path.join(tmp, "top.pid")
    if os.path.exists(pidfile):
        os.unlink(pidfile)
    env = dict(os.environ, TERM="xterm-256color")
    env.pop("TMUX", None)
    cmd = "echo $$ > %s; exec %s top -r %d %d" % (pidfile, args.snakescope, args.rate, target_pid)
    base = [tmux, "-L", sock, "-f", "/dev/null"]
    subprocess.run(base + ["new-session", "-d", "-x", "80", "-y", "24", "sh", "-c", cmd],
                   check=True, env=env)
    try:
        pid = int(wait_for(lambda: os.path.exists(pidfile) and open(pidfile).read().strip(),
                           10, "top to start"))
        time.sleep(args.warmup)
        return measure(pid, args.seconds)
    finally:
        subprocess.run(base + ["kill-server"], capture_output=True)


def run_batch(args, target_pid, tmp):
    with open(os.devnull, "w") as null:
        p = subprocess.Popen([args.snakescope, "top", "--batch", "1000000", "-r", str(args.rate),
                              str(target_pid)], stdout=null, stdin=subprocess.DEVNULL)
    try:
        time.sleep(args.warmup)
        return measure(p.pid, args.seconds)
    finally:
        p.terminate()
        p.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--warmup", type=float, default=2)
    ap.add_argument("--rate", type=int, default=100)
    ap.add_argument("--python", default="python3")
    ap.add_argument("--snakescope", default=os.path.join(REPO, "build", "snakescope"))
    args = ap.parse_args()
    tmp = "/tmp/snakescope-bench-top-%d" % os.getpid()
    os.makedirs(tmp, exist_ok=True)
    target = subprocess.Popen([args.python, TARGET], stdin=subprocess.DEVNULL)
    try:
        time.sleep(0.5)  # let it import; top waits for nothing else
        print("| mode | rate | runs x seconds | CPU of top, median (min-max), % of one core |")
        print("|---|---|---|---|")
        for name, fn in (("view (ncurses, 80x24)", run_tui), ("batch (text to /dev/null)", run_batch)):
            got = [fn(args, target.pid, tmp) for _ in range(args.runs)]
            print("| %s | %d Hz | %d x %g s | %.2f (%.2f-%.2f) |" % (
                name, args.rate, args.runs, args.seconds, statistics.median(got),
                min(got), max(got)), flush=True)
    finally:
        target.kill()
        target.wait()


if __name__ == "__main__":
    main()
