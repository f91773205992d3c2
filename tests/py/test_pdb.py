"""snakescope pdb's terminal side (line editing and history with libedit,
plain lines from a pipe) and --thread for pdb and exec, on every
interpreter.  The basic pdb session (breakpoint, p, c, Ctrl-C, q) is in
test_exec.py."""
import contextlib
import os
import subprocess

import helpers
from test_exec import BLOCKING, Session, counts_grow, healthy, ok, start_state, sx

UP, LEFT, CTRL_A, CTRL_C, CTRL_D = "\x1b[A", "\x1b[D", "\x01", "\x03", "\x04"


def take_terminal():
    import fcntl
    import termios
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Term(Session):
    """A session on a terminal of a known kind, with keys sent as typed."""

    def __init__(self, pid, *args, home=None):
        import pty
        self.master, slave = pty.openpty()
        env = dict(os.environ, TERM="xterm")
        if home is not None:
            env["HOME"] = str(home)
        else:
            env.pop("HOME", None)  # no history file
        # the pty is snakescope's controlling terminal: Ctrl-C typed
        # there is a SIGINT from the terminal, as for a user
        self.proc = subprocess.Popen([helpers.SNAKESCOPE, "pdb"] + list(args) + [str(pid)],
                                     stdin=slave, stdout=slave, stderr=slave,
                                     close_fds=True, env=env, start_new_session=True,
                                     preexec_fn=take_terminal)
        os.close(slave)
        self.seen = ""

    def abort(self):
        """A failed test: end the session at once, not after 30 s."""
        if self.proc.poll() is None:
            self.proc.kill()

    def keys(self, text):
        os.write(self.master, text.encode())

    def result(self, text):
        """Type TEXT, Enter: the lines pdb printed before its next prompt."""
        self.keys(text + "\r")
        return [line.rstrip("\r") for line in self.expect("(Pdb) ").split("\n")]


@contextlib.contextmanager
def term(pid, *args, home=None):
    """A Term session that must end by itself with status 0."""
    s = Term(pid, *args, home=home)
    try:
        yield s
    except BaseException:
        s.abort()
        s.close()
        raise
    rc = s.close()
    assert rc == 0, s.seen


def worker_tid(t):
    tids = [int(x) for x in os.listdir("/proc/%d/task" % t.pid)]
    others = [x for x in tids if x != t.pid]
    assert len(others) == 1, "threads of %s: %r" % (t, tids)
    return others[0]


def test_pdb_line_editing_and_history(interp, start):
    t = start_state(start, interp, "pdb")
    with term(t.pid) as s:
        s.expect("(Pdb) ")
        assert "42" in s.result("p 6*7")
        assert "'xxx'" in s.result("p 'x'*3")
        # Up twice: the command before the last (an empty line would
        # repeat the last one, p 'x'*3)
        assert "42" in s.result(UP + UP)
        # Left then insert: "p 12" becomes "p 132"
        got = s.result("p 12" + LEFT + "3")
        assert "132" in got and "123" not in got, got
        # Ctrl-A goes to the start of the line
        assert "43" in s.result("6*7+1" + CTRL_A + "p ")
        # Ctrl-C at the prompt drops the line being typed
        s.keys("p 5")
        s.expect("p 5")  # libedit has it (echoed), then Ctrl-C
        s.keys(CTRL_C)
        s.expect("(Pdb) ")
        got = s.result("p 7")
        assert "7" in got and "57" not in got, got
        # Ctrl-C while the target runs stops it in the debugger again
        s.keys("c\r")
        s.expect("c\r\n")
        counts_grow(t, "main")
        s.keys(CTRL_C)
        assert "execstates.py" in s.expect("(Pdb) ")
        # the debugger still works: step on, then Ctrl-D detaches
        s.result("n")
        s.keys(CTRL_D)
        s.expect("detached")
    counts_grow(t, "main")
    assert ok(sx(t, "import sys; print(sys.gettrace())")) == "None\n"
    healthy(t, "an edited pdb session")


def test_pdb_history_file(interp, start, tmp_path):
    """The history is kept in ~/.snakescope_pdb_history (0600) for the next
    session."""
    t = start_state(start, interp, "pdb")
    with term(t.pid, home=tmp_path) as s:
        s.expect("(Pdb) ")
        assert "42" in s.result("p 6*7")
        s.keys("q\r")
        s.expect("detached")
    path = tmp_path / ".snakescope_pdb_history"
    assert path.stat().st_mode & 0o077 == 0, oct(path.stat().st_mode)
    with term(t.pid, home=tmp_path) as s:
        s.expect("(Pdb) ")
        # Up: q (the last line), Up again: p 6*7 from the first session
        assert "42" in s.result(UP + UP)
        s.keys("q\r")
        s.expect("detached")
    healthy(t, "two pdb sessions")


def test_pdb_from_a_pipe(interp, start):
    """stdin not a terminal: plain lines, no escape sequences, and the end
    of the input detaches like Ctrl-D."""
    t = start_state(start, interp, "pdb")
    try:
        p = subprocess.run([helpers.SNAKESCOPE, "pdb", str(t.pid)], input=b"p 6*7\nw\n",
                           capture_output=True, timeout=60)
    except subprocess.TimeoutExpired as e:
        # where the target is (down to the system call) tells whether pdb
        # ever stopped it, and the session's state whether it was armed
        d = helpers.run_snakescope("dump", "--native", t.pid)
        calls = "".join("%s: %s" % (tid, helpers.read_text("/proc/%d/task/%s/syscall"
                                                           % (t.pid, tid)))
                        for tid in os.listdir("/proc/%d/task" % t.pid))
        x = sx(t, "import pdb, sys; p = getattr(pdb, '_snakescope_session', None); "
               "print(p, sys.gettrace(), p and (p.stopframe, p.botframe, p.stoplineno))")
        raise AssertionError("no end within 60 s: out=%r err=%r\nthe target:\n%s%s\n"
                             "system calls:\n%s\nthe session: %s%s"
                             % (e.stdout, e.stderr, d.out, d.err, calls, x.out, x.err))
    out, err = p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")
    assert p.returncode == 0, (p.returncode, out, err)
    assert "(Pdb) 42\n" in out and "main()" in out, out
    assert "detached" in out, out
    assert "\x1b" not in out and "\x1b" not in err, repr(out + err)
    counts_grow(t, "main")
    assert ok(sx(t, "import sys; print(sys.gettrace())")) == "None\n"


def test_thread_option(interp, start):
    t = start(interp, "pdbthreads", wait_blocked=False)
    tid = worker_tid(t)
    helpers.wait_until(lambda: helpers.task_syscall(t.pid, t.pid) in BLOCKING["sleep"], 30,
                       "the main thread of %s to sleep" % t)
    code = "import threading; print('%s %s' % (TL.who, threading.current_thread().name))"
    # by default the main thread runs the code, with --thread the worker
    assert ok(sx(t, code)) == "main MainThread\n"
    assert ok(sx(t, code, "--thread", tid)) == "worker worker\n"
    assert ok(sx(t, code, "-T", t.pid)) == "main MainThread\n"
    # pdb stops in the chosen thread
    with term(t.pid, "--thread", str(tid)) as s:
        s.expect("(Pdb) ")
        got = "\n".join(s.result("where"))
        assert "worker_loop()" in got and "main()" not in got, got
        assert "'worker'" in s.result("p TL.who")
        s.keys("q\r")
        s.expect("detached")
    first = ok(sx(t, "print(STEPS[0])"))
    helpers.wait_until(lambda: ok(sx(t, "print(STEPS[0])")) != first, 30,
                       "the worker to step on after pdb")
    assert ok(sx(t, "import sys; print(sys.gettrace())", "--thread", tid)) == "None\n"
    # a thread of another process is a usage error naming the pid
    for cmd in (["exec", t.pid, "--thread", os.getpid(), "-c", "1"],
                ["pdb", "--thread", os.getpid(), t.pid]):
        res = helpers.run_snakescope(*cmd)
        assert res.rc == 2, res.describe()
        assert res.err.count("\n") == 1 and str(t.pid) in res.err, res.describe()
        assert "thread %d" % os.getpid() in res.err, res.describe()
    assert t.alive() and not helpers.stopped_or_traced(t.pid)


def test_usage(snakescope_bin):
    for args in (["pdb"], ["pdb", "1", "2"], ["pdb", "-c", "1", "1"], ["pdb", "--thread", "x", "1"],
                 ["exec", "--thread", "x", "1", "-c", "1"], ["exec", "--thread", "-1", "1", "-c", "1"]):
        res = helpers.run_snakescope(*args)
        assert res.rc == 2 and res.err.startswith("snakescope: "), res.describe()
    res = helpers.run_snakescope("pdb", "--help")
    assert res.rc == 0 and "--thread" in res.out and "history" in res.out, res.describe()
    res = helpers.run_snakescope("exec", "--help")
    assert res.rc == 0 and "--thread" in res.out, res.describe()
