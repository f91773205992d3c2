"""Helpers of snakescope's pytest suite: interpreters, targets, running
snakescope, reading /proc, comparing stacks.  See conftest.py for how they
are put together."""
import errno
import glob
import json
import os
import re
import select
import shutil
import signal
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TARGETS_SRC = REPO / "tests" / "py" / "targets"
SNAKESCOPE = os.path.abspath(os.environ.get("SNAKESCOPE") or str(REPO / "build" / "snakescope"))
CHROOT = (os.environ.get("SNAKESCOPE_CHROOT") or "/var/cache/snakescope/sid").rstrip("/")
STAMP = os.path.join(CHROOT, ".snakescope-stamp")
SETUP_HINT = "run tests/setup.sh"

READY_TIMEOUT = 30.0  # seconds a target may take to park every thread
SNAKESCOPE_TIMEOUT = 60.0  # seconds one snakescope run may take

SCENARIOS = ["basic", "threads", "recursion", "generators", "callbacks",
             "names", "unicode", "subinterp"]

CRASH_SIGNALS = {signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS, signal.SIGILL,
                 signal.SIGFPE, signal.SIGTRAP, signal.SIGSYS}


# ---------------------------------------------------------------- waiting

def wait_until(pred, timeout, what, interval=0.005):
    """Poll PRED until it returns a true value (returned); fail after TIMEOUT
    seconds saying WHAT was awaited.  Only for conditions nothing can be
    waited on for (a thread entering a system call, a CPU clock moving)."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(interval)


# ------------------------------------------------------------ interpreters

class Interp:
    """One Python to run targets with.

    kind: "host" (run directly), "chroot" (chroot CHROOT exe) or "pidns"
    (unshare --pid --fork --mount-proc exe).  exe is the path as the target
    sees it, host_exe as the host sees it.  missing is None or why it cannot
    be run (the reason of the skip)."""

    def __init__(self, id, kind, exe, version, debug=False, root="/", missing=None,
                 shared=None):
        self.id = id
        self.kind = kind
        self.exe = exe
        self.version = version  # (major, minor)
        self.debug = debug
        self.root = root
        self.missing = missing
        self.shared = shared  # expect a libpython (True), none (False), unknown (None)

    @property
    def host_exe(self):
        return self.exe if self.root == "/" else self.root + self.exe

    def host_path(self, path):
        """Host path of PATH as the target sees it."""
        return path if self.root == "/" else self.root + path

    def __repr__(self):
        return "Interp(%s)" % self.id


def pyenv_root():
    root = os.environ.get("PYENV_ROOT")
    if root:
        return root
    try:
        out = subprocess.run(["pyenv", "root"], capture_output=True, text=True, timeout=20)
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return os.path.expanduser("~/.pyenv")


PYENV_EXPECTED = ["2.7", "3.6", "3.7", "3.8", "3.9", "3.10", "3.11", "3.12", "3.13"]
SID_EXPECTED = ["3.13", "3.14", "3.15"]


def _vtuple(s):
    return tuple(int(x) for x in s.split("."))


def read_stamp():
    """{package: version} installed in the sid chroot, or None if it is not set up."""
    try:
        with open(STAMP) as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    pkgs = {}
    for ln in lines:
        parts = ln.split()
        if len(parts) == 3 and parts[0] == "installed":
            pkgs[parts[1]] = parts[2]
    return pkgs


def discover_interpreters():
    out = []
    # pyenv builds (shared libpython builds, PIE executables)
    root = pyenv_root()
    found = {}
    for d in sorted(glob.glob(os.path.join(root, "versions", "*"))):
        m = re.match(r"^(\d+)\.(\d+)\.(\d+)$", os.path.basename(d))
        exe = os.path.join(d, "bin", "python")
        if m and os.access(exe, os.X_OK):
            found["%s.%s" % m.group(1, 2)] = exe
    for v in sorted(set(PYENV_EXPECTED) | set(found), key=_vtuple):
        exe = found.get(v)
        missing = None if exe else (
            "pyenv Python %s not installed under %s/versions" % (v, root))
        out.append(Interp("pyenv-" + v, "host", exe or "", _vtuple(v), missing=missing,
                          shared=None))
    # Debian 12's own (static, non-PIE) 3.11 and its debug build
    for id_, exe, dbg, pkg in (("debian-3.11", "/usr/bin/python3.11", False, "python3.11"),
                               ("debian-3.11-dbg", "/usr/bin/python3.11d", True, "python3.11-dbg")):
        missing = None if os.access(exe, os.X_OK) else (
            "%s not installed (apt package %s): %s" % (exe, pkg, SETUP_HINT))
        out.append(Interp(id_, "host", exe, (3, 11), debug=dbg, missing=missing, shared=False))
    # sid chroot
    stamp = read_stamp()
    minors = set(SID_EXPECTED)
    if stamp:
        for p in stamp:
            m = re.match(r"^python(3\.\d+)$", p)
            if m:
                minors.add(m.group(1))
    for v in sorted(minors, key=_vtuple):
        nopie = bool(stamp) and ("python%s-nopie" % v) in stamp
        # python3.X-nopie diverts /usr/bin/python3.X to python3.X-pie
        variants = (("", "/usr/bin/python%s%s" % (v, "-pie" if nopie else ""), False, "python" + v),
                    ("-dbg", "/usr/bin/python%sd" % v, True, "python%s-dbg" % v),
                    ("-nopie", "/usr/bin/python" + v, False, "python%s-nopie" % v))
        for suffix, exe, dbg, pkg in variants:
            if stamp is None:
                missing = "sid chroot not set up in %s: %s" % (CHROOT, SETUP_HINT)
            elif pkg not in stamp:
                missing = "sid chroot %s has no %s package (sid may not ship it)" % (CHROOT, pkg)
            elif not os.access(CHROOT + exe, os.X_OK):
                missing = "%s missing in the sid chroot: %s" % (exe, SETUP_HINT)
            else:
                missing = None
            out.append(Interp("sid-%s%s" % (v, suffix), "chroot", exe, _vtuple(v), debug=dbg,
                              root=CHROOT, missing=missing, shared=False))
    # a pyenv 3.12 in its own PID namespace
    exe = found.get("3.12")
    missing = None
    if not exe:
        missing = "pyenv Python 3.12 not installed under %s/versions" % root
    elif not shutil.which("unshare"):
        missing = "unshare (util-linux) not installed: %s" % SETUP_HINT
    out.append(Interp("pidns-3.12", "pidns", exe or "", (3, 12), missing=missing))
    return out


_interps = []


def interpreters():
    """discover_interpreters(), once per process."""
    if not _interps:
        _interps.extend(discover_interpreters())
    return list(_interps)


def scenario_skip(interp, scenario):
    """Why SCENARIO does not apply to INTERP, or None."""
    if scenario == "subinterp" and interp.version < (3, 12):
        return "subinterpreters with their own threads need Python 3.12+"
    return None


# ------------------------------------------------------------------- /proc

def read_text(path):
    with open(path, "rb") as f:
        return f.read().decode("utf-8", "replace")


def tasks(pid):
    try:
        return sorted(int(t) for t in os.listdir("/proc/%d/task" % pid))
    except OSError:
        return []


def proc_status(pid, tid=None):
    path = "/proc/%d/status" % pid if tid is None else "/proc/%d/task/%d/status" % (pid, tid)
    out = {}
    for ln in read_text(path).splitlines():
        k, _, v = ln.partition(":")
        out[k] = v.strip()
    return out


def task_stat(pid, tid):
    """(state letter, utime+stime ticks) of a task."""
    s = read_text("/proc/%d/task/%d/stat" % (pid, tid))
    rest = s[s.rindex(")") + 2:].split()
    return rest[0], int(rest[11]) + int(rest[12])


def task_syscall(pid, tid):
    """The system call number a task is blocked in (str), or 'running'."""
    words = read_text("/proc/%d/task/%d/syscall" % (pid, tid)).split()
    return words[0] if words else "?"


def stopped_or_traced(pid, limit=4):
    """Descriptions of the tasks of PID that are stopped or traced (empty if
    none; at most LIMIT of them, then how many more)."""
    bad = []
    for tid in tasks(pid):
        try:
            st = proc_status(pid, tid)
        except OSError:
            continue
        state = st.get("State", "?")
        if state[:1] in ("t", "T") or st.get("TracerPid", "0") != "0":
            bad.append("task %d: State %s, TracerPid %s" % (tid, state, st.get("TracerPid")))
    if len(bad) > limit:
        bad[limit:] = ["and %d more tasks" % (len(bad) - limit)]
    return bad


def nspid_map(pid):
    """{tid in the target's PID namespace: tid on the host} for PID's tasks."""
    out = {}
    for tid in tasks(pid):
        try:
            ns = proc_status(pid, tid).get("NSpid", "").split()
        except OSError:
            continue
        if ns:
            out[int(ns[-1])] = int(ns[0])
    return out


def libpython_mapping(pid):
    """The host path of the libpython mapped into PID, or None."""
    for ln in read_text("/proc/%d/maps" % pid).splitlines():
        parts = ln.split(None, 5)
        if len(parts) == 6 and os.path.basename(parts[5]).startswith("libpython"):
            return parts[5]
    return None


def children(pid):
    try:
        return [int(x) for x in read_text("/proc/%d/task/%d/children" % (pid, pid)).split()]
    except OSError:
        return []


# ------------------------------------------------------------ snakescope

class Result:
    def __init__(self, cmd, rc, out, err, timed_out=False):
        self.cmd = cmd
        self.rc = rc
        self.out = out
        self.err = err
        self.timed_out = timed_out
        self.backtrace = None

    @property
    def crashed(self):
        return self.rc is not None and self.rc < 0 and -self.rc in CRASH_SIGNALS

    def json(self):
        return json.loads(self.out)

    def describe(self, limit=4000):
        if self.timed_out:
            how = "HUNG: still running after %.0f s, killed" % SNAKESCOPE_TIMEOUT
        elif self.rc is not None and self.rc < 0:
            how = "KILLED BY SIGNAL %s%s" % (signal.Signals(-self.rc).name,
                                            " (snakescope crashed)" if self.crashed else "")
        else:
            how = "exit status %s" % self.rc
        s = "$ %s\n  -> %s\n" % (" ".join(self.cmd), how)
        if self.err:
            s += "stderr:\n%s\n" % _clip(self.err, limit)
        if self.out:
            s += "stdout:\n%s\n" % _clip(self.out, limit)
        if self.backtrace:
            s += "backtrace (snakescope re-run under gdb):\n%s\n" % _clip(self.backtrace, limit)
        return s


def _clip(s, limit):
    return s if len(s) <= limit else s[:limit] + "\n[... %d more characters]" % (len(s) - limit)


_gdb_runs = [0]


def gdb_backtrace(cmd, env=None):
    """Re-run CMD under gdb -batch and return its backtrace (a few per session)."""
    gdb = shutil.which("gdb")
    if not gdb or _gdb_runs[0] >= 5:
        return None
    _gdb_runs[0] += 1
    try:
        p = subprocess.run([gdb, "-q", "-nx", "-batch", "-ex", "set confirm off",
                            "-ex", "set pagination off", "-ex", "run",
                            "-ex", "bt full 30", "-ex", "info registers rip", "--args"] + cmd,
                           capture_output=True, timeout=120, env=env)
        return p.stdout.decode("utf-8", "replace")[-12000:] + p.stderr.decode("utf-8", "replace")[-2000:]
    except (OSError, subprocess.SubprocessError) as e:
        return "(gdb failed: %s)" % e


def snakescope_missing():
    if not os.access(SNAKESCOPE, os.X_OK):
        return "snakescope binary %s not built: run make (or set SNAKESCOPE)" % SNAKESCOPE
    return None


def run_snakescope(*args, timeout=SNAKESCOPE_TIMEOUT, prefix=(), env=None, backtrace=True):
    cmd = list(prefix) + [SNAKESCOPE] + [str(a) for a in args]
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=timeout, env=env)
    except subprocess.TimeoutExpired as e:
        return Result(cmd, None, (e.stdout or b"").decode("utf-8", "replace"),
                      (e.stderr or b"").decode("utf-8", "replace"), timed_out=True)
    res = Result(cmd, p.returncode, p.stdout.decode("utf-8", "replace"),
                 p.stderr.decode("utf-8", "replace"))
    if res.crashed and backtrace:
        res.backtrace = gdb_backtrace(cmd, env)
    return res


# ----------------------------------------------------------------- targets

class TargetFailed(Exception):
    pass


class TargetSkipped(Exception):
    pass


class Target:
    """A running target program, parked, with its ground truth loaded.

    pid: the host pid of the Python process; truth: the ground truth dict,
    each thread record also given "host_tid" (the thread's tid as the host
    sees it, or None when the target could not tell its native id)."""

    _counter = [0]

    def __init__(self, interp, scenario, workdir, log_dir):
        self.interp = interp
        self.scenario = scenario
        self.workdir = workdir  # where the scripts are, as the target sees it
        self.log_dir = log_dir
        self.proc = None
        self.pid = None
        self.truth = None
        self.lifeline = None
        Target._counter[0] += 1
        n = Target._counter[0]
        self.truth_path = os.path.join(workdir, "truth-%d-%s.json" % (n, scenario))
        self.log_path = os.path.join(log_dir, "target-%d-%s-%s.log" % (n, interp.id, scenario))

    def argv(self, script, exe=None, args=None):
        py = [exe or self.interp.exe] + (list(args) if args is not None else ["-B", "-s", script])
        if self.interp.kind == "chroot":
            return ["chroot", self.interp.root] + py
        if self.interp.kind == "pidns":
            return ["unshare", "--pid", "--fork", "--mount-proc"] + py
        return py

    def log(self):
        try:
            return _clip(read_text(self.log_path), 6000)
        except OSError:
            return "(no log)"

    def start(self, script=None, env_extra=None, wait=True, timeout=READY_TIMEOUT,
              exe=None, args=None):
        """Start the target (EXE ARGS instead of the interpreter and the
        scenario's script if given); WAIT until it reports ready."""
        script = os.path.join(self.workdir, script or (self.scenario + ".py"))
        r, w = os.pipe()
        lr, lw = os.pipe()
        env = {
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "LC_ALL": "C.UTF-8",
            "PYTHONIOENCODING": "utf-8",
            "PYTHONDONTWRITEBYTECODE": "1",
            "SNAKESCOPE_READY_FD": str(w),
            "SNAKESCOPE_LIFELINE_FD": str(lr),
            "SNAKESCOPE_TRUTH": self.truth_path,
        }
        env.update(env_extra or {})
        with open(self.log_path, "wb") as logf:
            self.proc = subprocess.Popen(self.argv(script, exe, args), stdin=subprocess.DEVNULL,
                                         stdout=logf, stderr=subprocess.STDOUT,
                                         pass_fds=(w, lr), env=env, start_new_session=True)
        os.close(w)
        os.close(lr)
        self.lifeline = lw
        self._ready_r = r
        if wait:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout=READY_TIMEOUT):
        r = self._ready_r
        buf = b""
        deadline = time.monotonic() + timeout
        try:
            while b"\n" not in buf:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TargetFailed("%s did not report ready within %.0f s\n%s"
                                       % (self, timeout, self.log()))
                rl, _, _ = select.select([r], [], [], left)
                if not rl:
                    continue
                chunk = os.read(r, 4096)
                if not chunk:
                    rc = self.proc.poll()
                    raise TargetFailed("%s exited (status %s) before reporting ready\n%s"
                                       % (self, rc, self.log()))
                buf += chunk
        finally:
            os.close(r)
            self._ready_r = None
        msg = buf.decode("utf-8", "replace").strip()
        if msg.startswith("skip:"):
            raise TargetSkipped(msg[5:].strip())
        if msg != "ready":
            raise TargetFailed("%s reported %s\n%s" % (self, msg, self.log()))
        self.pid = self.python_pid()

    def python_pid(self):
        """The host pid of the Python process (for a PID namespace target,
        the child of unshare)."""
        if self.interp.kind != "pidns":
            return self.proc.pid
        kids = children(self.proc.pid)
        if len(kids) != 1:
            raise TargetFailed("unshare %d has children %r, expected one python" % (self.proc.pid, kids))
        return kids[0]

    def load_truth(self):
        with open(self.interp.host_path(self.truth_path)) as f:
            self.truth = json.load(f)
        ns = nspid_map(self.pid) if self.interp.kind == "pidns" else None
        for rec in self.truth["threads"]:
            nid = rec.get("native_id")
            if nid is None:
                rec["host_tid"] = None
            elif ns is not None:
                rec["host_tid"] = ns.get(nid)
            else:
                rec["host_tid"] = nid
        return self.truth

    def wait_blocked(self, timeout=READY_TIMEOUT):
        """Wait until every parked thread is asleep in its blocking call (seen
        from the host), so none still holds the GIL on its way in."""
        want = {"read": "0"}  # read(2); futex waits: any sleeping syscall
        for rec in self.truth["threads"]:
            how = rec.get("blocked_in")
            tid = rec.get("host_tid")
            if not how or tid is None:
                continue

            def blocked(tid=tid, how=how):
                try:
                    state, _ = task_stat(self.pid, tid)
                    sc = task_syscall(self.pid, tid)
                except OSError:
                    return False
                if state not in "SD" or sc == "running":
                    return False
                return want.get(how, sc) == sc

            wait_until(blocked, timeout, "thread %s (tid %d) of %s to block in %s"
                       % (rec.get("name"), tid, self, how))

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except OSError as e:
            if e.errno != errno.ESRCH:
                raise
        if self.pid and self.pid != self.proc.pid:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        if self.lifeline is not None:
            os.close(self.lifeline)
            self.lifeline = None
        if getattr(self, "_ready_r", None) is not None:
            os.close(self._ready_r)
            self._ready_r = None

    def __str__(self):
        return "target %s/%s (pid %s)" % (self.interp.id, self.scenario,
                                          self.pid or (self.proc and self.proc.pid))


def copy_targets(dest):
    """Copy the target scripts to DEST (a fresh directory), readable by all."""
    os.makedirs(dest, exist_ok=True)
    for name in os.listdir(TARGETS_SRC):
        src = TARGETS_SRC / name
        if src.is_file() and name.endswith(".py"):
            shutil.copyfile(src, os.path.join(dest, name))
    os.chmod(dest, 0o755)
    return dest


# ------------------------------------------------------------ comparisons

def py_frames(thread):
    return [f for f in thread.get("frames") or [] if f.get("kind", "python") == "python"]


def frame_key(f, with_qualname):
    k = (f.get("function"), f.get("file"), f.get("line"))
    return k + (f.get("qualname"),) if with_qualname else k


def fmt_frames(frames, mark=None, around=None):
    lines = []
    idx = range(len(frames))
    if around is not None and len(frames) > 24:
        lo, hi = max(0, around - 8), min(len(frames), around + 8)
        idx = range(lo, hi)
        if lo:
            lines.append("      ... %d frames ..." % lo)
    for i in idx:
        f = frames[i]
        lines.append("   %s%3d %s (%s) %s:%s" % (">" if i == mark else " ", i, f.get("function"),
                                                  f.get("qualname"), f.get("file"), f.get("line")))
    if around is not None and len(frames) > 24 and idx.stop < len(frames):
        lines.append("      ... %d frames ..." % (len(frames) - idx.stop))
    return "\n".join(lines)


def compare_frames(want, got, with_qualname, volatile_innermost=None):
    """None if GOT (dump frames) equals WANT (ground truth), else a message.
    VOLATILE_INNERMOST: the innermost frame's line may be any of these."""
    a = [frame_key(f, with_qualname) for f in want]
    b = [frame_key(f, with_qualname) for f in got]
    if volatile_innermost and a and b:
        if b[0][2] in volatile_innermost:
            b[0] = b[0][:2] + (a[0][2],) + b[0][3:]
    if a == b:
        return None
    i = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]), min(len(a), len(b)))
    return ("frames differ (innermost first; %d expected, %d dumped; first difference at "
            "index %d)\n  expected (ground truth):\n%s\n  dumped:\n%s"
            % (len(a), len(b), i, fmt_frames(want, i, i), fmt_frames(got, i, i)))


def index_threads(dump):
    """{(interpreter, ident): thread} of a dump document."""
    out = {}
    for t in dump.get("threads", []):
        out[(t.get("interpreter"), t.get("ident"))] = t
    return out


def truth_key(rec):
    return (rec.get("interpreter", 0), rec["ident"])


TEXT_FILE_RE = re.compile(r'^\s*File "(.*)", line (\d+), in (.*)$')


def parse_text_dump(out):
    """[(header line, [body lines])] per thread block of the text output."""
    blocks = []
    for ln in out.splitlines():
        if re.match(r"^Thread\b", ln):
            blocks.append((ln, []))
        elif blocks:
            blocks[-1][1].append(ln)
    return blocks


def header_interp(header):
    m = re.search(r"\binterpreter (\d+)", header)
    return int(m.group(1)) if m else 0


def text_frames(body):
    """[(file, line, name, following source line or None)] of a thread block."""
    out = []
    for i, ln in enumerate(body):
        m = TEXT_FILE_RE.match(ln)
        if m:
            nxt = body[i + 1] if i + 1 < len(body) else None
            if nxt is not None and (TEXT_FILE_RE.match(nxt) or not nxt.startswith("    ")):
                nxt = None
            out.append((m.group(1), int(m.group(2)), m.group(3), nxt))
    return out


def source_line(path, line):
    try:
        with open(path, "rb") as f:
            lines = f.read().decode("utf-8", "replace").splitlines()
        return lines[line - 1] if 0 < line <= len(lines) else None
    except OSError:
        return None
