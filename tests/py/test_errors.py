"""snakescope's failures: what it says and which exit status, and that it
never leaves a target stopped or traced, whatever happens to it.

Exit statuses: 0 ok, 1 failure, 2 usage error, 3 permission denied.
"""
import os
import random
import re
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

import helpers

INTERPS = helpers.interpreters()
BY_ID = {i.id: i for i in INTERPS}

REPO = helpers.REPO


def usable(*ids):
    """The first of these interpreters that is installed, or a skip."""
    for i in ids:
        interp = BY_ID.get(i)
        if interp is not None and not interp.missing:
            return interp
    pytest.skip("none of %s is available: %s" % (", ".join(ids), helpers.SETUP_HINT))


def free_pid():
    """A pid no process has (that of a child just reaped)."""
    for _ in range(10):
        p = subprocess.Popen(["true"])
        p.wait()
        if not os.path.exists("/proc/%d" % p.pid):
            return p.pid
    pytest.fail("cannot find a free pid")


def expect(res, rc):
    assert not res.crashed and not res.timed_out, res.describe()
    assert res.rc == rc, "expected exit status %d\n%s" % (rc, res.describe())


def left_alone(pid):
    bad = helpers.stopped_or_traced(pid)
    assert not bad, "the target is left stopped or traced: %s" % "; ".join(bad)


# ------------------------------------------------------------ no process

@pytest.mark.parametrize("cmd", [["dump"], ["dump", "--json"], ["info"]], ids=" ".join)
def test_no_such_pid(snakescope_bin, cmd):
    pid = free_pid()
    res = helpers.run_snakescope(*(cmd + [pid]))
    expect(res, 1)
    assert res.err == "snakescope: no process with pid %d\n" % pid, res.describe()
    assert res.out == "", res.describe()


@pytest.mark.parametrize("cmd", [["dump"], ["dump", "--json"], ["info"]], ids=" ".join)
def test_not_python(snakescope_bin, cmd):
    p = subprocess.Popen(["sleep", "100"])
    try:
        # sleep is running once its /proc/PID/exe is the sleep binary
        helpers.wait_until(lambda: os.path.basename(os.readlink("/proc/%d/exe" % p.pid)) == "sleep",
                           10, "sleep to start")
        res = helpers.run_snakescope(*(cmd + [p.pid]))
        expect(res, 1)
        assert "sleep" in res.err, "the message does not name the process\n" + res.describe()
        assert re.search(r"\bno python\b", res.err, re.I), \
            "the message does not say it runs no Python\n" + res.describe()
        assert res.err.startswith("snakescope: "), res.describe()
        left_alone(p.pid)
    finally:
        p.kill()
        p.wait()


# --------------------------------------------------- initialising / finalising

def preinit_interps():
    out = []
    for i in INTERPS:
        marks = []
        if i.missing:
            marks.append(pytest.mark.skip(reason=i.missing))
        out.append(pytest.param(i, id=i.id, marks=marks))
    return out


@pytest.mark.parametrize("interp", preinit_interps())
def test_not_initialised(interp, start, workdirs):
    """A Python held before initialisation: its executable's directory has a
    pyvenv.cfg that is a FIFO nobody writes, so computing the path config at
    startup blocks in open().  (3.11+ look for pyvenv.cfg next to the path they
    were started by, so a symlink does; older ones resolve it: a copy.)"""
    if interp.version < (3, 0):
        return hold_before_main(interp, start, workdirs)
    where = "held-%s-%d" % (interp.id, os.getpid())
    inside = os.path.join(workdirs.for_interp(interp), where)  # as the target sees it
    host = interp.host_path(inside)
    shutil.rmtree(host, ignore_errors=True)
    os.makedirs(host + "/bin")
    exe = inside + "/bin/python"
    if interp.version >= (3, 11):
        os.symlink(interp.exe, host + "/bin/python")
    else:
        real = os.path.realpath(interp.host_exe)
        shutil.copyfile(real, host + "/bin/python")
        os.chmod(host + "/bin/python", 0o755)
    os.mkfifo(host + "/bin/pyvenv.cfg")
    t = start(interp, "preinit", wait=False, exe=exe, args=["-c", "pass"])

    def held():
        # blocked opening a FIFO: in open(2)/openat(2), waiting for a writer
        try:
            pid = t.python_pid()
            wchan = helpers.read_text("/proc/%d/wchan" % pid)
            exe = os.path.basename(os.readlink("/proc/%d/exe" % pid))
            sc = helpers.task_syscall(pid, pid)
        except (OSError, helpers.TargetFailed):
            return None
        if sc in ("2", "257") and wchan == "wait_for_partner" and exe not in ("chroot", "unshare"):
            return pid
        return None

    pid = helpers.wait_until(held, 30, "%s to block opening pyvenv.cfg" % interp.id)
    try:
        check_not_initialised(interp, pid)
    finally:
        shutil.rmtree(host, ignore_errors=True)


HOLD_C = r"""
#include <fcntl.h>
#include <stdlib.h>
/* Runs before main(): libpython is loaded, Py_Initialize has not run. */
__attribute__((constructor)) static void hold(void)
{
	const char *p = getenv("SS_HOLD_FIFO");
	if (p)
		open(p, O_RDONLY);
}
"""


def hold_before_main(interp, start, workdirs):
    """Python 2.7 reads no pyvenv.cfg: hold it instead in a preloaded
    library's constructor, opening a FIFO nobody writes, before main()."""
    if shutil.which("gcc") is None:
        pytest.skip("gcc not installed (apt package build-essential): bash tests/setup.sh")
    host = os.path.join(workdirs.for_interp(interp), "held-%s-%d" % (interp.id, os.getpid()))
    shutil.rmtree(host, ignore_errors=True)
    os.makedirs(host)
    try:
        with open(host + "/hold.c", "w") as f:
            f.write(HOLD_C)
        subprocess.run(["gcc", "-shared", "-fPIC", "-o", host + "/hold.so", host + "/hold.c"],
                       check=True, timeout=60)
        os.mkfifo(host + "/fifo")
        t = start(interp, "preinit", wait=False, args=["-c", "pass"],
                  env_extra={"LD_PRELOAD": host + "/hold.so", "SS_HOLD_FIFO": host + "/fifo"})

        def held():
            try:
                pid = t.python_pid()
                wchan = helpers.read_text("/proc/%d/wchan" % pid)
                sc = helpers.task_syscall(pid, pid)
            except (OSError, helpers.TargetFailed):
                return None
            return pid if sc in ("2", "257") and wchan == "wait_for_partner" else None

        pid = helpers.wait_until(held, 30, "%s to block in its preloaded constructor" % interp.id)
        check_not_initialised(interp, pid)
    finally:
        shutil.rmtree(host, ignore_errors=True)


def check_not_initialised(interp, pid):
    """snakescope says the interpreter is not initialised yet, and leaves it alone."""
    res = helpers.run_snakescope("dump", pid)
    if interp.version < (3, 7) and res.rc == 0:
        # 3.6 has no runtime state to tell: its interpreter and thread
        # exist already; all a dump can show is that no code runs yet.
        assert "File " not in res.out, res.describe()
    else:
        expect(res, 1)
        assert re.search(r"not (yet )?initiali[sz]ed|not initiali[sz]ed", res.err, re.I), \
            "the message does not say Python is not initialised yet\n" + res.describe()
    left_alone(pid)


ALL_INTERPS = [pytest.param(i, id=i.id, marks=[pytest.mark.skip(reason=i.missing)] if i.missing else [])
               for i in INTERPS]


@pytest.mark.parametrize("interp", ALL_INTERPS)
def test_finalising(interp, start):
    """A Python parked in a __del__ run while the runtime finalises."""
    t = start(interp, "finalizing", wait_blocked=False)
    # its main thread is parked once it sleeps in read(2)
    helpers.wait_until(lambda: helpers.task_syscall(t.pid, t.pid) == "0", 30,
                       "the finalising main thread to block in read()")
    for cmd in (["dump"], ["dump", "--json"]):
        res = helpers.run_snakescope(*(cmd + [t.pid]))
        expect(res, 1)
        assert re.search(r"finali[sz]", res.err, re.I), \
            "the message does not say the runtime is finalising\n" + res.describe()
        left_alone(t.pid)
    assert t.alive()


# ------------------------------------------------------------ permission

@pytest.fixture
def nobody_snakescope(snakescope_bin):
    """snakescope copied where user nobody can run it."""
    if not shutil.which("setpriv"):
        pytest.skip("setpriv (util-linux) not installed: " + helpers.SETUP_HINT)
    d = tempfile.mkdtemp(prefix="snakescope-nobody-")
    os.chmod(d, 0o755)
    exe = os.path.join(d, "snakescope")
    shutil.copyfile(snakescope_bin, exe)
    os.chmod(exe, 0o755)
    yield exe
    shutil.rmtree(d, ignore_errors=True)


@pytest.mark.parametrize("cmd", [["dump"], ["dump", "--nonblocking"], ["info"]], ids=" ".join)
def test_permission_denied(nobody_snakescope, start, cmd):
    interp = usable("debian-3.11", "pyenv-3.12", "pyenv-3.11")
    t = start(interp, "basic")
    argv = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
            nobody_snakescope] + cmd + [str(t.pid)]
    p = subprocess.run(argv, capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
    res = helpers.Result(argv, p.returncode, p.stdout.decode("utf-8", "replace"),
                         p.stderr.decode("utf-8", "replace"))
    expect(res, 3)
    assert "CAP_SYS_PTRACE" in res.err, "no remedy mentioning CAP_SYS_PTRACE\n" + res.describe()
    left_alone(t.pid)


# ------------------------------------------------- process exits mid-dump

@pytest.mark.parametrize("interp_id", ["pyenv-3.12", "debian-3.11", "pyenv-2.7", "sid-3.14"])
def test_process_exits_during_dump(interp_id, start):
    """Targets that exit a few ms after starting, dumped again and again:
    every run ends (0, or 1 with a one-line message), never a crash or hang."""
    interp = usable(interp_id)
    outcomes = {}
    unclear = []
    for i in range(25):
        t = start(interp, "exiting", wait_blocked=False)
        args = ["dump", "--json", t.pid] if i % 2 else ["dump", t.pid]
        res = helpers.run_snakescope(*args, timeout=30)
        assert not res.crashed and not res.timed_out, res.describe()
        assert res.rc in (0, 1), res.describe()
        if res.rc == 1:
            assert res.err.startswith("snakescope: ") and res.err.count("\n") == 1, res.describe()
            key = re.sub(r"\b(0x[0-9a-f]+|\d+)\b", "N", res.err.strip())
            # The process ran Python and then went away: the message must
            # say so (exited, exiting, finalising), not blame the target.
            if not re.search(r"exit|finali[sz]|shutting down|shut down|zombie|gone|vanish", res.err, re.I):
                unclear.append(res.err.strip())
        else:
            key = "ok"
        outcomes[key] = outcomes.get(key, 0) + 1
        t.kill()
    print("outcomes:", outcomes)
    assert not unclear, ("messages that do not say the process exited (it ran Python and "
                         "then exited during the dump):\n  %s\nall outcomes: %r"
                         % ("\n  ".join(sorted(set(unclear))), outcomes))


# ------------------------------------------------------------- usage

@pytest.mark.parametrize("args", [
    [], ["dump"], ["info"], ["dump", "abc"], ["info", "abc"], ["dump", "12x"],
    ["dump", "--bogus", "1"], ["info", "--bogus", "1"], ["dump", "1", "2"],
    ["dump", "-5"], ["frobnicate"], ["frobnicate", "1"],
], ids=lambda a: " ".join(a) or "no-args")
def test_usage_error(snakescope_bin, args):
    res = helpers.run_snakescope(*args)
    expect(res, 2)
    assert "usage" in res.err.lower(), "no usage on stderr\n" + res.describe()
    assert res.out == "", res.describe()


@pytest.mark.parametrize("args", [["--help"], ["-h"], ["dump", "--help"], ["info", "--help"],
                                  ["help", "dump"]], ids=" ".join)
def test_help(snakescope_bin, args):
    res = helpers.run_snakescope(*args)
    expect(res, 0)
    assert "usage" in res.out.lower(), res.describe()


def test_version(snakescope_bin):
    res = helpers.run_snakescope("--version")
    expect(res, 0)
    with open(REPO / "VERSION") as f:
        version = f.read().strip()
    assert res.out == "snakescope %s\n" % version, res.describe()


# -------------------------------------------- signals during a dump

@pytest.mark.parametrize("interp_id", ["pyenv-3.12", "debian-3.11-dbg", "sid-3.14"])
def test_signals_during_dump(interp_id, start):
    """SIGINT/SIGTERM sent to snakescope at random points of blocking dumps of
    a large target (100 threads x 100 frames): snakescope ends, never
    crashes or hangs, and never leaves the target stopped or traced."""
    interp = usable(interp_id)
    t = start(interp, "large", timeout=60)
    t0 = time.monotonic()
    res = helpers.run_snakescope("dump", t.pid)
    took = time.monotonic() - t0
    assert res.rc == 0, res.describe()
    left_alone(t.pid)
    rng = random.Random(1234)
    outcomes = {}
    for i in range(40):
        sig = signal.SIGINT if i % 2 == 0 else signal.SIGTERM
        p = subprocess.Popen([helpers.SNAKESCOPE, "dump", str(t.pid)], stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        # Random jitter spreads the signal over the whole dump (not a
        # synchronisation: any moment is a valid test point).
        time.sleep(rng.uniform(0, took * 1.2))
        p.send_signal(sig)
        try:
            _, err = p.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            pytest.fail("snakescope hung after %s" % sig.name)
        rc = p.returncode
        assert not (rc < 0 and -rc in helpers.CRASH_SIGNALS), \
            "snakescope crashed (%s) after %s:\n%s" % (signal.Signals(-rc).name, sig.name,
                                                        err.decode("utf-8", "replace"))
        left_alone(t.pid)
        key = "%s->%s" % (sig.name, signal.Signals(-rc).name if rc < 0 else rc)
        outcomes[key] = outcomes.get(key, 0) + 1
    print("outcomes:", outcomes)
    assert t.alive(), t.log()
    spinner = [r for r in t.truth["threads"] if r["role"] == "spinner"][0]
    _, c0 = helpers.task_stat(t.pid, spinner["host_tid"])
    helpers.wait_until(lambda: helpers.task_stat(t.pid, spinner["host_tid"])[1] > c0, 10,
                       "the target's spinner to run again")
