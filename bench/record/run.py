#!/usr/bin/env python3
"""Sampling benchmark: snakescope record against CPython 3.15's own sampler
(python3.15 -m profiling.sampling attach) and austin 3.7, side by side.

    python3 bench/record/run.py [--quick] [--only NAME ...] [--mem-seconds S]

Measures (see bench/README.md, "bench/record"):
  floor      one process_vm_readv of a 4 KiB and a 16 KiB block of the target
             (bench/record/floor.c, compiled here)
  cpu        CPU time per sample of a 50-frame stack, as a ratio to the
             floor: snakescope back to back (asked for more than it can
             take) and per tick at 5 kHz (the sleep between ticks included),
             the peers per sample at 5 kHz
  maxrate    the highest rate with < 1% of samples lost, one busy thread 50
             frames deep, for each tool, counted two ways: lenient (missed
             and failed samples, what CPython's sampler counts) and strict
             (the issue's: also samples taken a period or more late)
  threads    10 threads x 100 frames: the same, i.e. samples per second per
             thread
  slowdown   a fixed pure-Python workload with and without sampling at 100 Hz
             and 1 kHz, alternating runs
  memory     peak RSS of a record at 1 kHz of a target cycling through
             10 000 distinct stacks

Needs root (chroot, ptrace).  Prints a markdown report on stdout.
"""
import argparse
import os
import re
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SID = os.environ.get("SNAKESCOPE_SID", "/var/cache/snakescope/sid")
PYENV = os.path.expanduser("~/.pyenv/versions")
AUSTIN = "/opt/austin/usr/bin/austin"

RATES = [100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000, 200000]
THREAD_RATES = [50, 100, 200, 500, 1000, 2000, 3000, 5000, 10000, 20000]
# Asked for more than any tool takes: snakescope then samples back to back.
FLAT_OUT = 500000

_procs = []


def log(*a):
    print(*a, file=sys.stderr, flush=True)


class Interp:
    def __init__(self, label, exe, root=None):
        self.label, self.exe, self.root = label, exe, root

    def available(self):
        return os.access((self.root or "") + self.exe, os.X_OK)

    def argv(self, script, *args):
        pre = ["chroot", self.root] if self.root else []
        return pre + [self.exe, script] + [str(a) for a in args]


def pyenv(minor):
    if not os.path.isdir(PYENV):
        return None
    for d in sorted(os.listdir(PYENV)):
        if d.startswith(minor + "."):
            return os.path.join(PYENV, d, "bin", "python")
    return None


def interps():
    out = []
    for m in ("3.10", "3.12"):
        exe = pyenv(m)
        if exe:
            out.append(Interp("pyenv %s" % m, exe))
    for m in ("3.13", "3.15"):
        out.append(Interp("sid %s" % m, "/usr/bin/python" + m, SID))
    return [i for i in out if i.available()]


class Target:
    def __init__(self, interp, script, *args):
        r, w = os.pipe()
        lr, lw = os.pipe()
        env = dict(os.environ, BENCH_READY_FD=str(w), BENCH_LIFELINE_FD=str(lr))
        self.proc = subprocess.Popen(interp.argv(script, *args), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, pass_fds=(w, lr), env=env,
                                     start_new_session=True)
        _procs.append(self.proc)
        os.close(w)
        os.close(lr)
        self.lifeline = lw
        rl, _, _ = select.select([r], [], [], 60)
        msg = os.read(r, 100) if rl else b""
        os.close(r)
        if b"ready" not in msg:
            self.kill()
            raise RuntimeError("target %s %s did not get ready" % (interp.label, args))
        self.pid = self.proc.pid

    def kill(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except OSError:
            pass
        self.proc.wait()
        if self.lifeline is not None:
            os.close(self.lifeline)
            self.lifeline = None


def run_rusage(cmd, timeout=120):
    """Like run() but with the child's own rusage (fork+exec by hand)."""
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, start_new_session=True)
    _procs.append(p)
    out = b""
    deadline = t0 + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            os.killpg(p.pid, signal.SIGKILL)
        rl, _, _ = select.select([p.stdout], [], [], max(left, 0.1))
        if rl:
            chunk = os.read(p.stdout.fileno(), 65536)
            if not chunk:
                break
            out += chunk
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    return p.returncode, out.decode("utf-8", "replace"), ru


# -------------------------------------------------------------------- tools

REPORT_RE = re.compile(r"wrote .*: (\d+) samples in ([0-9.]+) s \(([0-9.]+) Hz achieved "
                       r"of (\d+), (\d+) late\), (\d+) errors \([0-9.]+%\)(?:, (\d+) missed)?")


def snakescope_record(bin_, pid, rate, seconds, extra=()):
    rc, out, ru = run_rusage([bin_, "record", "-r", str(rate), "-d", str(seconds),
                              "-f", "collapsed", "-o", "/dev/null"] + list(extra) + [str(pid)])
    m = REPORT_RE.search(out)
    if rc != 0 or not m:
        return None
    ticks = float(m.group(3)) * float(m.group(2))
    late, errors = int(m.group(5)), int(m.group(6))
    missed = int(m.group(7) or 0)
    expected = max(rate * float(m.group(2)), 1)
    # Lenient: samples lost (missed or unreadable), as CPython's sampler
    # counts; strict (the issue's): also ticks taken a period or more late.
    return {"samples": int(m.group(1)), "ticks": ticks, "achieved": float(m.group(3)),
            "bad": (missed + errors) / expected,
            "strict": (late + missed + errors) / expected,
            "late": late / expected,
            "cpu": ru.ru_utime + ru.ru_stime, "rss": ru.ru_maxrss}


def cpython_sampler(pid, rate, seconds, all_threads=False):
    cmd = ["chroot", SID, "/usr/bin/python3.15", "-m", "profiling.sampling", "attach",
           "-r", str(rate), "-d", str(seconds), "--collapsed", "-o", "/dev/null"]
    if all_threads:
        cmd.append("-a")
    rc, out, ru = run_rusage(cmd + [str(pid)])
    m = re.search(r"Captured (\d+) samples in ([0-9.]+) seconds", out)
    if rc != 0 or not m:
        return None
    missed = re.search(r"missed \d+ samples .*\(([0-9.]+)%\)", out)
    err = re.search(r"Error rate: ([0-9.]+)", out)
    bad = (float(missed.group(1)) if missed else 0.0) / 100 + \
        (float(err.group(1)) / 100 if err else 0.0)
    # It reports no late samples (it catches up back to back without
    # saying so): its strict figure can only be its lenient one.
    return {"samples": int(m.group(1)), "achieved": int(m.group(1)) / float(m.group(2)),
            "bad": bad, "strict": bad, "cpu": ru.ru_utime + ru.ru_stime}


def austin_cmd(chrooted):
    if chrooted:
        return ["chroot", SID, AUSTIN]
    return [SID + "/lib64/ld-linux-x86-64.so.2", "--library-path",
            SID + "/usr/lib/x86_64-linux-gnu:" + SID + "/lib/x86_64-linux-gnu", SID + AUSTIN]


ANSI_RE = re.compile(r"\x1b\[[0-9;]*m")


def austin(pid, rate, seconds, chrooted):
    """austin prints its statistics at exit: samples that took longer than
    the interval ("long sampling rate"), invalid samples, duration.  It
    counts a sample per thread: every thread of the target is a Python
    thread here, so a tick is worth as many samples as it has threads."""
    nthreads = max(len(os.listdir("/proc/%d/task" % pid)), 1)
    cmd = austin_cmd(chrooted) + ["-i", str(max(1, int(1e6 / rate))), "-x", str(seconds),
                                  "-o", "/dev/null", "-p", str(pid)]
    rc, out, ru = run_rusage(cmd)
    out = ANSI_RE.sub("", out)
    long_ = re.search(r"Long sampling rate : (\d+)/(\d+)", out)
    errs = re.search(r"Error rate : (\d+)/(\d+)", out)
    dur = re.search(r"Sampling duration : ([0-9.]+) s", out)
    if rc != 0 or not long_ or not dur:
        return None
    total = int(long_.group(2))
    expected = max(rate * float(dur.group(1)) * nthreads, 1)
    missed = max(0.0, expected - total)
    failed = int(errs.group(1)) / max(total, 1) if errs else 0
    # Its "long sampling rate" (samples that took longer than the
    # interval, so the next one starts late) counts as late, as a share of
    # its samples.
    late = int(long_.group(1)) / max(total, 1)
    return {"samples": total, "ticks": total / nthreads,
            "achieved": total / nthreads / max(float(dur.group(1)), 1e-9),
            "bad": missed / expected + failed,
            "strict": missed / expected + late + failed,
            "late": late, "cpu": ru.ru_utime + ru.ru_stime}


def austin_flat_out(pid, chrooted):
    """austin asked for a sample every microsecond: the rate it reaches
    flat out (samples per second per thread), whatever it loses.  Its
    interval is a sleep after each sample, not a schedule, so any interval
    loses ticks and this is the fairest figure of its speed."""
    res = austin(pid, 1000000, 2, chrooted)
    return None if not res else res["achieved"]


def max_rate(fn, rates):
    """The highest rates at which fn(rate) kept the samples lost under 1%
    of those asked for: (lenient, strict), lenient counting missed and
    failed samples, strict also late ones.  Rates are tried upwards until
    the lenient figure fails."""
    best = [None, None]
    for r in rates:
        res = fn(r)
        if not res:
            log("    %d Hz: failed" % r)
            break
        log("    %d Hz: achieved %.0f, missed/failed %.2f%%, late+missed+failed %.2f%%, "
            "CPU %.2f s" % (r, res["achieved"], 100 * res["bad"], 100 * res["strict"],
                            res["cpu"]))
        if res["strict"] < 0.01 and best[1] == best[0]:
            best[1] = r
        if res["bad"] >= 0.01:
            break
        best[0] = r
    return tuple(best)


def rates_cell(best, unit=""):
    """'lenient / strict' for a table cell."""
    if best is None:
        return "-"
    return "%s / %s" % (fmt(best[0], unit), fmt(best[1], unit))


# ------------------------------------------------------------------ benches

def heap_addr(pid):
    with open("/proc/%d/maps" % pid) as f:
        for ln in f:
            parts = ln.split()
            if len(parts) >= 6 and parts[5] == "[heap]":
                return int(parts[0].split("-")[0], 16)
    with open("/proc/%d/maps" % pid) as f:
        for ln in f:
            parts = ln.split()
            lo, hi = (int(x, 16) for x in parts[0].split("-"))
            if "rw" in parts[1] and hi - lo >= 65536:
                return lo
    return None


def floor(tmp, pid):
    exe = os.path.join(tmp, "floor")
    subprocess.run(["cc", "-O2", "-o", exe, os.path.join(HERE, "floor.c")], check=True)
    addr = heap_addr(pid)
    out = {}
    for size in (4096, 16384):
        vals = [float(subprocess.run([exe, str(pid), hex(addr), str(size), "20000"],
                                     capture_output=True, text=True, check=True).stdout)
                for _ in range(5)]
        out[size] = statistics.median(vals) / 1000.0  # us
    return out


def per_sample(run, key):
    """CPU microseconds per sample from a 4 s and a 1 s run of
    run(seconds): the difference is the sampling alone (start-up and the
    writer cancel out)."""
    long_, short = run(4), run(1)
    if not long_ or not short or long_[key] <= short[key]:
        return None
    return (long_["cpu"] - short["cpu"]) / (long_[key] - short[key]) * 1e6


def fmt(v, unit=""):
    return "-" if v is None else ("%s%s" % (v, unit))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--snakescope", default=os.path.join(REPO, "build", "snakescope"))
    ap.add_argument("--quick", action="store_true", help="fewer rates and runs")
    ap.add_argument("--only", action="append", help="cpu, maxrate, threads, slowdown, memory")
    ap.add_argument("--mem-seconds", type=float, default=30.0,
                    help="length of the memory run (the issue asks for 600)")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("run.py: needs root")
    only = set(args.only or ["cpu", "maxrate", "threads", "slowdown", "memory"])
    tmp = tempfile.mkdtemp(prefix="ss-bench-record-")
    # The script must be visible inside the chroot too.
    sid_tmp = tempfile.mkdtemp(prefix="ss-bench-record-", dir=SID + "/tmp")
    shutil.copy(os.path.join(HERE, "target.py"), sid_tmp)
    bin_ = os.path.join(tmp, "snakescope")
    shutil.copy(args.snakescope, bin_)
    inside = sid_tmp[len(SID):] + "/target.py"
    host_script = os.path.join(HERE, "target.py")
    ins = interps()

    def script(i):
        return inside if i.root else host_script

    rows = []
    try:
        # ---- floor and cpu per sample
        if "cpu" in only:
            rows.append("### CPU per sample, 50-frame stack (one busy thread; every tool reads "
                        "both threads of the target, the busy one and the lifeline watcher)\n")
            rows.append("| Python | floor 4 KiB read | floor 16 KiB read | snakescope back to back "
                        "| / 16 KiB floor | snakescope per tick at 5 kHz | / 16 KiB floor "
                        "| profiling.sampling -a per tick at 5 kHz | austin 3.7 per tick at 5 kHz |")
            rows.append("|---|---|---|---|---|---|---|---|---|")
            for i in ins:
                t = Target(i, script(i), "busy", 50)
                try:
                    fl = floor(tmp, t.pid)
                    flat = per_sample(lambda d: snakescope_record(bin_, t.pid, FLAT_OUT, d,
                                                                  ["--idle"]), "ticks")
                    tick = per_sample(lambda d: snakescope_record(bin_, t.pid, 5000, d,
                                                                  ["--idle"]), "ticks")
                    cp = au = None
                    if i.label == "sid 3.15":
                        cp = per_sample(lambda d: cpython_sampler(t.pid, 5000, d, True),
                                        "samples")
                    else:
                        au = per_sample(lambda d: austin(t.pid, 5000, d, bool(i.root)),
                                        "ticks")

                    def us(v):
                        return fmt(v and round(v, 2), " us")

                    def ratio(v):
                        return fmt(v and round(v / fl[16384], 2), "x")
                    rows.append("| %s | %.2f us | %.2f us | %s | %s | %s | %s | %s | %s |" % (
                        i.label, fl[4096], fl[16384], us(flat), ratio(flat), us(tick),
                        ratio(tick), us(cp), us(au)))
                    log(rows[-1])
                finally:
                    t.kill()
            rows.append("")

        # ---- max sustained rate, one busy thread
        if "maxrate" in only:
            rates = RATES[:5] if args.quick else RATES
            rows.append("### Highest rate with < 1% of samples lost, one busy thread, "
                        "50 frames (lenient: missed or failed / strict: also late)\n")
            rows.append("| Python | snakescope | profiling.sampling (3.15) | austin 3.7 "
                        "| austin 3.7 flat out (-i 1), achieved |")
            rows.append("|---|---|---|---|---|")
            for i in ins:
                t = Target(i, script(i), "busy", 50)
                try:
                    log("%s snakescope" % i.label)
                    ss = max_rate(lambda r: snakescope_record(bin_, t.pid, r, 2), rates)
                    cp = au = None
                    if i.label == "sid 3.15":
                        log("%s profiling.sampling" % i.label)
                        cp = max_rate(lambda r: cpython_sampler(t.pid, r, 2), rates)
                    flat = None
                    if i.label != "sid 3.15":
                        log("%s austin" % i.label)
                        au = max_rate(lambda r: austin(t.pid, r, 2, bool(i.root)), rates)
                        flat = austin_flat_out(t.pid, bool(i.root))
                    rows.append("| %s | %s | %s | %s | %s |" % (
                        i.label, rates_cell(ss, " Hz"), rates_cell(cp, " Hz"),
                        rates_cell(au, " Hz"), fmt(flat and int(flat), " Hz")))
                    log(rows[-1])
                finally:
                    t.kill()
            rows.append("")

        # ---- 10 threads x 100 frames
        if "threads" in only:
            rates = THREAD_RATES[:4] if args.quick else THREAD_RATES
            rows.append("### 10 threads x 100 frames: samples per second per thread "
                        "(< 1% lost; lenient / strict)\n")
            rows.append("| Python | snakescope --idle | profiling.sampling -a (3.15) | austin 3.7 "
                        "| austin 3.7 flat out (-i 1), achieved |")
            rows.append("|---|---|---|---|---|")
            for i in ins:
                t = Target(i, script(i), "threads", 10, 100)
                try:
                    log("%s snakescope, threads" % i.label)
                    ss = max_rate(lambda r: snakescope_record(bin_, t.pid, r, 2, ["--idle"]), rates)
                    cp = au = None
                    if i.label == "sid 3.15":
                        log("%s profiling.sampling, threads" % i.label)
                        cp = max_rate(lambda r: cpython_sampler(t.pid, r, 2, True), rates)
                    flat = None
                    if i.label != "sid 3.15":
                        log("%s austin, threads" % i.label)
                        au = max_rate(lambda r: austin(t.pid, r, 2, bool(i.root)), rates)
                        flat = austin_flat_out(t.pid, bool(i.root))
                    rows.append("| %s | %s | %s | %s | %s |" % (
                        i.label, rates_cell(ss), rates_cell(cp), rates_cell(au),
                        fmt(flat and int(flat))))
                    log(rows[-1])
                finally:
                    t.kill()
            rows.append("")

        # ---- slowdown
        if "slowdown" in only:
            n = 3 if args.quick else 5
            rows.append("### Target slowdown, pure-Python loop (~1.5 s), %d alternating runs\n" % n)
            rows.append("| Python | no sampling (median s) | 100 Hz ratio (min-max) | "
                        "1 kHz ratio (min-max) |")
            rows.append("|---|---|---|---|")
            for i in ins:
                res = {0: [], 100: [], 1000: []}
                for _ in range(n):
                    for rate in (0, 100, 1000):
                        cmd = i.argv(script(i), "work", 1.5)
                        if rate:
                            cmd = [bin_, "record", "-r", str(rate), "-f", "collapsed",
                                   "-o", "/dev/null", "--"] + cmd
                        rc, out, _ = run_rusage(cmd)
                        m = re.search(r"elapsed ([0-9.]+)", out)
                        if m:
                            res[rate].append(float(m.group(1)))
                base = statistics.median(res[0]) if res[0] else None

                def ratio(rate):
                    if not base or not res[rate]:
                        return "-"
                    r = [x / base for x in res[rate]]
                    return "%.3f (%.3f-%.3f)" % (statistics.median(r), min(r), max(r))
                rows.append("| %s | %s | %s | %s |" % (i.label, fmt(base and round(base, 3)),
                                                       ratio(100), ratio(1000)))
                log(rows[-1])
            rows.append("")

        # ---- memory
        if "memory" in only:
            rows.append("### Memory: record at 1 kHz of 10 000 distinct stacks, %.0f s\n"
                        % args.mem_seconds)
            rows.append("| Python | samples | distinct stacks | peak RSS |")
            rows.append("|---|---|---|---|")
            for i in ins[-1:]:
                t = Target(i, script(i), "stacks", 10000)
                try:
                    out = os.path.join(tmp, "mem.txt")
                    rc, text, ru = run_rusage([bin_, "record", "-r", "1000", "-d",
                                               str(args.mem_seconds), "-f", "collapsed",
                                               "-o", out, str(t.pid)],
                                              timeout=args.mem_seconds + 120)
                    m = REPORT_RE.search(text)
                    with open(out) as f:
                        distinct = sum(1 for _ in f)
                    rows.append("| %s | %s | %d | %.1f MiB |" % (
                        i.label, m.group(1) if m else "?", distinct, ru.ru_maxrss / 1024.0))
                    log(rows[-1])
                finally:
                    t.kill()
            rows.append("")
    finally:
        for p in _procs:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except OSError:
                    pass
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(sid_tmp, ignore_errors=True)
    print("\n".join(rows))


def enter_mount_namespace():
    """Tools run inside the sid chroot (python3.15 -m profiling.sampling,
    austin on chrooted targets) need /proc there: re-exec in a private mount
    namespace and mount proc on SID/proc, invisible to the rest of the
    machine and gone with this process tree."""
    if not os.path.isdir(SID) or os.path.ismount(os.path.join(SID, "proc")):
        return
    if os.environ.get("SNAKESCOPE_BENCH_NS") != "1":
        os.environ["SNAKESCOPE_BENCH_NS"] = "1"
        os.execvp("unshare", ["unshare", "--mount", "--propagation", "private", "--",
                              sys.executable, os.path.abspath(__file__)] + sys.argv[1:])
    subprocess.run(["mount", "-t", "proc", "proc", os.path.join(SID, "proc")], check=False)


if __name__ == "__main__":
    enter_mount_namespace()
    main()
