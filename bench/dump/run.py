#!/usr/bin/env python3
"""Dump-latency benchmark: snakescope against its peers on the same targets.

    python3 bench/dump/run.py [--runs N] [--quick] [--python LABEL ...]
                              [--shape TxD ...] [--tool NAME ...] [--no-stall]

For every interpreter x target shape (threads x Python depth, every thread
parked in read(2) at that depth, see target.py) it starts one target and
runs each available tool against it, interleaved run by run, timing the
whole command (wall clock, output captured through pipes).  It prints a
markdown table of medians with min-max and IQR, snakescope's own pause (from
--verbose), peer/snakescope ratios from the same run, and (unless
--no-stall) the largest stall the target itself perceived while each tool
ran (a second target with one extra spinning "ticker" thread).

Must run as root (ptrace of unrelated processes, chroot).  Every subprocess
has a timeout; targets are killed on exit, on Ctrl-C, and cannot outlive the
harness (they park on a pipe whose write end only the harness holds, and
have PR_SET_PDEATHSIG=SIGKILL).  See bench/README.md.
"""

import argparse
import ctypes
import datetime
import glob
import hashlib
import json
import mmap
import os
import platform
import re
import select
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
TARGET = os.path.join(HERE, "target.py")
SID = os.environ.get("SNAKESCOPE_SID", "/var/cache/snakescope/sid")

SHAPES = [(1, 10), (10, 100), (100, 50)]

# ---------------------------------------------------------------- targets

_targets = []       # live Target objects, for cleanup
_tmpdirs = []       # directories to remove at exit


def count_lines(found):
    d = {}
    for line in found:
        d[int(line)] = d.get(int(line), 0) + 1
    return d


def _pdeathsig():
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except Exception:
        pass


class TargetError(Exception):
    pass


class Interp:
    """One Python to run targets on.  root is a chroot directory or None."""

    def __init__(self, label, exe, root=None):
        self.label = label
        self.exe = exe          # path as seen by the target (inside root)
        self.root = root

    def host_path(self, path):
        return os.path.join(self.root, path.lstrip("/")) if self.root else path

    def exists(self):
        return os.access(self.host_path(self.exe), os.X_OK)

    def argv(self, *args):
        pre = ["chroot", self.root] if self.root else []
        return pre + [self.exe] + list(args)

    def version(self):
        out = run_quiet(self.argv("-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"), 30)
        return out.strip() if out else "?"


def run_group(argv, timeout, stderr=subprocess.PIPE):
    """subprocess.run in its own process group, killed whole on timeout or
    on any exception (Ctrl-C), so no grandchild outlives it.  Returns
    (returncode, stdout bytes, stderr bytes); raises TimeoutExpired."""
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=stderr,
                         stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
        return p.returncode, out, err
    except BaseException:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except OSError:
            pass
        p.communicate()   # reaps the leader only after the group is killed
        raise


def run_quiet(argv, timeout):
    try:
        return run_group(argv, timeout, stderr=subprocess.STDOUT)[1].decode(errors="replace")
    except (OSError, subprocess.TimeoutExpired):
        return None


class Target:
    def __init__(self, interp, threads, depth, stall=False, timeout=60.0):
        self.interp, self.threads, self.depth = interp, threads, depth
        self.proc = None
        self.park_w = None
        self.stall_mm = None
        # The script (and the stall file) must be visible inside a chroot.
        tmp = tempfile.mkdtemp(prefix="snakescope-bench-",
                               dir=interp.host_path("/tmp"))
        _tmpdirs.append(tmp)
        self.tmp = tmp
        inner_tmp = "/tmp/" + os.path.basename(tmp)
        shutil.copy(TARGET, os.path.join(tmp, "target.py"))
        ready_r, ready_w = os.pipe()
        park_r, self.park_w = os.pipe()
        self.park_fd = park_r
        args = [str(threads), str(depth), str(ready_w), str(park_r)]
        if stall:
            with open(os.path.join(tmp, "stall"), "wb") as f:
                f.write(b"\0" * 24)
            fd = os.open(os.path.join(tmp, "stall"), os.O_RDWR)
            self.stall_mm = mmap.mmap(fd, 24)
            os.close(fd)
            args.append(inner_tmp + "/stall")
        argv = interp.argv(inner_tmp + "/target.py", *args)
        _targets.append(self)
        try:
            self.proc = subprocess.Popen(
                argv, pass_fds=(ready_w, park_r), stdin=subprocess.DEVNULL,
                start_new_session=True, preexec_fn=_pdeathsig)
        finally:
            os.close(ready_w)
            os.close(park_r)
        self.pid = self.proc.pid
        try:
            r, _, _ = select.select([ready_r], [], [], timeout)
            got = os.read(ready_r, 1) if r else None
        finally:
            os.close(ready_r)
        if got != b"R":
            self.stop()
            raise TargetError("target %s %dx%d did not get ready (%s)" % (
                interp.label, threads, depth,
                "timeout" if got is None else "exit status %s" % self.proc.poll()))
        self.wait_parked(timeout)

    def parked_count(self):
        """Threads of the target inside read(park_fd), from /proc."""
        n = 0
        want = "0 0x%x " % self.park_fd
        for path in glob.glob("/proc/%d/task/*/syscall" % self.pid):
            try:
                with open(path) as f:
                    if f.read().startswith(want):
                        n += 1
            except OSError:
                pass
        return n

    def wait_parked(self, timeout=30.0):
        """Poll (not sleep-and-hope) until every thread is in read(2)."""
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise TargetError("target %d exited (status %s)" % (self.pid, self.proc.returncode))
            n = self.parked_count()
            if n == self.threads:
                return
            if time.monotonic() > deadline:
                raise TargetError("target %d: only %d of %d threads parked" % (self.pid, n, self.threads))
            time.sleep(0.001)

    # stall file: [0:8] worst gap ns, [8:16] reset counter, [16:24] ack
    def stall_reset(self, timeout=5.0):
        k = struct.unpack_from("<Q", self.stall_mm, 8)[0] + 1
        self.stall_mm[8:16] = struct.pack("<Q", k)
        deadline = time.monotonic() + timeout
        while struct.unpack_from("<Q", self.stall_mm, 16)[0] != k:
            if time.monotonic() > deadline:
                raise TargetError("target %d: stall ticker does not answer" % self.pid)
            time.sleep(0.0002)

    def stall_read(self):
        return struct.unpack_from("<Q", self.stall_mm, 0)[0] / 1e6  # ms

    def stop(self):
        if self.park_w is not None:
            os.close(self.park_w)   # lifeline: every parked read sees EOF
            self.park_w = None
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except OSError:
                pass
        if self.proc is not None:
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                pass
        if self.stall_mm is not None:
            self.stall_mm.close()
            self.stall_mm = None
        if self in _targets:
            _targets.remove(self)


def cleanup():
    for t in list(_targets):
        t.stop()
    for d in _tmpdirs:
        shutil.rmtree(d, ignore_errors=True)
    del _tmpdirs[:]


def _on_signal(signum, frame):
    raise KeyboardInterrupt("signal %d" % signum)

# ---------------------------------------------------------------- tools

ANSI = re.compile(r"\x1b\[[0-9;]*m")
# traceback style (snakescope, gdb py-bt, profiling.sampling):
#   File "/tmp/.../target.py", line 58, in deep
DEEP_TB = re.compile(r"\bline (\d+), in deep\b")


def _target_lines():
    """Line numbers in target.py of the recursive call and of the parking
    read: every `deep` frame of a correct dump is on one of the two."""
    rec = read = None
    with open(TARGET) as f:
        for n, line in enumerate(f, 1):
            if "return deep(n - 1" in line:
                rec = n
            elif "os.read(PARK_FD" in line and "if not" in line:
                read = n
    return rec, read


LINE_REC, LINE_READ = _target_lines()


def expected_frames(threads, depth):
    """{line: count} of `deep` frames in a correct dump: each thread has one
    frame in the read and the rest in the recursive call; the main thread
    has one `deep` frame fewer (its bottom frame is <module>)."""
    return {LINE_REC: threads * depth - 1 - threads, LINE_READ: threads}


def fmt_frames(fr):
    return "{%s}" % ", ".join("line %d: %d" % kv for kv in sorted(fr.items())) if fr else "none"


class Result:
    def __init__(self, wall_ms, ok, frames=None, pause_ms=None, out="", err=""):
        self.wall_ms, self.ok, self.frames = wall_ms, ok, frames
        self.pause_ms, self.out, self.err = pause_ms, out, err


class Tool:
    name = "?"
    runs_key = "runs"
    timeout = 60

    def __init__(self, args):
        self.args = args

    def available(self):
        """None if the tool can be used at all, else the reason it cannot."""
        return None

    def applies(self, interp):
        """None if it makes sense on this interpreter, else why not."""
        return None

    def argv(self, target):
        raise NotImplementedError

    def frames(self, out, err):
        """{line: count} of the `deep` frames in the tool's output."""
        return count_lines(DEEP_TB.findall(out))

    def run(self, target):
        argv = self.argv(target)
        t0 = time.perf_counter()
        try:
            rc, out, err = run_group(argv, self.timeout)
        except subprocess.TimeoutExpired:
            return Result((time.perf_counter() - t0) * 1e3, False, err="timeout after %ds" % self.timeout)
        except OSError as e:
            return Result(0.0, False, err="cannot run %s: %s" % (argv[0], e))
        wall = (time.perf_counter() - t0) * 1e3
        out = out.decode(errors="replace")
        err = err.decode(errors="replace")
        if rc != 0:
            return Result(wall, False, out=out, err="exit %d: %s" % (rc, err.strip() or out.strip()[-500:]))
        return Result(wall, True, self.frames(out, err), self.pause(out, err), out, err)

    def pause(self, out, err):
        return None

    def warmup(self, target):
        return self.run(target)

    def command_text(self, target):
        return " ".join(self.argv(target))


class Snakescope(Tool):
    name = "snakescope"
    timeout = 30

    def __init__(self, args):
        Tool.__init__(self, args)
        # Run a private copy, so a rebuild during the run cannot mix builds.
        self.copy = None
        self.sha = "?"
        if os.access(args.snakescope, os.X_OK):
            d = tempfile.mkdtemp(prefix="snakescope-bench-bin-")
            _tmpdirs.append(d)
            self.copy = os.path.join(d, "snakescope")
            shutil.copy2(args.snakescope, self.copy)
            with open(self.copy, "rb") as f:
                self.sha = hashlib.sha256(f.read()).hexdigest()[:12]

    def exe(self):
        return self.copy or self.args.snakescope

    def available(self):
        if not self.copy:
            return "%s not built (run make)" % self.args.snakescope
        return None

    def argv(self, target):
        return [self.exe(), "dump", "--verbose", str(target.pid)]

    def pause(self, out, err):
        m = re.search(r"stopped for (\d+) us", err)
        return int(m.group(1)) / 1e3 if m else None


class Gdb(Tool):
    name = "gdb py-bt"
    runs_key = "gdb_runs"
    timeout = 300

    def available(self):
        if not shutil.which("gdb"):
            return "gdb not installed"
        if not glob.glob("/usr/share/gdb/auto-load/usr/bin/python3.11*-gdb.py"):
            return "python3.11-dbg's gdb scripts not installed (apt-get install python3.11-dbg)"
        return None

    def applies(self, interp):
        if interp.root or interp.exe != "/usr/bin/python3.11":
            return "n/a: py-bt needs the Debian python's debug info and gdb scripts"
        return None

    def argv(self, target):
        # The auto-load path is in gdb's default safe path (/usr/share/gdb/
        # auto-load); the explicit one just makes that independent of
        # ~/.gdbinit and gdb's configuration.
        return ["gdb", "-nx", "-batch", "-iex", "add-auto-load-safe-path /usr/share/gdb/auto-load",
                "-ex", "thread apply all py-bt", "-p", str(target.pid)]


def _sid_loader():
    """(loader, library path) to run a sid binary on the host."""
    for ld in ("lib64/ld-linux-x86-64.so.2", "usr/lib64/ld-linux-x86-64.so.2"):
        p = os.path.join(SID, ld)
        if os.path.exists(p):
            return [p, "--library-path",
                    ":".join(os.path.join(SID, d) for d in ("usr/lib/x86_64-linux-gnu", "lib/x86_64-linux-gnu"))]
    return None


class Austin(Tool):
    name = "austin -w"
    timeout = 30

    def __init__(self, args):
        Tool.__init__(self, args)
        self.host_cmd = self.chroot_cmd = None
        self.why = None
        self.version = None
        self.mode = {}
        self._find()

    def _find(self):
        """Find austin >= 3: --austin, the sid chroot's /opt/austin, PATH.
        A binary from the chroot runs on the host through the chroot's own
        ld.so and libraries (it links sid's libc and libunwind)."""
        cands = []
        if self.args.austin:
            cands.append(self.args.austin)
        for pat in ("opt/austin*/austin", "opt/austin*/*/austin", "opt/austin*/*/*/austin",
                    "usr/local/bin/austin", "usr/bin/austin"):
            cands += sorted(glob.glob(os.path.join(SID, pat)))
        if shutil.which("austin"):
            cands.append(shutil.which("austin"))
        tried = []
        for c in cands:
            if not (os.path.isfile(c) and os.access(c, os.X_OK)):
                continue
            for pre in ([], _sid_loader() if c.startswith(SID + "/") else None):
                if pre is None:
                    continue
                out = run_quiet(pre + [c, "--version"], 10)
                m = re.search(r"austin (\d+)\.(\d+)(\.\d+)?", out or "")
                if m and int(m.group(1)) >= 3:
                    self.host_cmd = pre + [c]
                    self.chroot_cmd = ["chroot", SID, c[len(SID):]] if c.startswith(SID + "/") else None
                    self.version = m.group(0)
                    return
                tried.append("%s%s: %s" % ("(sid ld.so) " if pre else "", c,
                                           ((out or "no output").strip().splitlines() or ["?"])[-1]))
        self.why = ("no austin >= 3 found (looked in %s/opt, PATH)" % SID) if not tried else \
            "no usable austin >= 3: " + "; ".join(tried)

    def available(self):
        return self.why

    def warmup(self, target):
        """Run from the host; on a chrooted target that fails, also try
        austin inside the same chroot (it then sees the target's files)."""
        def why(r):
            if not r.ok:
                # skip austin's ASCII-art banner: keep the first real sentence
                text = " ".join(ANSI.sub("", r.err.split(":", 1)[-1] + " " + r.out).split())
                m = re.search(r"[A-Z][a-z]+( [\w'-]+){3,}[^.]*\.", text)
                return "%s: %s" % (r.err.split(":")[0], m.group(0) if m else text[-120:])
            return "exit 0 but no frame of `deep` (ends: %s)" % " | ".join(
                ANSI.sub("", r.out).strip().splitlines()[-2:])[:100]
        self.mode[target.interp.label] = "host"
        r = self.run(target)
        if (not r.ok or not r.frames) and target.interp.root and self.chroot_cmd:
            self.mode[target.interp.label] = "chroot"
            r2 = self.run(target)
            if r2.ok and r2.frames:
                return r2
            r.ok, r.err = False, "from the host: %s; inside the chroot: %s" % (why(r), why(r2))
            self.mode[target.interp.label] = "host"
        return r

    def argv(self, target):
        cmd = self.chroot_cmd if self.mode.get(target.interp.label) == "chroot" else self.host_cmd
        return cmd + ["-w", str(target.pid)]

    def frames(self, out, err):
        # austin's where mode prints one line per frame, in colour whether
        # or not stdout is a terminal: "    deep (/tmp/.../target.py:58)".
        return count_lines(re.findall(r"^\s*deep \(.*:(\d+)\)\s*$", ANSI.sub("", out), re.M))


class Sampling(Tool):
    """CPython 3.15's own remote dumper (python3.15 -m profiling.sampling
    dump -a PID), run inside the chroot.  By default it reads the running
    target; --blocking stops every thread first, like snakescope does."""
    timeout = 60
    _sub = {}   # shared between the two variants: the --help probe is slow

    def __init__(self, args, blocking):
        Tool.__init__(self, args)
        self.blocking = blocking
        self.name = "sampling dump -a" + (" --blocking" if blocking else "")

    def available(self):
        py = os.path.join(SID, "usr/bin/python3.15")
        if not os.access(py, os.X_OK):
            return "no python3.15 in %s" % SID
        if "sub" not in self._sub:
            help_ = run_quiet(["chroot", SID, "/usr/bin/python3.15", "-m", "profiling.sampling", "dump", "--help"], 60) or ""
            missing = [o for o in ("--all-threads", "--blocking") if o not in help_]
            self._sub["sub"] = None if ("usage:" not in help_ or missing) else "dump"
            self._sub["why"] = "python3.15 -m profiling.sampling dump --help: %s" % (
                "no %s" % ", ".join(missing) if "usage:" in help_ else " ".join(help_.split())[:200])
        return None if self._sub["sub"] else self._sub["why"]

    def applies(self, interp):
        if not (interp.root and interp.exe.endswith("python3.15")):
            return "n/a: ships with (and reads only) 3.15"
        return None

    def argv(self, target):
        return ["chroot", SID, "/usr/bin/python3.15", "-m", "profiling.sampling", "dump", "-a"] + \
            (["--blocking"] if self.blocking else []) + [str(target.pid)]


class Pystack(Tool):
    name = "pystack"
    timeout = 60

    def available(self):
        if not shutil.which("pystack"):
            return ("not installed, and Debian has no package for it (apt-cache policy pystack "
                    "finds none in bookworm, nor in the sid chroot)")
        return None

    def argv(self, target):
        return ["pystack", "remote", str(target.pid)]


def make_tools(args):
    return [Snakescope(args), Gdb(args), Austin(args), Sampling(args, True), Sampling(args, False), Pystack(args)]

# ---------------------------------------------------------------- stats


def stats(xs):
    xs = sorted(xs)
    if not xs:
        return None
    if len(xs) >= 4:
        q1, _, q3 = statistics.quantiles(xs, n=4)
    else:
        q1, q3 = xs[0], xs[-1]
    return {"n": len(xs), "median": statistics.median(xs), "min": xs[0], "max": xs[-1], "q1": q1, "q3": q3}


def fmt_ms(v):
    if v is None:
        return "-"
    if v >= 1000:
        return "%.0f" % v
    if v >= 100:
        return "%.0f" % v
    if v >= 10:
        return "%.1f" % v
    return "%.2f" % v


def fmt_cell(s):
    if s is None:
        return "-"
    return "%s [%s-%s]" % (fmt_ms(s["median"]), fmt_ms(s["min"]), fmt_ms(s["max"]))

# ---------------------------------------------------------------- main


def interpreters():
    pyenv_root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    out = run_quiet(["pyenv", "root"], 10) if shutil.which("pyenv") else None
    if out and out.strip() and os.path.isdir(out.strip()):
        pyenv_root = out.strip()
    return [
        Interp("3.8.18 pyenv", os.path.join(pyenv_root, "versions/3.8.18/bin/python")),
        Interp("3.11 Debian static", "/usr/bin/python3.11"),
        Interp("3.11.7 pyenv shared", os.path.join(pyenv_root, "versions/3.11.7/bin/python")),
        Interp("3.12.1 pyenv", os.path.join(pyenv_root, "versions/3.12.1/bin/python")),
        Interp("3.14 sid chroot", "/usr/bin/python3.14", SID),
        Interp("3.15 sid chroot", "/usr/bin/python3.15", SID),
    ]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=21, help="timed runs per tool and target (default 21)")
    ap.add_argument("--gdb-runs", type=int, default=3, help="timed gdb runs (slow; default 3)")
    ap.add_argument("--stall-runs", type=int, default=5, help="runs per tool on the stall target (default 5)")
    ap.add_argument("--quick", action="store_true", help="5 runs, 1 gdb run, 2 stall runs")
    ap.add_argument("--no-stall", action="store_true", help="skip the target-perceived stall measurement")
    ap.add_argument("--python", action="append", help="only interpreters whose label contains this")
    ap.add_argument("--shape", action="append", help="only these shapes, e.g. 100x50")
    ap.add_argument("--tool", action="append", help="only tools whose name contains this")
    ap.add_argument("--snakescope", default=os.environ.get("SNAKESCOPE", os.path.join(REPO, "build/snakescope")))
    ap.add_argument("--austin", help="austin binary to use (default: look in the sid chroot's /opt)")
    ap.add_argument("--json", help="also write raw results here")
    ap.add_argument("--log", help="write every failing command's output here")
    args = ap.parse_args()
    if args.quick:
        args.runs, args.gdb_runs, args.stall_runs = 5, 1, 2
    if os.geteuid() != 0:
        sys.exit("run.py: needs root (ptrace of unrelated processes, chroot)")
    enter_mount_namespace()

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGHUP, _on_signal)
    try:
        return bench(args)
    except KeyboardInterrupt:
        print("\ninterrupted: targets cleaned up", file=sys.stderr)
        return 130
    finally:
        cleanup()


def enter_mount_namespace():
    """The sid chroot has no /proc mounted, and tools run inside it (python3.15
    -m profiling.sampling, austin on chrooted targets) need one.  Re-exec in a
    private mount namespace and mount proc on SID/proc there: the host and the
    chroot's owner never see it, and it goes away with this process tree."""
    if not os.path.isdir(SID) or os.path.ismount(os.path.join(SID, "proc")):
        return
    if os.environ.get("SNAKESCOPE_BENCH_NS") != "1":
        if not shutil.which("unshare"):
            log("run.py: no unshare(1); tools inside %s will lack /proc" % SID)
            return
        os.environ["SNAKESCOPE_BENCH_NS"] = "1"
        argv = ["unshare", "--mount", "--propagation", "private", "--",
                sys.executable, os.path.abspath(__file__)] + sys.argv[1:]
        os.execvp("unshare", argv)
    r = subprocess.run(["mount", "-t", "proc", "proc", os.path.join(SID, "proc")],
                       stdin=subprocess.DEVNULL, timeout=30)
    if r.returncode != 0:
        log("run.py: could not mount proc in %s; tools inside it will lack /proc" % SID)


def tool_versions(tools):
    v = []
    for t in tools:
        if t.available():
            continue
        if isinstance(t, Snakescope):
            out = run_quiet([t.exe(), "--version"], 10)
            v.append("snakescope %s (git %s, build/snakescope sha256 %s)" % (
                out.strip().splitlines()[0] if out and out.strip() else "?", snakescope_rev(), t.sha))
        elif isinstance(t, Gdb):
            out = run_quiet(["gdb", "--version"], 10)
            v.append(out.strip().splitlines()[0] if out else "gdb ?")
        elif isinstance(t, Austin):
            v.append("%s (%s)" % (t.version, " ".join(t.host_cmd)))
        elif isinstance(t, Sampling) and t.blocking:
            out = run_quiet(["chroot", SID, "/usr/bin/python3.15", "--version"], 30)
            v.append("%s -m profiling.sampling dump -a [--blocking] (inside the chroot)" % (out or "python3.15 ?").strip())
        elif isinstance(t, Pystack):
            out = run_quiet(["pystack", "--version"], 10)
            v.append((out or "pystack ?").strip())
    return v


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def measure_row(args, it, threads, depth, row, active, notes, failures, state):
    """Warm up and time every active tool on one target; returns the tools
    that worked.  Raises TargetError if the target is lost."""
    expect = expected_frames(threads, depth)
    where = "%s %s" % (it.label, row["shape"])
    target = Target(it, threads, depth)
    # warm-up (page cache, first attach), and a correctness check
    for t in list(active):
        state["last"] = t.name
        r = t.warmup(target)
        cell = row["cells"][t.name] = {"walls": [], "pauses": [], "frames": [], "errors": []}
        if r.ok and not r.frames and t.name != "snakescope":
            tail = " | ".join(ANSI.sub("", r.out).strip().splitlines()[-2:])
            r.ok, r.err = False, "exit 0 but no frame of `deep` in its output (ends: %s)" % tail[:120]
        if not r.ok:
            cell["unsupported"] = r.err.strip().splitlines()[0][:200] if r.err.strip() else "failed"
            failures.append((where, t.command_text(target), r.err, r.out))
            active.remove(t)
            log("  %-20s FAILED: %s" % (t.name, cell["unsupported"]))
        elif r.frames != expect:
            log("  %-20s warm-up saw `deep` frames %s, expected %s" % (
                t.name, fmt_frames(r.frames), fmt_frames(expect)))
        target.wait_parked()
    # timed runs, tools interleaved run by run so drift hits all alike
    nruns = {t.name: getattr(args, t.runs_key) for t in active}
    for i in range(max(nruns.values() or [0])):
        for t in active:
            if i >= nruns[t.name]:
                continue
            state["last"] = t.name
            r = t.run(target)
            cell = row["cells"][t.name]
            if r.ok:
                cell["walls"].append(r.wall_ms)
                cell["frames"].append(r.frames)
                if r.pause_ms is not None:
                    cell["pauses"].append(r.pause_ms)
            else:
                cell["errors"].append(r.err.strip()[:300])
                failures.append((where, t.command_text(target), r.err, r.out))
            target.wait_parked()
    for t in active:
        cell = row["cells"][t.name]
        cell["wall"] = stats(cell["walls"])
        cell["pause"] = stats(cell["pauses"])
        bad = [f for f in cell["frames"] if f != expect]
        if bad:
            notes.append("%s: %s showed wrong stacks in %d of %d runs: `deep` frames %s, expected %s" % (
                where, t.name, len(bad), len(cell["frames"]), fmt_frames(bad[0]), fmt_frames(expect)))
        if cell["errors"]:
            notes.append("%s: %s failed %d of %d runs: %s" % (
                where, t.name, len(cell["errors"]), len(cell["errors"]) + len(cell["walls"]),
                cell["errors"][0]))
        log("  %-20s %s ms%s" % (t.name, fmt_cell(cell["wall"]),
                                  (", pause %s ms" % fmt_ms(cell["pause"]["median"])) if cell["pause"] else ""))
    target.stop()
    return active


def stall_row(args, it, threads, depth, row, active, state):
    """Same shape plus a spinning ticker thread: the largest gap in its
    clock loop while each tool runs (and with none running)."""
    target = Target(it, threads, depth, stall=True)
    base = []
    for _ in range(args.stall_runs):
        target.stall_reset()
        time.sleep(0.05)   # idle window: the ticker's noise floor
        base.append(target.stall_read())
    row["stall"]["(idle 50 ms)"] = stats(base)
    for t in active:
        n = min(args.stall_runs, getattr(args, t.runs_key))
        gaps = []
        for _ in range(n):
            target.stall_reset()
            state["last"] = t.name
            r = t.run(target)
            if r.ok:
                gaps.append(target.stall_read())
            target.wait_parked()
        row["stall"][t.name] = stats(gaps)
    log("  stall: " + ", ".join("%s %s" % (k, fmt_ms(v["median"]) if v else "-")
                                for k, v in row["stall"].items()))
    target.stop()


def bench(args):
    shapes = SHAPES
    if args.shape:
        shapes = [s for s in SHAPES if "%dx%d" % s in args.shape]
    tools = make_tools(args)
    if args.tool:
        tools = [t for t in tools if any(w in t.name for w in args.tool)]
    tool_why = {t.name: t.available() for t in tools}
    interps = interpreters()
    if args.python:
        interps = [i for i in interps if any(w in i.label for w in args.python)]

    started = datetime.datetime.now()
    args.machine_start = machine()
    if os.getloadavg()[0] > 0.8:
        log("run.py: warning: load average %.2f before starting; other work on this "
            "%d-cpu machine will show up as noise" % (os.getloadavg()[0], os.cpu_count()))
    notes = []         # anything odd, printed under the table
    failures = []      # (where, command, message) for the log
    rows = []          # dicts

    for it in interps:
        if not it.exists():
            notes.append("%s: skipped, %s not found" % (it.label, it.host_path(it.exe)))
            log(notes[-1])
            continue
        ver = it.version()
        for threads, depth in shapes:
            row = {"python": it.label, "version": ver, "shape": "%dx%d" % (threads, depth),
                   "cells": {}, "stall": {}}
            rows.append(row)
            log("== %s (%s) %dx%d" % (it.label, ver, threads, depth))
            active = []
            for t in tools:
                why = tool_why[t.name] or t.applies(it)
                if why:
                    row["cells"][t.name] = {"skip": why}
                else:
                    active.append(t)
            where = "%s %s" % (it.label, row["shape"])
            state = {"last": None}
            try:
                active = measure_row(args, it, threads, depth, row, active, notes, failures, state)
                if not args.no_stall and active:
                    state["last"] = None
                    stall_row(args, it, threads, depth, row, active, state)
            except TargetError as e:
                notes.append("%s: %s%s" % (where, e, (" (right after a run of %s)" % state["last"])
                                           if state["last"] else ""))
                log("  " + notes[-1])
            finally:
                for t in list(_targets):
                    t.stop()

    args.machine_end = machine()
    report = render(args, tools, tool_why, rows, notes, started)
    print(report)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": rows, "notes": notes}, f, indent=1, default=str)
    if args.log and failures:
        with open(args.log, "w") as f:
            for where, cmd, err, out in failures:
                f.write("### %s\n$ %s\n%s\n%s\n\n" % (where, cmd, err, out[-4000:]))
    return 0


def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    deb = "?"
    try:
        with open("/etc/debian_version") as f:
            deb = f.read().strip()
    except OSError:
        pass
    return "%s, %d cpus, Linux %s, Debian %s, load average %s" % (
        cpu, os.cpu_count(), platform.release(), deb, " ".join("%.2f" % x for x in os.getloadavg()))


def snakescope_rev():
    out = run_quiet(["git", "-C", REPO, "describe", "--always", "--dirty"], 10)
    return out.strip() if out and "fatal" not in out else "?"


def render(args, tools, tool_why, rows, notes, started):
    names = [t.name for t in tools]
    peers = [n for n in names if n != "snakescope"]
    L = []
    L.append("Dump latency, wall ms of the whole command: median [min-max] over N runs "
             "(snakescope and austin/profiling.sampling N=%d, gdb N=%d; +1 untimed warm-up each)."
             % (args.runs, args.gdb_runs))
    L.append("`ss pause`: median of the time snakescope says (`--verbose`) it kept the target stopped, ms. "
             "`n/a`: the tool does not apply to that Python; `unsupported`: it ran and failed or showed "
             "no frame (reasons below).")
    L.append("")
    L.append("Machine: %s (at the end: %s). Date: %s. Command: `%s`" % (
        args.machine_start, args.machine_end.rsplit("load average ", 1)[-1], started.strftime("%Y-%m-%d %H:%M"),
        "python3 bench/dump/run.py " + " ".join(sys.argv[1:])))
    L.append("")
    L.append("Tools: " + "; ".join(tool_versions(tools)) + ".")
    L.append("")
    hdr = ["Python", "shape", "snakescope", "ss pause"] + peers
    L.append("| " + " | ".join(hdr) + " |")
    L.append("|" + "---|" * len(hdr))
    for row in rows:
        cells = [row["python"] + " (" + row["version"] + ")", row["shape"]]
        for n in ["snakescope"] + peers:
            c = row["cells"].get(n)
            if c is None:
                cells.append("-")
            elif "skip" in c:
                cells.append("n/a" if c["skip"].startswith("n/a") else "skipped")
            elif "unsupported" in c:
                cells.append("unsupported")
            else:
                cells.append(fmt_cell(c.get("wall")))
            if n == "snakescope":
                p = c.get("pause") if c and "walls" in c else None
                cells.append(fmt_ms(p["median"]) if p else "-")
        L.append("| " + " | ".join(cells) + " |")
    L.append("")
    L.append("IQR (q1-q3, ms) and peer/snakescope ratios of medians (>1: snakescope faster):")
    L.append("")
    hdr = ["Python", "shape", "snakescope IQR"] + ["%s ratio" % p for p in peers]
    L.append("| " + " | ".join(hdr) + " |")
    L.append("|" + "---|" * len(hdr))
    for row in rows:
        ss = row["cells"].get("snakescope") or {}
        sw = ss.get("wall")
        cells = [row["python"], row["shape"], ("%s-%s" % (fmt_ms(sw["q1"]), fmt_ms(sw["q3"]))) if sw else "-"]
        for p in peers:
            c = row["cells"].get(p) or {}
            pw = c.get("wall")
            cells.append("%.1fx" % (pw["median"] / sw["median"]) if (pw and sw) else "-")
        L.append("| " + " | ".join(cells) + " |")
    L.append("")
    if not args.no_stall:
        L.append("Stall the target perceived (largest gap, ms, in a spinning ticker thread's clock loop; "
                 "median over %d runs per tool; `idle` = same loop with no tool running):" % args.stall_runs)
        L.append("")
        hdr = ["Python", "shape", "idle"] + names
        L.append("| " + " | ".join(hdr) + " |")
        L.append("|" + "---|" * len(hdr))
        for row in rows:
            if not row["stall"]:
                continue
            cells = [row["python"], row["shape"]]
            st = row["stall"]
            cells.append(fmt_ms(st["(idle 50 ms)"]["median"]) if st.get("(idle 50 ms)") else "-")
            for n in names:
                s = st.get(n)
                cells.append(("%s [%s]" % (fmt_ms(s["median"]), fmt_ms(s["max"]))) if s else "-")
            L.append("| " + " | ".join(cells) + " |")
        L.append("")
        L.append("(stall cells: median [max])")
        L.append("")
    # goals
    goal = []
    for row in rows:
        ss = (row["cells"].get("snakescope") or {})
        sw, sp = ss.get("wall"), ss.get("pause")
        if not sw:
            continue
        slower = [p for p in peers if (row["cells"].get(p) or {}).get("wall")
                  and row["cells"][p]["wall"]["median"] <= sw["median"]]
        if slower:
            goal.append("%s %s: NOT faster than %s" % (row["python"], row["shape"], ", ".join(slower)))
        if row["shape"] == "100x50":
            goal.append("%s 100x50: wall %s ms (goal < 20: %s), stopped %s ms (goal < 10: %s)" % (
                row["python"], fmt_ms(sw["median"]), "met" if sw["median"] < 20 else "MISSED",
                fmt_ms(sp["median"]) if sp else "?",
                ("met" if sp["median"] < 10 else "MISSED") if sp else "unknown"))
    if goal:
        L.append("Goals (faster than every peer on every row; 100x50 under 20 ms wall, stopped under 10 ms):")
        L.append("")
        L += ["- " + g for g in goal]
        L.append("")
    skipped = [(n, w) for n, w in tool_why.items() if w]
    other = {}
    for row in rows:
        for n, c in row["cells"].items():
            if "skip" in c and not tool_why.get(n):
                other.setdefault((n, c["skip"]), []).append(row["python"])
            if "unsupported" in c:
                other.setdefault((n, "unsupported: " + c["unsupported"]), []).append(row["python"])
    if skipped or other:
        L.append("Tools not run:")
        L.append("")
        for n, w in skipped:
            L.append("- %s: %s" % (n, w))
        for (n, w), where in other.items():
            L.append("- %s on %s: %s" % (n, ", ".join(sorted(set(where))), w))
        L.append("")
    for t in tools:
        if isinstance(t, Austin):
            inside = sorted(k for k, m in t.mode.items() if m == "chroot")
            if inside:
                notes.append("austin ran inside the chroot (not from the host) on: " + ", ".join(inside))
    if notes:
        L.append("Notes:")
        L.append("")
        L += ["- " + n for n in notes]
        L.append("")
    return "\n".join(L)


if __name__ == "__main__":
    sys.exit(main())
