# -*- coding: utf-8 -*-
"""Shared machinery of snakescope's test targets (Python 2.7 and 3.6+).

A target parks every thread it compares on a known line, then writes its
own ground truth (every thread's stack as the interpreter itself sees it) to
$SNAKESCOPE_TRUTH and "ready" to the inherited pipe fd $SNAKESCOPE_READY_FD.

How the stacks in the ground truth are made exact:
  * Threads park by calling park() (a read of a pipe nobody writes, so the
    innermost Python frame is park() on PARK_LINE) or park_event() (an
    Event.wait() that is never set: threading.py frames, innermost
    Condition.wait on its blocking waiter.acquire() line).
  * The main thread calls finish(): it starts a writer thread and parks.
    The writer polls sys._current_frames() until every thread but itself and
    the spinner has its innermost frame on one of those park lines, records
    them, writes the file and parks too.  The writer's own stack is not
    compared (it is still running when it records).  A thread parked on
    such a line stays there: nothing ever wakes it.
  * Where sys._current_frames() cannot tell whose stack is whose (a thread
    that runs in a subinterpreter has a stack in each interpreter, under one
    ident), the thread records itself with stack_here(): the frames of its
    callers do not change while it is parked, and the lines of its own
    innermost frames are the tagged lines of the calls it parks in.
The test harness then waits until each parked thread is blocked in the
expected system call (seen from the host's /proc), so no thread is still on
its way into the blocking call when the dump runs.

Lines are found by tags in comments (`# @tag`), never by number.
"""
from __future__ import print_function

import json
import linecache
import os
import sys
import threading
import time
import traceback

try:
    from thread import get_ident  # Python 2
except ImportError:
    from threading import get_ident

PY2 = sys.version_info[0] == 2
DEBUG_BUILD = hasattr(sys, "gettotalrefcount")

# A pipe that is never written: reading it blocks without the GIL, forever.
_R, _W = os.pipe()


def tagged_lines(filename, tag):
    """Line numbers (1-based) of the lines of FILENAME ending in `# @TAG`."""
    out = []
    lines = linecache.getlines(filename)
    if not lines:
        with open(filename, "rb") as f:
            lines = f.read().decode("utf-8").splitlines(True)
    want = "# @" + tag
    for i, text in enumerate(lines):
        if text.rstrip().endswith(want):
            out.append(i + 1)
    if not out:
        raise RuntimeError("no line tagged @%s in %s" % (tag, filename))
    return out


def tagged_line(filename, tag):
    lines = tagged_lines(filename, tag)
    if len(lines) != 1:
        raise RuntimeError("tag @%s is on %d lines of %s" % (tag, len(lines), filename))
    return lines[0]


def _code(func):
    func = getattr(func, "__func__", func)  # unbound/class methods
    return func.__code__


_native = {}
_roles = {}
_names_extra = {}
_self_records = {}
_conditions = []
_foreign_records = []
_extra = {}


def native_id():
    """The OS thread id (gettid) of the calling thread, or None."""
    f = getattr(threading, "get_native_id", None)
    if f is not None:
        return f()
    try:
        import ctypes
        return int(ctypes.CDLL(None, use_errno=True).syscall(186))  # x86_64 gettid
    except Exception:
        return None


def register(role="parked"):
    """Note the calling thread's native id (and role)."""
    ident = get_ident()
    if ident not in _native:
        _native[ident] = native_id()
    if role != "parked" or ident not in _roles:
        _roles[ident] = role


def park():
    """Block the calling thread forever, without the GIL (read syscall)."""
    register()
    os.read(_R, 1)  # @park


PARK_CODE = _code(park)
PARK_LINE = tagged_line(PARK_CODE.co_filename, "park")

_EVENT = threading.Event()  # never set


def park_event():
    """Block forever in threading.Event.wait() (futex wait, threading.py frames)."""
    register()
    _EVENT.wait()  # @park-event


PARK_EVENT_CODE = _code(park_event)
PARK_EVENT_LINE = tagged_line(PARK_EVENT_CODE.co_filename, "park-event")


def _find_cond_acquire():
    cls = getattr(threading, "_Condition", threading.Condition)
    if not isinstance(cls, type):
        cls = threading._Condition
    code = _code(cls.wait)
    lines = linecache.getlines(code.co_filename)
    after_none = False
    for ln in range(code.co_firstlineno, len(lines) + 1):
        text = lines[ln - 1].strip()
        if text.startswith("if timeout is None"):
            after_none = True
        elif after_none and text == "waiter.acquire()":
            return code, ln
    raise RuntimeError("cannot find Condition.wait's blocking acquire in %s" % code.co_filename)


COND_WAIT_CODE, COND_WAIT_LINE = _find_cond_acquire()


def _watchdog(fd):
    """Exit when the harness goes away (the write end of the lifeline pipe
    closes), so that no target outlives its test run."""
    register()
    os.read(fd, 1)  # @watchdog
    os._exit(70)


WATCHDOG_CODE = _code(_watchdog)
WATCHDOG_LINE = tagged_line(WATCHDOG_CODE.co_filename, "watchdog")


def _is_parked(f):
    if f is None:
        return None
    if f.f_code is PARK_CODE and f.f_lineno == PARK_LINE:
        return "read"
    if f.f_code is WATCHDOG_CODE and f.f_lineno == WATCHDOG_LINE:
        return "read"
    if f.f_code is COND_WAIT_CODE and f.f_lineno == COND_WAIT_LINE:
        # Only Event.wait() called by park_event() parks for good: an
        # Event.wait() elsewhere (Thread.start() waiting for the new thread
        # to start, say) ends.
        g = f.f_back and f.f_back.f_back
        if g is not None and g.f_code is PARK_EVENT_CODE and g.f_lineno == PARK_EVENT_LINE:
            return "futex"
    return None


def _frame_dict(code, line):
    name = code.co_filename
    if PY2 and isinstance(name, bytes):
        name = name.decode("utf-8")
    return {
        "function": code.co_name if not PY2 else code.co_name.decode("utf-8"),
        "qualname": getattr(code, "co_qualname", None),
        "file": name,
        "line": line,
    }


def frames_of(f):
    """Frames from F outwards, innermost first."""
    out = []
    while f is not None:
        out.append(_frame_dict(f.f_code, f.f_lineno))
        f = f.f_back
    return out


def stack_here(tag, depth=1, park_with=None):
    """The stack the calling thread will have once it parks.

    The caller (DEPTH frames up from here) is about to call, on its line
    tagged @TAG, something that does not return.  If PARK_WITH is park, that
    call is park() itself and park()'s frame is added innermost.
    """
    f = sys._getframe(depth)
    line = tagged_line(f.f_code.co_filename, tag)
    frames = [_frame_dict(f.f_code, line)] + frames_of(f.f_back)
    if park_with is park:
        frames.insert(0, _frame_dict(PARK_CODE, PARK_LINE))
    return frames


def self_record(frames, blocked_in, interpreter=0):
    """Use FRAMES for the calling thread instead of observing it."""
    register()
    _self_records[get_ident()] = {"frames": frames, "blocked_in": blocked_in,
                                  "interpreter": interpreter}


def add_condition(fn):
    """The writer waits until fn() is true as well."""
    _conditions.append(fn)


def add_foreign_records(fn):
    """fn() -> thread records of other interpreters, merged into the truth."""
    _foreign_records.append(fn)


def set_extra(key, value):
    _extra[key] = value


def _interp_version():
    return "%d.%d.%d" % tuple(sys.version_info[:3])


def _ready_fd():
    v = os.environ.get("SNAKESCOPE_READY_FD")
    return int(v) if v else None


def signal(msg):
    """Tell the harness: "ready", "skip: why" or "error: what"."""
    fd = _ready_fd()
    if fd is None:
        print(msg)
        sys.stdout.flush()
        return
    data = (msg.rstrip("\n") + "\n")
    if not isinstance(data, bytes):
        data = data.encode("utf-8", "replace")
    os.write(fd, data)
    os.close(fd)
    os.environ.pop("SNAKESCOPE_READY_FD", None)


def skip(reason):
    """This scenario does not apply to this interpreter: say so and exit."""
    signal("skip: " + reason)
    os._exit(0)


def write_json(path, obj):
    data = json.dumps(obj, indent=1, sort_keys=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(data)
    os.rename(tmp, path)


def _collect(me):
    for cond in _conditions:
        if not cond():
            return None, "waiting for a condition (%s)" % getattr(cond, "__name__", cond)
    frames = sys._current_frames()
    names = dict((t.ident, t.name) for t in threading.enumerate())
    idents = set(names)
    for ident in frames:
        idents.add(ident)
    records = []
    for ident in sorted(idents):
        role = "writer" if ident == me else _roles.get(ident, "parked")
        rec = {"ident": ident, "native_id": _native.get(ident), "role": role,
               "name": names.get(ident), "interpreter": 0, "frames": None,
               "blocked_in": None}
        if ident in _self_records:
            rec.update(_self_records[ident])
        elif role == "parked":
            f = frames.get(ident)
            how = _is_parked(f)
            if not how:
                where = frames_of(f)[:1] if f is not None else "no frames"
                return None, "thread %r (%s) is not parked yet: %r" % (
                    names.get(ident), ident, where)
            rec["frames"] = frames_of(f)
            rec["blocked_in"] = how
        elif role == "spinner":
            f = frames.get(ident)
            lines = _extra.get("spin_lines") or []
            if f is None or f.f_code.co_name != "spin" or f.f_lineno not in lines:
                return None, "the spinner is not spinning yet"
            rec["frames"] = frames_of(f)
            rec["volatile_lines"] = lines
        records.append(rec)
    for fn in _foreign_records:
        records.extend(fn())
    return records, None


def truth_header():
    return {
        "pid": os.getpid(),
        "python": {
            "version": _interp_version(),
            "hexversion": sys.hexversion,
            "executable": sys.executable,
            "realexe": os.path.realpath(sys.executable),
            "debug": DEBUG_BUILD,
        },
        "park_line": PARK_LINE,
        "park_file": PARK_CODE.co_filename,
    }


def _writer(timeout):
    me = get_ident()
    register("writer")
    try:
        deadline = time.time() + timeout
        while True:
            records, why = _collect(me)
            if records is not None:
                break
            if time.time() > deadline:
                raise RuntimeError("not every thread parked within %d s: %s" % (timeout, why))
            time.sleep(0.002)  # polling: nothing to wait on
        truth = truth_header()
        truth["threads"] = records
        truth["extra"] = _extra
        path = os.environ.get("SNAKESCOPE_TRUTH")
        if path:
            write_json(path, truth)
        else:
            print(json.dumps(truth, indent=1, sort_keys=True))
        signal("ready")
    except Exception:
        signal("error: " + traceback.format_exc().replace("\n", "\n  "))
    park()


def finish(timeout=20):
    """Main thread: start the ground-truth writer, then park for good."""
    register()
    w = threading.Thread(target=_writer, args=(timeout,), name="snakescope-truth-writer")
    w.daemon = True
    w.start()
    park()  # @finish


def start_thread(name, target, *args):
    t = threading.Thread(target=target, args=args, name=name)
    t.daemon = True
    t.start()
    return t


def run_target(main):
    """Run MAIN() (which ends in finish()); any failure is reported."""
    try:
        main()
    except SystemExit:
        raise
    except BaseException:
        signal("error: " + traceback.format_exc().replace("\n", "\n  "))
        os._exit(1)


register("parked")  # the main thread (importing this) parks too

_lifeline = os.environ.pop("SNAKESCOPE_LIFELINE_FD", None)
if _lifeline:
    start_thread("snakescope-watchdog", _watchdog, int(_lifeline))
