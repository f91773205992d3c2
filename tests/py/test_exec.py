"""snakescope exec: code run inside live targets of every interpreter, in
every state the main thread can be in, with the target checking its own
invariants afterwards (tests/py/targets/execstates.py)."""
import json
import os
import signal
import time

import pytest

import helpers

INTERPS = helpers.interpreters()
BY_ID = {i.id: i for i in INTERPS}
# 1000 execs in a row against a busy multi-threaded target, on every
# interpreter: an exec costs ~15-40 ms there (a process start, two short
# stops, and the code waiting one switch interval, 5 ms, for the GIL behind
# the busy thread).  Under ASan (build-san) 50: the sanitizer triples
# snakescope's own CPU time per exec (~19 ms against ~7), and the 1000
# (or the 250 tried before) made the ASan half of CI the longer one, for a
# check of the target's health that the release run already makes with
# 1000; 50 still runs every path of snakescope many times over under the
# sanitizer.  SNAKESCOPE_EXEC_MANY overrides the count.
ASAN = "build-san" in helpers.SNAKESCOPE
MANY = int(os.environ.get("SNAKESCOPE_EXEC_MANY", "50" if ASAN else "1000"))
BLOCKING = {"sleep": ("35", "230", "23", "270"),  # nanosleep, clock_nanosleep, select, pselect6
            "select": ("23", "270", "7", "271"),  # select, pselect6, poll, ppoll
            "lock": ("202",),                     # futex
            "read": ("0",),
            "sigmask": ("0",),
            "cgil": ("35", "230"),
            "cgilthreads": ("35", "230")}


def start_state(start, interp, state):
    t = start(interp, "execstates", wait_blocked=False, env_extra={"EXEC_STATE": state})
    want = BLOCKING.get(state)
    if want:
        helpers.wait_until(lambda: helpers.task_syscall(t.pid, t.pid) in want, 30,
                           "the main thread of %s to block (%s)" % (t, state))
    return t


def sx(t, code, *opts, **kw):
    return helpers.run_snakescope("exec", t.pid, "-c", code, *opts, **kw)


def ok(res):
    assert not res.crashed and not res.timed_out, res.describe()
    assert res.rc == 0, res.describe()
    return res.out


def report(t):
    out = ok(sx(t, "import json as _j; print(_j.dumps(report()))"))
    return json.loads(out)


def target_pid(t):
    """The target's own pid (in its PID namespace)."""
    return int(helpers.proc_status(t.pid)["NSpid"].split()[-1])


def healthy(t, what):
    assert t.alive(), "target died after %s\n%s" % (what, t.log())
    assert not helpers.stopped_or_traced(t.pid), helpers.stopped_or_traced(t.pid)
    r = report(t)
    assert r["errors"] == [], "the target saw its invariants broken after %s: %r" % (what, r["errors"])
    return r


def shim_maps(pid):
    """Anonymous executable mappings: what an injected shim looks like (its
    code page is anonymous r-x)."""
    out = []
    for line in helpers.read_text("/proc/%d/maps" % pid).splitlines():
        parts = line.split()
        if "x" in parts[1] and len(parts) < 6:
            out.append(line)
    return out


def sigblk(pid):
    return int(helpers.proc_status(pid)["SigBlk"], 16)


def counts_grow(t, name):
    first = report(t)["counts"].get(name, 0)
    helpers.wait_until(lambda: report(t)["counts"].get(name, 0) > first, 30,
                       "counter %s of %s to move on" % (name, t))


# ------------------------------------------------------------ basics

def test_pid_global_and_output(interp, start):
    t = start_state(start, interp, "busy")
    maps = shim_maps(t.pid)
    out = ok(sx(t, "import os, sys\nprint(os.getpid())\nprint(STATE)\n"
                   "sys.stderr.write('to stderr\\n')"))
    assert out == "%d\nbusy\n" % target_pid(t)
    res = sx(t, "import sys; sys.stderr.write('err only\\n')")
    assert ok(res) == "" and res.err == "err only\n", res.describe()
    # nothing reached the target's own output
    assert "busy" not in t.log() and "err only" not in t.log(), t.log()
    counts_grow(t, "main")
    healthy(t, "exec")
    # nothing left mapped (below 3.14 a pending call's stub ran these
    # execs and freed its own mapping)
    assert shim_maps(t.pid) == maps, (maps, shim_maps(t.pid))


def test_exception_traceback_and_exit_status(interp, start, tmp_path):
    t = start_state(start, interp, "busy")
    res = sx(t, "def f():\n    1/0\nf()")
    assert res.rc == 1 and not res.crashed, res.describe()
    assert "ZeroDivisionError" in res.err and 'File "<exec>", line 2, in f' in res.err, res.describe()
    assert "snakescope" not in res.err.replace("<snakescope>", ""), res.describe()
    res = sx(t, "def (")
    assert res.rc == 1 and "SyntaxError" in res.err, res.describe()
    # SystemExit is an exception like any other: the target must not exit
    res = sx(t, "raise SystemExit(3)")
    assert res.rc == 1 and "SystemExit" in res.err, res.describe()
    # code from a file, named in the traceback
    f = tmp_path / "snippet.py"
    f.write_text("X_FROM_FILE = 7\ndef g():\n    raise KeyError('boom')\ng()\n")
    res = helpers.run_snakescope("exec", t.pid, str(f))
    assert res.rc == 1 and "KeyError" in res.err and str(f) in res.err, res.describe()
    assert ok(sx(t, "print(X_FROM_FILE)")) == "7\n"
    healthy(t, "exceptions")


# ------------------------------------------------------------ states

@pytest.mark.parametrize("state", ["busy", "sleep", "select", "lock", "read", "multi"])
def test_state_accepts_exec_and_continues(interp, start, state):
    t = start_state(start, interp, state)
    assert ok(sx(t, "MARKS.append(1); print('ran')")) == "ran\n"
    if state in ("busy", "multi"):
        names = ["main"] + (["t1", "t3", "t4"] if state == "multi" else [])
        for name in names:
            counts_grow(t, name)
    elif state in ("sleep", "select"):
        name = "main" if state == "sleep" else "select"
        # the interrupted sleep and one more, each checked by the target
        helpers.wait_until(lambda: report(t)["counts"].get(name, 0) >= 2, 30,
                           "two %ss to end" % state)
    elif state == "lock":
        with open("/proc/%d/fd/101" % t.pid, "wb") as w:
            w.write(b"x")
        helpers.wait_until(lambda: "acquired" in report(t)["events"], 30, "the lock acquire")
    elif state == "read":
        assert report(t)["data"] == []
        with open("/proc/%d/fd/101" % t.pid, "wb") as w:
            w.write(b"hello")
        helpers.wait_until(lambda: report(t)["data"] == ["hello"], 30, "the read to return")
    r = healthy(t, "exec in state " + state)
    assert r["marks"] == [1]


def test_native_code_holding_gil_is_refused(interp, start):
    t = start_state(start, interp, "cgil")
    t0 = time.monotonic()
    res = sx(t, "MARKS.append('must not run')", "--timeout", "1")
    took = time.monotonic() - t0
    assert res.rc == 1 and not res.crashed, res.describe()
    assert "no safe point" in res.err and "GIL" in res.err, res.describe()
    # Well under the default of 10 s that an ignored --timeout would take,
    # with room for a machine at full load.
    assert took < 7, "refusal took %.1f s with --timeout 1" % took
    assert not helpers.stopped_or_traced(t.pid)
    # once the native call is over, the target goes on and the refused code
    # never ran, not even late
    helpers.wait_until(lambda: "native end" in report(t)["events"], 30, "the native call to end")
    counts_grow(t, "main")
    assert healthy(t, "a refused exec")["marks"] == []


# code that changes the signal mask and errno of the thread it runs in
CLOBBER = ("import ctypes, os\n"
           "block([12])\n"
           "try:\n    os.stat('/nonexistent/snakescope')\nexcept OSError:\n    pass\n"
           "ctypes.set_errno(7); ctypes.CDLL(None, use_errno=True).getpid()\n"
           "print('%s %s' % (get_ident() == MAIN_IDENT, 12 in blocked()))")


def test_signal_mask_and_errno_restored_idle_thread(interp, start):
    """The main thread, blocked in read(2) with SIGUSR1 and SIGWINCH blocked
    and errno set, runs code that blocks SIGUSR2 and sets errno: once the
    read returns, the thread finds its mask and errno as they were."""
    t = start_state(start, interp, "sigmask")
    before = sigblk(t.pid)
    assert before == (1 << 9) | (1 << 27), hex(before)
    assert ok(sx(t, CLOBBER)) == "True True\n"
    assert sigblk(t.pid) == before, hex(sigblk(t.pid))
    with open("/proc/%d/fd/101" % t.pid, "wb") as w:
        w.write(b"hello")
    helpers.wait_until(lambda: report(t)["data"] == ["hello"], 30, "the read to return")
    healthy(t, "code that changed the signal mask and errno")


def test_signal_mask_restored_busy(interp, start):
    """A computing main thread (a pending call below 3.14, PEP 768 from
    3.14 on) runs code that blocks SIGUSR2: its mask is back afterwards."""
    t = start_state(start, interp, "busy")
    before = sigblk(t.pid)
    assert ok(sx(t, CLOBBER)) == "True True\n"
    assert sigblk(t.pid) == before, (hex(before), hex(sigblk(t.pid)))
    counts_grow(t, "main")
    healthy(t, "code that changed the signal mask")


def test_refusal_leaves_nothing_mapped(interp, start):
    """The GIL held in native code while another thread sleeps: exec hands
    nothing to the sleeping thread (its code could only queue for the GIL,
    past the timeout), refuses, and leaves no mapping behind."""
    t = start_state(start, interp, "cgilthreads")
    maps = shim_maps(t.pid)
    res = sx(t, "MARKS.append('must not run')", "--timeout", "1")
    assert res.rc == 1 and not res.crashed, res.describe()
    assert "no safe point" in res.err and "holds the GIL" in res.err, res.describe()
    assert shim_maps(t.pid) == maps, (maps, shim_maps(t.pid))
    assert not helpers.stopped_or_traced(t.pid)
    helpers.wait_until(lambda: "native end" in report(t)["events"], 30, "the native call to end")
    counts_grow(t, "main")
    assert healthy(t, "a refused exec")["marks"] == []
    assert shim_maps(t.pid) == maps, (maps, shim_maps(t.pid))


def test_interrupted_exec_leaves_nothing_mapped(interp, start):
    """Ctrl-C of snakescope exec while the code, handed to an idle thread,
    still waits for the GIL (the busy main thread lets go only every
    ~20 ms): snakescope dies of the signal, but only after the thread left
    the shim (finding the channel gone) and the shim was freed."""
    import subprocess
    t = start_state(start, interp, "threads")
    slow = ("sys.setswitchinterval(0.02)" if interp.version >= (3,) else
            "sys.setcheckinterval(200000)")
    ok(sx(t, "import sys; " + slow))
    maps = shim_maps(t.pid)
    for attempt in range(20):
        p = subprocess.Popen([helpers.SNAKESCOPE, "exec", str(t.pid), "-c", "MARKS.append(1)"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        helpers.wait_until(lambda: p.poll() is not None or shim_maps(t.pid) != maps, 30,
                           "the exec to hand the code over")
        if p.poll() is None:
            p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=30)
        if p.returncode == -signal.SIGINT:
            break
        # the code ran before the signal came: try again
        assert p.returncode == 0, (p.returncode, err)
    else:
        pytest.fail("20 execs ran to their end before Ctrl-C could reach one")
    assert shim_maps(t.pid) == maps, (maps, shim_maps(t.pid))
    assert not helpers.stopped_or_traced(t.pid)
    # the interrupted code ran only if it had connected already (it is
    # carried in the bootstrap)
    marks = healthy(t, "an interrupted exec")["marks"]
    assert len(marks) in (attempt, attempt + 1), (attempt, marks)
    assert shim_maps(t.pid) == maps, (maps, shim_maps(t.pid))


def read_stderr_until(p, text, timeout):
    """Lines of p's stderr up to the one containing text (fails after
    timeout seconds, showing what came)."""
    import select
    deadline = time.monotonic() + timeout
    got = b""
    while text.encode() not in got:
        left = deadline - time.monotonic()
        r, _, _ = select.select([p.stderr], [], [], max(left, 0))
        if not r:
            raise AssertionError("no %r on stderr within %d s; it said: %r"
                                 % (text, timeout, got))
        chunk = os.read(p.stderr.fileno(), 4096)
        if not chunk:
            raise AssertionError("stderr ended without %r: %r" % (text, got))
        got += chunk
    return got.decode()


def test_second_ctrl_c_ends_the_wait_for_the_shim(interp, start):
    """The code handed to an idle thread waits for a GIL that the busy main
    thread never lets go (its switch interval made endless): after the
    timeout exec says it waits for the thread, a second signal ends that
    wait at once, and what is left mapped is said with its address."""
    import subprocess
    t = start_state(start, interp, "threads")
    endless = ("sys.setswitchinterval(1000.0)" if interp.version >= (3,) else
               "sys.setcheckinterval(1 << 30)")
    ok(sx(t, "import sys; " + endless))
    maps = shim_maps(t.pid)
    p = subprocess.Popen([helpers.SNAKESCOPE, "exec", "--timeout", "1", str(t.pid),
                          "-c", "MARKS.append(1)"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        said = read_stderr_until(p, "Ctrl-C again leaves it mapped", 30)
        assert "waiting up to 20 s for thread" in said, said
        p.send_signal(signal.SIGINT)
        # well within the 20 s the wait would otherwise last
        _, err = p.communicate(timeout=10)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    err = said + err.decode()
    assert p.returncode == -signal.SIGINT, (p.returncode, err)
    left = [line for line in shim_maps(t.pid) if line not in maps]
    assert len(left) == 1, (maps, shim_maps(t.pid), err)
    start_addr = left[0].split("-")[0].lstrip("0")
    assert "left " in err and "code mapped at 0x%s in process %d" % (start_addr, t.pid) in err \
        and "has not taken the GIL yet" in err, (left, err)


def test_many_execs_busy_threads(interp, start):
    """Execs in a row against a target with a busy thread and three blocked
    ones: every one runs, and the target, checking itself, stays healthy:
    its counter and threads go on, nothing stray reached its output, and no
    shim is left mapped."""
    n = MANY
    t = start_state(start, interp, "threads")
    first = report(t)
    log = t.log()
    maps = shim_maps(t.pid)
    nmaps = len(helpers.read_text("/proc/%d/maps" % t.pid).splitlines())
    for i in range(n):
        res = sx(t, "print(COUNTS['main'] > 0)")
        assert res.rc == 0 and res.out == "True\n" and res.err == "", \
            "exec %d of %d:\n%s" % (i + 1, n, res.describe())
    after = healthy(t, "%d execs" % n)
    assert after["threads"] == first["threads"] == ["MainThread", "t3", "t4", "t5"], \
        (first["threads"], after["threads"])
    for name in ("main", "t4"):
        assert after["counts"][name] > first["counts"][name], (name, first, after)
    counts_grow(t, "main")
    counts_grow(t, "t4")
    assert t.log() == log, "the target's own output changed:\n" + t.log()
    assert shim_maps(t.pid) == maps, (maps, shim_maps(t.pid))
    grown = len(helpers.read_text("/proc/%d/maps" % t.pid).splitlines()) - nmaps
    assert grown < 10, "%d more mappings after %d execs" % (grown, n)


# ------------------------------------------------------------ PEP 768

def test_remote_debug_protocol_on_314(interp, start):
    """3.14+: a computing target gets the code through the interpreter's own
    remote debugging support (its audit event fires); older ones never."""
    t = start_state(start, interp, "busy")
    assert ok(sx(t, "print(STATE)")) == "busy\n"
    events = report(t)["events"]
    if interp.version >= (3, 14):
        assert "cpython.remote_debugger_script" in events, events
    else:
        assert "cpython.remote_debugger_script" not in events, events
    healthy(t, "exec")


@pytest.mark.parametrize("how", ["env", "xoption"])
def test_remote_debug_disabled_is_refused(interp, start, workdirs, how):
    if interp.version < (3, 14):
        pytest.skip("PEP 768's off switch exists from Python 3.14 on")
    if how == "env":
        t = start(interp, "execstates", wait_blocked=False,
                  env_extra={"EXEC_STATE": "sleep", "PYTHON_DISABLE_REMOTE_DEBUG": "1"})
    else:
        script = os.path.join(workdirs.for_interp(interp), "execstates.py")
        t = start(interp, "execstates", wait_blocked=False, env_extra={"EXEC_STATE": "sleep"},
                  args=["-X", "disable-remote-debug", "-B", "-s", script])
    res = sx(t, "MARKS.append(1)")
    assert res.rc == 1 and not res.crashed, res.describe()
    assert "remote debugging disabled" in res.err, res.describe()
    assert t.alive() and not helpers.stopped_or_traced(t.pid)


# ------------------------------------------------------------ bad input

def test_target_exits_during_exec(start):
    interp = next((i for i in INTERPS if not i.missing), None)
    if interp is None:
        pytest.skip("no interpreter available: " + helpers.SETUP_HINT)
    t = start_state(start, interp, "sleep")
    res = sx(t, "import os; os._exit(0)")
    assert res.rc == 1 and not res.crashed and not res.timed_out, res.describe()
    assert "exited" in res.err, res.describe()


def test_usage(snakescope_bin):
    for args in (["exec"], ["exec", "1"], ["exec", "x", "-c", "1"], ["exec", "1", "-c", "1", "f"],
                 ["exec", "1", "--timeout", "0", "-c", "1"]):
        res = helpers.run_snakescope(*args)
        assert res.rc == 2 and res.err.startswith("snakescope: "), res.describe()


# ------------------------------------------------------------ pdb

class Session:
    """snakescope pdb driven through a pseudo-terminal, expect-style."""

    def __init__(self, pid):
        import pty
        import subprocess
        self.master, slave = pty.openpty()
        # No HOME: pdb keeps no history file on the test machine.
        env = dict(os.environ)
        env.pop("HOME", None)
        self.proc = subprocess.Popen([helpers.SNAKESCOPE, "pdb", str(pid)], stdin=slave,
                                     stdout=slave, stderr=slave, close_fds=True, env=env)
        os.close(slave)
        self.seen = ""

    def expect(self, text, timeout=30):
        import select
        deadline = time.monotonic() + timeout
        while text not in self.seen:
            left = deadline - time.monotonic()
            r, _, _ = select.select([self.master], [], [], max(left, 0))
            if not r:
                raise AssertionError("no %r within %d s; the session said:\n%s"
                                     % (text, timeout, self.seen))
            try:
                chunk = os.read(self.master, 4096)
            except OSError:
                chunk = b""
            if not chunk:
                raise AssertionError("session ended before %r:\n%s" % (text, self.seen))
            self.seen += chunk.decode("utf-8", "replace")
        at = self.seen.index(text) + len(text)
        before, self.seen = self.seen[:at], self.seen[at:]
        return before

    def send(self, line):
        os.write(self.master, (line + "\n").encode())

    def close(self):
        try:
            return self.proc.wait(timeout=30)
        finally:
            os.close(self.master)


def test_pdb_breakpoint_print_continue_quit(interp, start):
    t = start_state(start, interp, "pdb")
    s = Session(t.pid)
    try:
        s.expect("(Pdb) ")
        s.send("b work")
        s.expect("(Pdb) ")
        s.send("c")
        got = s.expect("(Pdb) ")
        assert "work()" in got, got
        s.send("n")
        s.expect("(Pdb) ")
        s.send("p local_value == n * 3, n > 0")
        assert "(True, True)" in s.expect("(Pdb) ")
        s.send("c")
        assert "work()" in s.expect("(Pdb) ")
        # no breakpoint left: the target runs free until Ctrl-C stops it
        s.send("cl 1")
        s.expect("(Pdb) ")
        s.send("c")
        counts_grow(t, "main")  # running again, out of the debugger
        # Ctrl-C (the pty is not snakescope's controlling terminal, so
        # the signal is sent as the terminal would)
        os.kill(s.proc.pid, signal.SIGINT)
        got = s.expect("(Pdb) ")
        assert "execstates.py" in got, got
        s.send("q")
        s.expect("detached")
    finally:
        rc = s.close()
    assert rc == 0, s.seen
    # the target runs on, untraced
    counts_grow(t, "main")
    assert ok(sx(t, "import sys; print(sys.gettrace())")) == "None\n"
    healthy(t, "a pdb session")
