"""`snakescope run -- CMD`: crash reports (ctypes NULL dereference at
depth 4, abort() and SIGFPE in a C extension, a crash in a non-main thread,
in a multiprocessing child, in an extension called from a Python callback)
checked exactly against the program text, on every interpreter; exit status
and output equal to an unsupervised run; --core-dir cores read back by
dump --core (and gdb); SIGUSR2 dumps; signals passed on; a clean program
byte-identical; 127/126; a non-Python program's native-only report."""
import os
import re
import resource
import select
import shutil
import signal
import subprocess
import time
import uuid

import pytest

import helpers

TIMEOUT = 60
END = "snakescope: end of dump\n"
TARGETS = helpers.TARGETS_SRC
SCRIPTS = ("crashes.py", "runpark.py", "runclean.py")
ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LC_ALL": "C.UTF-8",
    "PYTHONIOENCODING": "utf-8",
    "PYTHONDONTWRITEBYTECODE": "1",
}


def no_core():
    # Crashing programs must not litter the test directory with cores.
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


# ------------------------------------------------------------- programs

class Prog:
    """The test programs and crashext built for one interpreter: dir is
    where they are as the interpreter sees them, host_dir on the host."""

    def __init__(self, interp, host_dir, dir_):
        self.interp = interp
        self.host_dir = host_dir
        self.dir = dir_

    def argv(self, script, *args):
        i = self.interp
        py = [i.exe, "-B", "-s", os.path.join(self.dir, script)] + list(args)
        if i.kind == "chroot":
            return ["chroot", i.root] + py
        if i.kind == "pidns":
            return ["unshare", "--pid", "--fork", "--mount-proc"] + py
        return py


def interp_run(interp, code):
    argv = [interp.exe, "-c", code]
    if interp.kind == "chroot":
        argv = ["chroot", interp.root] + argv
    p = subprocess.run(argv, capture_output=True, timeout=TIMEOUT)
    assert p.returncode == 0, p.stderr.decode("utf-8", "replace")
    return p.stdout.decode().strip()


_built = {}
_cleanup = []


def build(interp, base):
    """Copy the programs and compile crashext with the interpreter's own
    headers (host gcc; the chroot's headers for sid interpreters)."""
    if interp.id in _built:
        return _built[interp.id]
    if not shutil.which("gcc"):
        pytest.skip("gcc not installed (apt package build-essential): bash tests/setup.sh")
    if interp.kind == "chroot":
        dir_ = "/tmp/snakescope-run-%s" % uuid.uuid4().hex[:12]
        host_dir = interp.root + dir_
        _cleanup.append(host_dir)
    else:
        host_dir = dir_ = os.path.join(base, interp.id)
    os.makedirs(host_dir)
    os.chmod(host_dir, 0o755)
    for s in SCRIPTS:
        shutil.copyfile(str(TARGETS / s), os.path.join(host_dir, s))
    info = interp_run(interp, "import sysconfig; print(sysconfig.get_paths()['include']); "
                      "print(sysconfig.get_config_var('EXT_SUFFIX') or '.so')")
    include, suffix = info.splitlines()
    host_include = interp.host_path(include)
    if not os.path.exists(os.path.join(host_include, "Python.h")):
        pytest.skip("no Python.h for %s in %s (its -dev package): bash tests/setup.sh"
                    % (interp.id, host_include))
    out = os.path.join(host_dir, "crashext" + suffix)
    # Debian's pyconfig.h includes <x86_64-linux-gnu/python3.X/pyconfig.h>:
    # the chroot's, looked for after the host's own system headers.
    after = ["-idirafter", interp.host_path("/usr/include")] if interp.root != "/" else []
    p = subprocess.run(["gcc", "-shared", "-fPIC", "-O0", "-g", "-I", host_include] + after +
                       ["-o", out, str(TARGETS / "crashext.c")],
                       capture_output=True, timeout=TIMEOUT)
    assert p.returncode == 0, p.stderr.decode("utf-8", "replace")
    _built[interp.id] = Prog(interp, host_dir, dir_)
    return _built[interp.id]


@pytest.fixture(scope="session")
def progs_base(tmp_path_factory):
    d = tmp_path_factory.mktemp("run-progs")
    os.chmod(str(d), 0o755)
    yield str(d)
    for d in _cleanup:
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def prog(interp, progs_base, snakescope_bin):
    if interp.missing:
        pytest.skip(interp.missing)
    return build(interp, progs_base)


def run(argv, stdin=b"", timeout=TIMEOUT):
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=ENV, preexec_fn=no_core,
                         start_new_session=True)
    try:
        out, err = p.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(p)
        raise AssertionError("hung: %s" % " ".join(argv))
    finally:
        kill_group(p)  # leftovers of the program, if any
    return helpers.Result(argv, p.returncode, out.decode("utf-8", "replace"),
                          err.decode("utf-8", "replace"))


def supervised(*args, **kw):
    return run([helpers.SNAKESCOPE, "run"] + [str(a) for a in args], **kw)


# ------------------------------------------------------- report parsing

HEAD_RE = re.compile(r'^snakescope: process (\d+) \((.*)\) crashed: (SIG\w+) \((\w+): (.*)\) '
                     r'in thread (\d+) "(.*)"$')
FILE_RE = re.compile(r'^  File "(.*)", line (\d+), in (.*)$')
LOCAL_RE = re.compile(r'^        (\w+) = (.*)$')


NATIVE_RE = re.compile(r"^  ([^ !]+)!(\S+?)(?:\+0x[0-9a-f]+)?(?: \((.*)\))?$")


def parse_report(text):
    """{head: match groups, lines, stack: [("py", function, file, line,
    {local: repr}) or ("c", library, symbol)] innermost first (the
    crashing thread's merged stack), frames: its Python frames only,
    others: the text of the other threads}."""
    lines = text.splitlines()
    heads = [i for i, ln in enumerate(lines) if HEAD_RE.match(ln)]
    assert len(heads) == 1, "expected one crash report:\n" + text
    lines = lines[heads[0]:]
    rep = {"head": HEAD_RE.match(lines[0]).groups(), "lines": lines, "others": ""}
    i = next(k for k, ln in enumerate(lines) if ln.startswith("Crashing thread "))
    stack, end = parse_stack(lines[i + 1:])
    rep["others"] = "\n".join(lines[i + 1 + end:])
    rep["stack"] = stack[::-1]
    rep["frames"] = [f[1:] for f in rep["stack"] if f[0] == "py"]
    return rep


def parse_stack(lines):
    """The frames of a thread block (outermost first, as printed) and the
    index of the line that ends it."""
    stack = []
    for k, ln in enumerate(lines):
        if ln == "Other threads:" or ln.startswith("Thread "):
            return stack, k
        m = FILE_RE.match(ln)
        if m:
            stack.append(("py", m.group(3).rsplit(".", 1)[-1], m.group(1), int(m.group(2)), {}))
            continue
        m = LOCAL_RE.match(ln)
        if m and stack and stack[-1][0] == "py":
            stack[-1][4][m.group(1)] = m.group(2)
            continue
        m = NATIVE_RE.match(ln)
        if m:
            stack.append(("c", m.group(1), m.group(2)))
    return stack, len(lines)


def ours(stack):
    """The frames a test can know: Python ones and crashext's."""
    return [("py", f[1]) if f[0] == "py" else ("c", f[2]) for f in stack
            if f[0] == "py" or f[1].startswith("crashext")]


def read_or_empty(path):
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return ""


def tagged_line(path, text):
    with open(path) as f:
        for n, ln in enumerate(f, 1):
            if text in ln:
                return n
    raise AssertionError("%r not in %s" % (text, path))


# ---------------------------------------------------------------- crashes

# scenario: signal, si_code, thread name, the crashing thread's Python
# frames and crashext's C frames innermost first (all of them when they end
# in <module>, else the innermost ones), the library of the innermost
# native frame.
CRASHES = {
    "ctypes": ("SIGSEGV", "SEGV_MAPERR", "MainThread",
               ["string_at", "depth4", "depth3", "depth2", "depth1", "<module>"], "libc.so.6"),
    "abort": ("SIGABRT", "SI_TKILL", "MainThread",
              ["c:crashext_abort", "call_abort", "<module>"], "libc.so.6"),
    "fpe": ("SIGFPE", "FPE_INTDIV", "MainThread",
            ["c:crashext_div_zero", "call_div_zero", "<module>"], "crashext"),
    "thread": ("SIGSEGV", "SEGV_MAPERR", "crasher", ["c:crashext_null_deref", "crasher", "run"],
               "crashext"),
    "child": ("SIGSEGV", "SEGV_MAPERR", "MainThread", ["c:crashext_null_deref", "child", "run"],
              "crashext"),
    "callback": ("SIGSEGV", "SEGV_MAPERR", "MainThread",
                 ["c:crashext_null_deref", "callback", "c:crashext_call", "outer", "<module>"],
                 "crashext"),
}


def want_frames(spec):
    return [("c", f[2:]) if f.startswith("c:") else ("py", f) for f in spec]


@pytest.mark.parametrize("scenario", sorted(CRASHES))
def test_crash_report(prog, scenario, tmp_path):
    sig, code, thread, frames, lib0 = CRASHES[scenario]
    argv = prog.argv("crashes.py", scenario)
    plain = run(argv)
    report = str(tmp_path / "report.txt")
    extra = ("--core-dir", str(tmp_path)) if scenario == "ctypes" else ()
    res = supervised("--report", report, *(extra + ("--",) + tuple(argv)))
    # Exit status and the program's own output are unchanged.
    assert res.rc == plain.rc, "supervised %s, unsupervised %s\n%s" % (
        res.rc, plain.rc, res.describe())
    assert res.out == plain.out and res.err == plain.err, \
        "output differs:\n--- plain\n%s\n--- supervised\n%s" % (plain.describe(), res.describe())
    assert res.out.startswith("start %s\n" % scenario), res.describe()
    with open(report) as f:
        text = f.read()
    rep = parse_report(text)
    pid, comm, gsig, gcode, _, tid, gthread = rep["head"]
    assert (gsig, gcode, gthread) == (sig, code, thread), text
    want = want_frames(frames)
    got = ours(rep["stack"])
    if frames[-1] != "<module>":
        got = got[:len(want)]
    assert got == want, "frames (innermost first)\n got %r\nwant %r\n%s" % (got, want, text)
    script = os.path.join(prog.dir, "crashes.py")
    host_script = os.path.join(prog.host_dir, "crashes.py")
    for f in rep["frames"]:
        if f[0] in frames and f[0] not in ("run", "string_at"):
            assert f[1] == script, text
    # The innermost frame is native, where the signal came from; the
    # headline names the same instruction.
    assert rep["stack"][0][0] == "c" and rep["stack"][0][1].startswith(lib0), text
    where = next(ln for ln in rep["lines"] if ln.startswith("  the instruction at "))
    lib, sym = rep["stack"][0][1:]
    named = "" if sym.startswith("0x") else r": %s\+0x[0-9a-f]+" % re.escape(sym)
    assert re.search(r" is in \S*/%s%s \(build-id [0-9a-f]{16,}\)$" % (re.escape(lib), named),
                     where), (where, text)
    if scenario == "ctypes":
        check_depth4(rep, host_script, text)
        assert "  address 0x0 is unmapped" in rep["lines"], text
        check_core(prog, tmp_path, int(pid), rep, text)
    if scenario == "thread":
        assert 'Thread %s "MainThread"' % pid in rep["others"], text
        assert "in_thread" in rep["others"], text
    if scenario == "child":
        assert "child exit code -11" in res.out, res.describe()


def check_depth4(rep, host_script, text):
    d4 = next(f for f in rep["frames"] if f[0] == "depth4")
    assert d4[2] == tagged_line(host_script, "ctypes.string_at(0)"), text
    assert d4[3] == {"n": "3", "x": "6"}, text
    d3 = next(f for f in rep["frames"] if f[0] == "depth3")
    assert d3[3] == {"n": "2"}, text
    sa = next(f for f in rep["frames"] if f[0] == "string_at")
    assert sa[3] == {"ptr": "0", "size": "-1"}, text


def check_core(prog, tmp_path, pid, rep, text):
    cores = [p for p in os.listdir(str(tmp_path)) if p.startswith("core.")]
    assert len(cores) == 1, (cores, text)
    core = os.path.join(str(tmp_path), cores[0])
    assert cores[0].endswith(".%d" % pid), text
    assert "  core written to %s" % core in rep["lines"], text
    sysroot = ("--sysroot", prog.interp.root) if prog.interp.root != "/" else ()
    res = helpers.run_snakescope("dump", "--core", core, *sysroot)
    assert res.rc == 0, res.describe()
    blocks = helpers.parse_text_dump(res.out)
    crashed = [b for b in blocks if "received the fatal signal" in b[0]]
    assert len(crashed) == 1, res.describe()
    got = [f[2].rsplit(".", 1)[-1] for f in helpers.text_frames(crashed[0][1])][::-1]
    want = [f[0] for f in rep["frames"]]
    # dump --core --native: the same merged stack as the report
    res2 = helpers.run_snakescope("dump", "--core", core, "--native", *sysroot)
    assert res2.rc == 0, res2.describe()
    lines = res2.out.splitlines()
    i = next(k for k, ln in enumerate(lines) if "received the fatal signal" in ln)
    native, _ = parse_stack(lines[i + 1:])
    assert ours(native[::-1]) == ours(rep["stack"]), res2.describe() + text
    assert got == want, "core %r, report %r\n%s" % (got, want, res.describe())
    assert res.out.startswith("Killed by SIGSEGV (signal 11"), res.describe()
    if prog.interp.id == "pyenv-3.12" and shutil.which("gdb"):
        exe = os.path.realpath(prog.interp.exe)
        g = subprocess.run(["gdb", "-q", "-nx", "-batch", "-ex", "bt", exe, core],
                           capture_output=True, timeout=120)
        bt = g.stdout.decode("utf-8", "replace")
        assert "SIGSEGV" in bt + g.stderr.decode("utf-8", "replace"), bt
        assert "string_at" in bt or "_PyEval_EvalFrameDefault" in bt, bt


# ------------------------------------------------------ clean programs

def test_clean_program_identical(prog):
    argv = prog.argv("runclean.py")
    plain = run(argv, stdin=b"some input\n")
    res = supervised("--", *argv, stdin=b"some input\n")
    assert plain.rc == 7 and "stdin: SOME INPUT" in plain.out, plain.describe()
    assert (res.rc, res.out, res.err) == (plain.rc, plain.out, plain.err), \
        "--- plain\n%s\n--- supervised\n%s" % (plain.describe(), res.describe())


def start_supervised(args, stdout=subprocess.PIPE):
    p = subprocess.Popen([helpers.SNAKESCOPE, "run"] + list(args), stdin=subprocess.DEVNULL,
                         stdout=stdout, stderr=subprocess.PIPE, env=ENV,
                         preexec_fn=no_core, start_new_session=True)
    return p


def wait_line(p, want, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    buf = b""
    while b"\n" not in buf:
        left = deadline - time.monotonic()
        if left <= 0:
            kill_group(p)
            raise AssertionError("no %r within %d s" % (want, timeout))
        r, _, _ = select.select([p.stdout], [], [], left)
        if r:
            c = os.read(p.stdout.fileno(), 1)
            if not c:
                p.wait()
                raise AssertionError("exited (%s) before %r: %s" % (
                    p.returncode, want, p.stderr.read().decode("utf-8", "replace")))
            buf += c
    assert buf.decode().strip() == want, buf
    return buf


def finish(p, timeout=TIMEOUT):
    """Wait for snakescope to exit, then for its output (a program left
    behind, which a killed wrapper leaves, is killed first)."""
    try:
        p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(p)
        raise AssertionError("hung")
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except OSError:
        pass
    out, err = p.communicate(timeout=timeout)
    return out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def test_sigint_reaches_keyboardinterrupt(prog):
    p = start_supervised(["--"] + prog.argv("runpark.py", "sigint"))
    try:
        wait_line(p, "ready")
        os.kill(signal_target(p, prog), signal.SIGINT)
        out, err = finish(p)
    finally:
        kill_group(p)
    assert p.returncode == 5, (p.returncode, out, err)
    assert out == "caught KeyboardInterrupt\n", (out, err)


def pending_signals(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("ShdPnd:"):
                return int(line.split()[1], 16)
    return 0


def thread_state(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("State:"):
                return line.split()[1]
    return "?"


def quiet(pid, syscall):
    """pid is blocked in system call number syscall (7 poll, 270
    pselect6, which select.select() uses) with no SIGHUP
    pending."""
    with open("/proc/%d/syscall" % pid) as f:
        nr = f.read().split()[0]
    return nr == str(syscall) and thread_state(pid) == "S" and \
        not pending_signals(pid) & (1 << (signal.SIGHUP - 1))


def test_group_signal_reaches_the_program_once():
    """kill -HUP -PGID (or systemd stopping a unit) reaches snakescope and
    the program alike: the program must get one SIGHUP, not a second one
    passed on by snakescope.  The supervisor is the same for every
    interpreter, so one suffices."""
    p = start_supervised(["--", "/usr/bin/python3", "-B", "-s",
                          str(TARGETS / "runpark.py"), "hups"])
    try:
        wait_line(p, "ready")
        child, = helpers.children(p.pid)
        # Hold snakescope until the program has taken its own copy off
        # its queue (it waits in a signal-delivery-stop for its tracer):
        # a second copy sent now would not merge with the first.
        os.kill(p.pid, signal.SIGSTOP)
        helpers.wait_until(lambda: thread_state(p.pid) == "T", TIMEOUT,
                           what="snakescope to stop")
        os.killpg(p.pid, signal.SIGHUP)
        helpers.wait_until(lambda: thread_state(child) == "t", TIMEOUT,
                           what="the program's signal-delivery-stop")
        os.kill(p.pid, signal.SIGCONT)
        # Wait until it is all over: snakescope back in poll() with its
        # SIGHUP read (a copy it passes on is sent before that), the
        # program back in select() with no SIGHUP pending.
        helpers.wait_until(lambda: quiet(p.pid, 7) and quiet(child, 270),
                           TIMEOUT, what="both processes to be idle")
        os.kill(p.pid, signal.SIGTERM)
        out, err = finish(p)
    finally:
        kill_group(p)
    assert p.returncode == 0, (p.returncode, out, err)
    assert out == "hups 1\n", (out, err)


def signal_target(p, prog):
    """Where to send a signal meant for the supervised program: snakescope,
    which passes it on to its child; under unshare --fork (pidns), which
    does not pass signals on, the Python process itself."""
    if prog.interp.kind != "pidns":
        return p.pid
    kids = helpers.children(p.pid)
    assert len(kids) == 1, kids
    grand = helpers.children(kids[0])
    assert len(grand) == 1, grand
    return grand[0]


def kill_group(p):
    """Whatever happened, nothing of the test is left running."""
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except OSError:
        pass
    if p.poll() is None:
        p.wait()


def test_sigusr2_dump_then_sigterm(prog, tmp_path):
    report = str(tmp_path / "dumps.txt")
    p = start_supervised(["--report", report, "--native", "--"] +
                         prog.argv("runpark.py", "park"))
    try:
        wait_line(p, "ready")
        script = os.path.join(prog.host_dir, "runpark.py")
        main_line = tagged_line(script, "# @main")
        worker_line = tagged_line(script, "# @worker")

        sent = [0]
        seen = [""]

        def in_read(st):
            # Under the innermost Python frame, libc's read first: the
            # thread is in its read, not still giving up the GIL on the
            # way (a futex wake in libc, seen in CI).
            last_py = max((i for i, f in enumerate(st) if f[0] == "py"), default=None)
            below = st[last_py + 1:] if last_py is not None else []
            return below and below[0][0] == "c" and \
                below[0][2].startswith(("read", "__libc_read"))

        def parked():
            # The threads say "ready" just before their reads: dump
            # again until both are in them.
            sent[0] += 1
            os.kill(p.pid, signal.SIGUSR2)
            helpers.wait_until(lambda: read_or_empty(report).count(END) >= sent[0], 20,
                               "dump %d to end" % sent[0])
            text = read_or_empty(report)
            last = text.split("snakescope: dump of")[-1].split(END)[0]
            seen[0] = last
            frames = {}
            for head, body in helpers.parse_text_dump(last):
                m = re.search(r'"(.*)"', head)
                frames[m.group(1) if m else head] = [
                    (f[2].rsplit(".", 1)[-1], f[1]) for f in helpers.text_frames(body)]
            main = frames.get("MainThread", [])
            worker = frames.get("parked-worker", [])
            natives = {}
            for head, body in helpers.parse_text_dump(last):
                m = re.search(r'"(.*)"', head)
                natives[m.group(1) if m else head] = parse_stack(body)[0]
            ok = main and main[-1] == ("waiting_main", main_line) and \
                worker and worker[-1] == ("parked_worker", worker_line) and \
                all(in_read(natives.get(n, [])) for n in ("MainThread", "parked-worker"))
            return (text, main, worker, natives) if ok else None

        try:
            text, main, worker, natives = helpers.wait_until(
                parked, 20, "a dump with both threads in libc's read")
        except AssertionError as e:
            raise AssertionError("%s; the last dump:\n%s" % (e, seen[0]))
        # --native: under each thread's innermost Python frame, libc's
        # read and what libc calls from it (unnamed in a stripped libc).
        for name, func in (("MainThread", "waiting_main"), ("parked-worker", "parked_worker")):
            st = natives[name]
            last_py = max(i for i, f in enumerate(st) if f[0] == "py")
            assert st[last_py][1] == func, text
            below = st[last_py + 1:]
            assert all(f[0] == "c" and f[1].startswith("libc.so") for f in below), text
        assert main[0][0] == "<module>" and main[-2][0] == "park", text
        # unshare --fork runs Python in a child of its own
        n = 2 if prog.interp.kind == "pidns" else 1
        assert "snakescope: dump of %d supervised process%s\n" % (n, "es" if n > 1 else "") \
            in text, text
        assert helpers.stopped_or_traced(p.pid) == [], "snakescope itself stopped?"
        if prog.interp.kind == "pidns":
            # The init of a PID namespace ignores SIGTERM without a
            # handler, and unshare cannot die of a SIGKILL its child died
            # of: kill unshare itself.
            sig = signal.SIGKILL
            os.kill(helpers.children(p.pid)[0], sig)
        else:
            sig = signal.SIGTERM
            os.kill(p.pid, sig)
        out, err = finish(p)
        # The command died of the signal, and so does snakescope.
        assert p.returncode == -sig, (p.returncode, out, err)
        assert out == "", (out, err)  # after "ready"
    finally:
        kill_group(p)


# ---------------------------------------------------------- bad input

def test_not_found_127():
    res = supervised("--", "snakescope-no-such-command")
    assert res.rc == 127, res.describe()
    assert res.err == "snakescope: snakescope-no-such-command: command not found\n", res.describe()
    res = supervised("--", "/nonexistent/prog")
    assert res.rc == 127, res.describe()
    assert res.err == "snakescope: /nonexistent/prog: No such file or directory\n", res.describe()


def test_not_executable_126(tmp_path):
    f = tmp_path / "script.sh"
    f.write_text("#!/bin/sh\necho hi\n")
    os.chmod(str(f), 0o644)
    res = supervised("--", str(f))
    assert res.rc == 126, res.describe()
    assert res.err == "snakescope: %s: Permission denied\n" % f, res.describe()


def test_no_command_is_usage():
    res = supervised()
    assert res.rc == 2 and "which command?" in res.err, res.describe()


SEGV_C = r"""
#include <stdio.h>
volatile int *volatile where;
int segv_here(void) { return *where; }
int main(void) { puts("out"); fflush(stdout); return segv_here(); }
"""


def test_native_only_report_for_non_python(tmp_path):
    src = tmp_path / "segv.c"
    src.write_text(SEGV_C)
    exe = str(tmp_path / "segv")
    subprocess.run(["gcc", "-O0", "-g", "-o", exe, str(src)], check=True, timeout=TIMEOUT)
    report = str(tmp_path / "r.txt")
    res = supervised("--report", report, "--", exe)
    plain = run([exe])
    assert res.rc == plain.rc == -signal.SIGSEGV, res.describe()
    assert res.out == plain.out == "out\n", res.describe()
    with open(report) as f:
        text = f.read()
    rep = parse_report(text)
    assert rep["head"][1:4] == ("segv", "SIGSEGV", "SEGV_MAPERR"), text
    assert "  address 0x0 is unmapped" in rep["lines"], text
    assert "  no Python stacks: process %s (segv) runs no Python interpreter" % rep["head"][0] in text, text
    assert ours(rep["stack"]) == [], text
    assert rep["stack"][0] == ("c", "segv", "segv_here"), text
    assert rep["stack"][1] == ("c", "segv", "main"), text
    assert "  File \"" not in text, text


def test_wrapper_dying_like_its_child_is_not_a_crash(tmp_path):
    # sh kills itself with the signal: no report (unshare and timeout do
    # this to die like their child).
    res = supervised("--", "sh", "-c", "echo out; kill -SEGV $$")
    assert res.rc == -signal.SIGSEGV and res.out == "out\n", res.describe()
    assert "crashed" not in res.err, res.describe()


def test_shebang_script_under_a_shell(tmp_path):
    """The command a user types is often a shell line that forks and execs
    a script with a #! line: the crash in the grandchild is reported, and
    the shell's own exit status and message are unchanged."""
    script = tmp_path / "app.py"
    script.write_text("#!/usr/bin/python3\nimport os\n\n\ndef in_the_app():\n"
                      "    os.abort()\n\n\nin_the_app()\n")
    script.chmod(0o755)
    line = "echo before; %s; echo after $?" % script
    report = str(tmp_path / "r.txt")
    res = supervised("--report", report, "--", "bash", "-c", line)
    plain = run(["bash", "-c", line])
    assert res.rc == plain.rc == 0, res.describe()
    assert res.out == plain.out == "before\nafter 134\n", res.describe()
    with open(report) as f:
        rep = parse_report(f.read())
    assert rep["head"][1:3] == ("app.py", "SIGABRT"), rep["lines"]
    assert [f[1] for f in rep["stack"] if f[0] == "py"] == ["in_the_app", "<module>"], \
        rep["lines"]


def test_report_to_stderr_when_no_file(tmp_path):
    res = supervised("--", "/usr/bin/python3", "-c", "import os; os.abort()")
    assert res.rc == -signal.SIGABRT, res.describe()
    assert "crashed: SIGABRT (SI_TKILL" in res.err, res.describe()
    assert "in <module>" in res.err, res.describe()


def test_handled_signal_is_not_a_crash():
    # A program that handles SIGSEGV itself gets no report.
    code = "import signal, os; signal.signal(signal.SIGSEGV, lambda *a: None); os.kill(os.getpid(), signal.SIGSEGV); print('ok')"
    res = supervised("--", "/usr/bin/python3", "-c", code)
    assert res.rc == 0 and res.out == "ok\n" and res.err == "", res.describe()


def python_of(p, prog):
    """The supervised Python process of snakescope p."""
    kids = helpers.children(p.pid)
    assert len(kids) == 1, kids
    if prog.interp.kind == "pidns":
        kids = helpers.children(kids[0])
    return kids[0]


@pytest.mark.parametrize("kill_on_exit", [False, True], ids=["runs-on", "kill-on-exit"])
def test_snakescope_killed(prog, kill_on_exit):
    opts = ["--kill-on-exit"] if kill_on_exit else []
    p = start_supervised(opts + ["--"] + prog.argv("runpark.py", "park"))
    try:
        wait_line(p, "ready")
        py = python_of(p, prog)
        assert helpers.proc_status(py)["TracerPid"] == str(p.pid)
        os.kill(p.pid, signal.SIGKILL)
        p.wait(timeout=TIMEOUT)
        if kill_on_exit:
            helpers.wait_until(lambda: not os.path.exists("/proc/%d" % py) or
                               helpers.proc_status(py)["State"].startswith("Z"),
                               10, "process %d to be killed with snakescope" % py)
        else:
            # Not traced, not stopped: running on as if nothing happened.
            helpers.wait_until(lambda: helpers.stopped_or_traced(py) == [], 10,
                               "process %d to be let go" % py)
            assert os.path.exists("/proc/%d" % py)
    finally:
        kill_group(p)


def test_group_stop_and_continue(prog):
    """SIGSTOP keeps the command stopped (as without snakescope) until
    SIGCONT; the supervisor does not resume it."""
    p = start_supervised(["--"] + prog.argv("runpark.py", "sigint"))
    try:
        wait_line(p, "ready")
        py = python_of(p, prog)
        os.kill(py, signal.SIGSTOP)
        helpers.wait_until(lambda: all(
            helpers.proc_status(py, t)["State"][0] in "tT" for t in helpers.tasks(py)),
            10, "process %d to stop" % py)
        # Still stopped a while later: nobody resumed it.
        time.sleep(0.2)
        assert all(helpers.proc_status(py, t)["State"][0] in "tT" for t in helpers.tasks(py))
        os.kill(py, signal.SIGCONT)
        helpers.wait_until(lambda: helpers.proc_status(py)["State"][0] in "RS", 10,
                           "process %d to continue" % py)
        os.kill(signal_target(p, prog), signal.SIGINT)
        out, err = finish(p)
        assert p.returncode == 5, (p.returncode, out, err)
        assert out == "caught KeyboardInterrupt\n", (out, err)
    finally:
        kill_group(p)


def test_dump_signal_none_passes_sigusr2_on(tmp_path):
    code = ("import signal, sys, os\n"
            "signal.signal(signal.SIGUSR2, lambda *a: (print('got USR2'), sys.exit(4)))\n"
            "print('ready', flush=True)\n"
            "while True: signal.pause()\n")
    p = start_supervised(["--dump-signal", "none", "--", "/usr/bin/python3", "-c", code])
    try:
        wait_line(p, "ready")
        os.kill(p.pid, signal.SIGUSR2)
        out, err = finish(p)
        assert p.returncode == 4 and out == "got USR2\n", (p.returncode, out, err)
    finally:
        kill_group(p)
