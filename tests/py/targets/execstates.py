# -*- coding: utf-8 -*-
"""Target of test_exec.py (Python 2.7 and 3.x): the main thread sits in one
state, chosen by $EXEC_STATE, and checks its own invariants, which the test
reads back with `snakescope exec` itself (print(report())).

States of the main thread:
  busy     counts in pure Python (no other thread)
  sleep    time.sleep(SLEEP) in a loop; each sleep must last SLEEP
  select   select() on a pipe nobody writes, timeout SLEEP, in a loop
  lock     acquires a lock that a helper thread releases when fd 101 is
           written to
  read     reads fd 100 (a pipe) until the test writes to fd 101
  cgil     holds the GIL in native code: usleep(CGIL_US) through
           ctypes.PyDLL, which keeps the GIL, then counts like busy
  threads  counts in pure Python with 3 more threads: one sleeping, one
           waiting on a condition with a timeout, one blocked in a read
  pdb      calls work(n) then sleeps 20 ms, in a loop (for snakescope pdb)
  multi    counts in pure Python with 3 more threads: one counting, one
           sleeping, one waiting on a condition with a timeout
  sigmask  blocks MASKED in its signal mask, sets errno to ERRNO_MARK and
           reads fd 100 through the C library (ctypes, GIL released)
           until the test writes to fd 101; then checks that the read
           returned the data, errno is still ERRNO_MARK and the mask is
           still MASKED, and counts
  cgilthreads  holds the GIL in native code (as cgil) while a second
           thread sleeps (an idle thread exec must not be handed to)

Every blocking call that fails with EINTR, returns early or returns wrong
data is recorded in ERRORS.  The test's code appends to MARKS to show it
ran.  Readiness: "ready" on $SNAKESCOPE_READY_FD once the state is set up
(for blocking states, just before blocking)."""
from __future__ import print_function

import os
import select
import sys
import threading
import time

STATE = os.environ.get("EXEC_STATE", "busy")
SLEEP = 1.0
CGIL_US = 4000000
ERRORS = []
MARKS = []
COUNTS = {}
EVENTS = []
DATA = []
LOCK = threading.Lock()
PIPE_R, PIPE_W = 100, 101

try:
    clock = time.monotonic
except AttributeError:
    clock = time.time
try:
    from _thread import get_ident
except ImportError:
    from thread import get_ident
MAIN_IDENT = get_ident()
MASKED = [10, 28]  # SIGUSR1, SIGWINCH
ERRNO_MARK = 4321
PR_SET_PDEATHSIG = 1


def _libc():
    import ctypes
    return ctypes.CDLL(None, use_errno=True)


def die_with_parent():
    """A harness killed outright (kill -9, a timeout) must not leave a
    busy target spinning for ever: the kernel kills this process with its
    parent.  No watchdog thread: the thread set is part of each state."""
    _libc().prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0)


def block(sigs):
    """Block sigs in this thread (ctypes on 2.7, which lacks
    signal.pthread_sigmask)."""
    import signal
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_BLOCK, sigs)
        return
    import ctypes
    libc = _libc()
    new = ctypes.create_string_buffer(128)
    libc.sigemptyset(new)
    for sig in sigs:
        libc.sigaddset(new, sig)
    if libc.pthread_sigmask(0, new, None):  # SIG_BLOCK
        raise OSError("pthread_sigmask failed")


def blocked():
    """The signals blocked in this thread, sorted."""
    import signal
    if hasattr(signal, "pthread_sigmask"):
        return sorted(int(s) for s in signal.pthread_sigmask(signal.SIG_BLOCK, []))
    import ctypes
    libc = _libc()
    old = ctypes.create_string_buffer(128)
    if libc.pthread_sigmask(0, None, old):
        raise OSError("pthread_sigmask failed")
    return [sig for sig in range(1, 65) if libc.sigismember(old, sig) == 1]


def ready():
    fd = int(os.environ["SNAKESCOPE_READY_FD"])
    os.write(fd, b"ready\n")
    os.close(fd)


def report():
    """What the test compares: state, counts, events, errors."""
    return {"pid": os.getpid(), "state": STATE, "counts": dict(COUNTS),
            "events": list(EVENTS), "errors": list(ERRORS), "marks": list(MARKS),
            "data": list(DATA),
            "threads": sorted(t.name for t in threading.enumerate() if t.is_alive())}


def count(name):
    COUNTS[name] = 0
    while True:
        COUNTS[name] += 1


def sleeper(name):
    COUNTS[name] = 0
    while True:
        t0 = clock()
        try:
            time.sleep(SLEEP)
        except Exception as e:
            ERRORS.append("%s: sleep raised %r" % (name, e))
        dt = clock() - t0
        if dt < SLEEP - 0.001:
            ERRORS.append("%s: sleep(%s) lasted %.4f" % (name, SLEEP, dt))
        COUNTS[name] += 1
        EVENTS.append("%s %.4f" % (name, dt))


def selector():
    r, w = os.pipe()
    COUNTS["select"] = 0
    while True:
        t0 = clock()
        try:
            got = select.select([r], [], [], SLEEP)
        except Exception as e:
            ERRORS.append("select raised %r" % (e,))
            continue
        dt = clock() - t0
        if got[0] or dt < SLEEP - 0.001:
            ERRORS.append("select returned %r after %.4f" % (got, dt))
        COUNTS["select"] += 1
        EVENTS.append("select %.4f" % dt)


def waiter(name):
    cond = threading.Condition()
    COUNTS[name] = 0
    while True:
        with cond:
            cond.wait(0.05)
        COUNTS[name] += 1


def pipe_fds():
    r, w = os.pipe()
    os.dup2(r, PIPE_R)
    os.dup2(w, PIPE_W)
    os.close(r)
    os.close(w)


def releaser():
    # blocks in read(2) until the test writes a byte to fd 101
    os.read(PIPE_R, 1)
    EVENTS.append("releasing")
    LOCK.release()


def work(n):
    local_value = n * 3
    COUNTS["main"] = n
    return local_value


def audit(event, args):
    if event == "cpython.remote_debugger_script":
        EVENTS.append(event)


def main():
    if hasattr(sys, "addaudithook"):
        # 3.14+: shows that exec went through PEP 768
        sys.addaudithook(audit)
    if STATE == "busy":
        ready()
        count("main")
    elif STATE == "sleep":
        ready()
        sleeper("main")
    elif STATE == "select":
        ready()
        selector()
    elif STATE == "lock":
        pipe_fds()
        LOCK.acquire()
        t = threading.Thread(target=releaser)
        t.daemon = True
        t.start()
        ready()
        try:
            LOCK.acquire()
            EVENTS.append("acquired")
        except Exception as e:
            ERRORS.append("acquire raised %r" % (e,))
        count("main")
    elif STATE == "read":
        pipe_fds()
        ready()
        buf = b""
        while len(buf) < 5:
            try:
                chunk = os.read(PIPE_R, 5 - len(buf))
            except Exception as e:
                ERRORS.append("read raised %r" % (e,))
                continue
            if not chunk:
                ERRORS.append("read returned EOF")
                break
            buf += chunk
        DATA.append(buf.decode("ascii"))
        count("main")
    elif STATE == "cgil":
        import ctypes
        usleep = ctypes.PyDLL(None).usleep
        ready()
        EVENTS.append("native start")
        usleep(CGIL_US)
        EVENTS.append("native end")
        count("main")
    elif STATE == "sigmask":
        import ctypes
        pipe_fds()
        block(MASKED)
        libc = _libc()
        buf = ctypes.create_string_buffer(8)
        want = blocked()
        if want != MASKED:
            ERRORS.append("mask %r, not %r, before the read" % (want, MASKED))
        ready()
        ctypes.set_errno(ERRNO_MARK)
        # CDLL releases the GIL: an idle thread for exec, the main one
        n = libc.read(PIPE_R, buf, 5)
        err = ctypes.get_errno()  # errno right after read(2) returned
        got = blocked()
        DATA.append(buf.raw[:max(n, 0)].decode("ascii"))
        EVENTS.append("read returned")
        if n != 5:
            ERRORS.append("read returned %d (errno %d)" % (n, err))
        if err != ERRNO_MARK:
            ERRORS.append("errno %d after the read, not %d" % (err, ERRNO_MARK))
        if got != MASKED:
            ERRORS.append("mask %r after the read, not %r" % (got, MASKED))
        count("main")
    elif STATE == "cgilthreads":
        import ctypes
        usleep = ctypes.PyDLL(None).usleep
        t = threading.Thread(target=sleeper, args=("t3",), name="t3")
        t.daemon = True
        t.start()
        while "t3" not in COUNTS:
            time.sleep(0.01)
        ready()
        EVENTS.append("native start")
        usleep(CGIL_US)
        EVENTS.append("native end")
        count("main")
    elif STATE == "multi":
        for name, fn, args in (("t1", count, ("t1",)), ("t3", sleeper, ("t3",)),
                               ("t4", waiter, ("t4",))):
            t = threading.Thread(target=fn, args=args, name=name)
            t.daemon = True
            t.start()
        ready()
        count("main")
    elif STATE == "pdb":
        ready()
        n = 0
        while True:
            n += 1
            work(n)
            time.sleep(0.02)
    elif STATE == "threads":
        pipe_fds()
        for name, fn, args in (("t3", sleeper, ("t3",)), ("t4", waiter, ("t4",)),
                               ("t5", os.read, (PIPE_R, 1))):
            t = threading.Thread(target=fn, args=args, name=name)
            t.daemon = True
            t.start()
        ready()
        count("main")
    else:
        raise SystemExit("unknown state " + STATE)


die_with_parent()
main()
