"""`snakescope dump --native`: C frames interleaved with Python frames.

One target per interpreter (targets/native.py) loads a C extension built
here with that interpreter's own headers (ext/ssnative.c) and parks 21
threads: the main thread in the issue's chain
    <module> -> outer -> ext_call -> ext_inner -> cb -> ext_block -> read
and twenty threads each in another state (depth, read/futex, C calling
Python, the extension chain, blocked inside C).  Every check compares the
Python frames with the target's own ground truth and the C frames with
what the chain must produce: the extension's frames exactly where they
belong, the libc call a thread blocks in innermost, nothing of the
interpreter's own in between (without --native-all), and no unwinding
stop.  The same from a gcore of the target, and the C frames against
gdb's `thread apply all bt` for a few interpreters."""
import os
import re
import shutil
import subprocess
import sys

import pytest

import helpers
from conftest import INTERPS, TARGET_KEYS, start_target, stop_target
from test_core import kernel_core_or_skip, sysroot_args, take_gcore

EXT_SRC = str(helpers.REPO / "tests" / "py" / "ext" / "ssnative.c")
EXT_LIB = "ssnative.so"
GDB = shutil.which("gdb")
GDB_INTERPS = ("pyenv-2.7", "pyenv-3.10", "pyenv-3.12", "debian-3.11")
# What a thread parked in read(2) has innermost.
READ_FUNCS = re.compile(r"^(__libc_|__GI___libc_|__)?read(_nocancel)?$")

_built = {}
_cores = {}


def params(ids=None):
    out = []
    for interp in INTERPS:
        if interp.version < (2, 7) or (ids and interp.id not in ids):
            continue
        key = sys.intern("%s-native" % interp.id)
        assert key in TARGET_KEYS
        marks = [pytest.mark.skip(reason=interp.missing)] if interp.missing else []
        out.append(pytest.param(key, id=key, marks=marks))
    return out


def run_in(interp, args):
    """Run the interpreter (inside its chroot or namespace as it runs)."""
    argv = [interp.exe] + args
    if interp.kind == "chroot":
        argv = ["chroot", interp.root] + argv
    return subprocess.run(argv, capture_output=True, text=True, timeout=60)


def build_ext(interp, workdir):
    """Compile ext/ssnative.c against interp's own headers into workdir (as
    the target sees it); returns the path as the target sees it."""
    if interp.id in _built:
        return _built[interp.id]
    p = run_in(interp, ["-c", "import sysconfig; print(sysconfig.get_paths()['include'])"])
    assert p.returncode == 0, p.stderr
    inc = interp.host_path(p.stdout.strip())
    if not os.path.exists(os.path.join(inc, "Python.h")):
        pytest.skip("no Python.h in %s (headers of %s: python3.11-dev or libpython3.X-dev): "
                    "bash tests/setup.sh" % (inc, interp.id))
    out = os.path.join(workdir, "ssnative-%s.so" % interp.id)
    cmd = ["gcc", "-shared", "-fPIC", "-O2", "-g", "-fno-optimize-sibling-calls",
           "-fno-omit-frame-pointer", "-I", inc]
    if interp.root != "/":
        # Debian's pyconfig.h includes <x86_64-linux-gnu/python3.X/...>.
        cmd += ["-idirafter", os.path.join(interp.root, "usr/include")]
    cmd += ["-o", interp.host_path(out), EXT_SRC]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, "building the extension failed:\n%s\n%s" % (" ".join(cmd), p.stderr)
    # The target loads it under the name the frames show.
    final = os.path.join(workdir, interp.id, EXT_LIB)
    os.makedirs(interp.host_path(os.path.dirname(final)), exist_ok=True)
    shutil.move(interp.host_path(out), interp.host_path(final))
    _built[interp.id] = final
    return final


@pytest.fixture(scope="session")
def ntarget(request, workdirs, snakescope_bin):
    interp, scenario = TARGET_KEYS[request.param]
    wd = workdirs.for_interp(interp)
    so = build_ext(interp, wd)
    t = start_target(interp, scenario, workdirs, env_extra={"SNAKESCOPE_NATIVE_EXT": so})
    t.ext_path = so
    yield t
    stop_target(t)


# ------------------------------------------------------------- expectations

def truth_threads(t):
    return [r for r in t.truth["threads"] if r["role"] == "parked" and r["frames"]]


def expected_chain(rec):
    """The Python frames of REC (ground truth) with the extension's frames
    where they must appear, innermost first, as (kind, name) pairs."""
    out = []
    for f in rec["frames"]:
        if f["function"] in ("cb", "block_here"):
            out.append(("native", "ext_block"))
        out.append(("python", f["function"]))
        if f["function"] in ("cb", "chain_cb"):
            out += [("native", "ext_inner"), ("native", "ext_call")]
    return out


def check_thread(rec, got, errors, label, core=False):
    """GOT: the dump's frames of the thread of REC (innermost first)."""
    stops = [f for f in got if f["kind"] == "unwind_stopped"]
    if stops:
        errors.append("%s: native unwinding stopped: %s" % (label, stops[0].get("reason")))
    py = [f for f in got if f["kind"] == "python"]
    diff = helpers.compare_frames(rec["frames"], py, with_qualname=False)
    if diff:
        errors.append("%s: Python frames: %s" % (label, diff))
    kinds = [f["kind"] for f in got]
    if "python" not in kinds:
        errors.append("%s: no Python frames" % label)
        return
    first = kinds.index("python")
    last = len(kinds) - 1 - kinds[::-1].index("python")
    # innermost: the extension or libc, never the interpreter
    lead = got[:first]
    while lead and lead[-1].get("library") == EXT_LIB:
        lead = lead[:-1]
    if not lead or any(not (f.get("library") or "").startswith("libc") for f in lead):
        errors.append("%s: innermost frames are not the libc call it blocks in: %s"
                      % (label, fmt(got[:first + 1])))
    elif rec.get("blocked_in") == "read" and not READ_FUNCS.match(lead[-1].get("function") or ""):
        # glibc's own frames below read() (2.41+: __syscall_cancel...)
        # may have no name without its debug symbols; read() has one.
        errors.append("%s: the libc function called is not read(): %s" % (label, fmt(lead)))
    # between the innermost and outermost Python frame: the extension's
    # frames only, exactly where the chain puts them
    middle = got[first:last + 1]
    seq = [(f["kind"], f["function"]) for f in middle]
    lead_ext = [("native", f["function"]) for f in got[:first] if f.get("library") == EXT_LIB]
    want = expected_chain(rec)
    if lead_ext + seq != want:
        errors.append("%s: merged stack\n    got  %s\n    want %s" % (label, lead_ext + seq, want))
    for f in middle:
        if f["kind"] == "native" and f.get("library") != EXT_LIB:
            errors.append("%s: unexpected C frame between Python frames: %s" % (label, fmt([f])))
    # outermost: the C runtime that started the thread
    for f in got[last + 1:]:
        if f["kind"] != "native" or not f.get("library"):
            errors.append("%s: outer frame %s" % (label, fmt([f])))


def fmt(frames):
    return ", ".join("%s!%s" % (f.get("library"), f.get("function")) if f["kind"] == "native"
                     else "%s(%s)" % (f["kind"], f.get("function") or f.get("reason"))
                     for f in frames)


def check_dump(t, doc, errors, what):
    threads = helpers.index_threads(doc)
    for rec in truth_threads(t):
        th = threads.get(helpers.truth_key(rec))
        label = "%s thread %s" % (what, rec.get("name"))
        if th is None:
            errors.append("%s: missing" % label)
            continue
        check_thread(rec, th["frames"], errors, label)


def libc_debug_file(pid):
    """The separate debug file of the libc process pid maps, where
    snakescope looks for it (the target's /usr/lib/debug, then ours), by
    build-id; None when neither has it."""
    root = "/proc/%d/root" % pid
    with open("/proc/%d/maps" % pid) as f:
        libc = next((l.split()[-1] for l in f if re.search(r"/libc\.so\.6$", l)), None)
    if not libc:
        return None
    notes = subprocess.run(["readelf", "-n", root + libc], capture_output=True, text=True).stdout
    m = re.search(r"Build ID: ([0-9a-f]{4,})", notes)
    if not m:
        return None
    rel = "/usr/lib/debug/.build-id/%s/%s.debug" % (m.group(1)[:2], m.group(1)[2:])
    return next((p for p in (root + rel, rel) if os.path.exists(p)), None)


def main_frames(t, doc):
    main = next(r for r in t.truth["threads"] if r.get("name") == "MainThread")
    return helpers.index_threads(doc)[helpers.truth_key(main)]["frames"]


def dump_json(*args):
    res = helpers.run_snakescope("dump", "--json", *args)
    assert res.rc == 0 and not res.crashed, res.describe()
    return res, res.json()


# --------------------------------------------------------------------- live

@pytest.mark.parametrize("ntarget", params(), indirect=True, scope="session")
def test_native_live(ntarget):
    t = ntarget
    res, doc = dump_json("--native", t.pid)
    errors = []
    check_dump(t, doc, errors, "live")
    assert not helpers.stopped_or_traced(t.pid), "target left stopped or traced"
    # The chain, exactly, innermost first.
    got = main_frames(t, doc)
    start = next((i for i, f in enumerate(got) if READ_FUNCS.match(f.get("function") or "")), 0)
    if any(not f["library"].startswith("libc") for f in got[:start]):
        errors.append("main thread: frames before read(): %s" % fmt(got[:start + 1]))
    head = [(f["kind"], f.get("function"), f.get("library")) for f in got[start:start + 7]]
    names = [h[1] for h in head]
    if not (len(head) == 7 and READ_FUNCS.match(names[0] or "") and
            names[1:] == ["ext_block", "cb", "ext_inner", "ext_call", "outer", "<module>"] and
            [h[0] for h in head] == ["native", "native", "python", "native", "native",
                                     "python", "python"]):
        errors.append("main thread chain: %s" % fmt(got[:start + 8]))
    # JSON native frames carry what the schema says.
    for f in got:
        if f["kind"] == "native":
            for k in ("function", "library", "address", "offset", "file", "line"):
                if k not in f:
                    errors.append("native frame without %r: %r" % (k, f))
    # libc's file:line come from its compressed debug file (libc6-dbg) read
    # by src/elf/linetab.c, not libdw (tests/unit/test_linetab.c checks
    # they are libdw's): there whenever that file is.
    if start < len(got) and libc_debug_file(t.pid):
        f = got[start]
        if not (re.search(r"\.[cS]$", f.get("file") or "") and (f.get("line") or 0) > 0):
            errors.append("libc has a debug file but %s has no file:line: %r" % (f.get("function"), f))
    # The text shows the same as library!symbol+0xoff, with file:line for
    # the extension (built with -g).
    text = helpers.run_snakescope("dump", "--native", t.pid)
    assert text.rc == 0, text.describe()
    for fn in ("ext_block", "ext_inner", "ext_call"):
        if not re.search(r"^  %s!%s\+0x[0-9a-f]+ \(.*ssnative\.c:\d+\)$"
                         % (re.escape(EXT_LIB), fn), text.out, re.M):
            errors.append("text: no line %s!%s+0x.. (ssnative.c:N)\n%s" % (EXT_LIB, fn, text.out[:3000]))
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("ntarget", params(), indirect=True, scope="session")
def test_native_all(ntarget):
    """--native-all keeps the interpreter's frames: every eval-loop call
    that runs Python frames is there, after them."""
    t = ntarget
    res, doc = dump_json("--native-all", "--verbose", t.pid)
    errors = []
    m = re.search(r"stopped for (\d+) us", res.err)
    if not m:
        errors.append("--verbose does not report the pause: %r" % res.err)
    eval_names = ("PyEval_EvalFrameEx",) if t.interp.version < (3, 0) else \
        ("_PyEval_EvalFrameDefault", "_PyEval_EvalFrameDefault.cold")
    got = main_frames(t, doc)
    py = [f for f in got if f["kind"] == "python"]
    diff = helpers.compare_frames(
        next(r for r in t.truth["threads"] if r.get("name") == "MainThread")["frames"], py, False)
    if diff:
        errors.append(diff)
    # <module> and outer run in one eval call from 3.11 on, in two before;
    # cb in its own either way.
    evals = [i for i, f in enumerate(got) if f["kind"] == "native" and f["function"] in eval_names]
    want = 3 if t.interp.version < (3, 11) else 2
    if len(evals) < want:
        errors.append("%d eval-loop frames, want at least %d: %s" % (len(evals), want, fmt(got)))
    idx = {f.get("function"): i for i, f in enumerate(got) if f["kind"] == "python"}
    if evals and not idx["cb"] < evals[0] < idx["outer"]:
        errors.append("cb's eval-loop frame is not between cb and outer: %s" % fmt(got))
    interp_frames = [f for f in got if f["kind"] == "native" and f["library"] != EXT_LIB
                     and not f["library"].startswith("libc")]
    if not interp_frames:
        errors.append("--native-all shows no interpreter frame: %s" % fmt(got))
    assert not errors, "\n".join(errors)


# --------------------------------------------------------------------- core

@pytest.mark.parametrize("ntarget", params(), indirect=True, scope="session")
def test_native_core(ntarget, tmp_path_factory):
    t = ntarget
    key = (t.interp.id, t.pid)
    if key not in _cores:
        for p in _cores.values():
            shutil.rmtree(os.path.dirname(p), ignore_errors=True)
        _cores.clear()
        d = tmp_path_factory.mktemp("ncore")
        _cores[key] = take_gcore(t.pid, str(d / "native.core"), t.interp.root)
    res, doc = dump_json("--native", "--core", _cores[key], *sysroot_args(t.interp))
    errors = []
    check_dump(t, doc, errors, "core")
    assert not errors, "\n".join(errors)


# ---------------------------------------------------------------------- gdb



# The frames of `thread apply all bt`, through gdb's Python API so that
# the frames gdb adds from debug info are told apart: inlined calls and
# tail calls (reconstructed from DWARF call sites) have no stack frame of
# their own, and so no frame in a stack unwinder's output.
GDB_SCRIPT = """
import gdb
for th in gdb.selected_inferior().threads():
    th.switch()
    f, out = gdb.newest_frame(), []
    while f is not None:
        if f.type() in (gdb.NORMAL_FRAME, gdb.SIGTRAMP_FRAME):
            out.append("%x:%s" % (f.pc(), f.name()))
        try:
            f = f.older()
        except gdb.error:
            break
    print("SSTHREAD", th.ptid[1], " ".join(out))
"""


def gdb_stacks(pid, tmp):
    """{tid: [(pc, function)]}: gdb's real frames of every thread."""
    script = os.path.join(str(tmp), "frames.py")
    with open(script, "w") as f:
        f.write(GDB_SCRIPT)
    p = subprocess.run([GDB, "-nx", "-batch", "-p", str(pid), "-x", script],
                       capture_output=True, text=True, timeout=120)
    out = {}
    for ln in p.stdout.splitlines():
        parts = ln.split()
        if len(parts) >= 2 and parts[0] == "SSTHREAD":
            out[int(parts[1])] = [(int(x.split(":", 1)[0], 16), x.split(":", 1)[1])
                                  for x in parts[2:]]
    return out, p


@pytest.mark.parametrize("ntarget", params(GDB_INTERPS), indirect=True, scope="session")
def test_native_vs_gdb(ntarget, tmp_path):
    """Every C frame gdb finds (inlined ones aside: they have no frame of
    their own), at the same address, in the same order, for every thread."""
    if not GDB:
        pytest.skip("gdb not installed (apt package gdb): bash tests/setup.sh")
    t = ntarget
    res, doc = dump_json("--native-all", t.pid)
    gdb, p = gdb_stacks(t.pid, tmp_path)
    assert gdb, "gdb found no threads:\n%s\n%s" % (p.stdout[-3000:], p.stderr[-3000:])
    errors = []
    for th in doc["threads"]:
        want = gdb.get(th["tid"])
        if want is None:
            errors.append("gdb has no thread %s" % th["tid"])
            continue
        gpcs = [pc for pc, _ in want]
        ours = [f["address"] for f in th["frames"] if f["kind"] == "native"]
        if ours != gpcs:
            errors.append("thread %s: C frame addresses differ\n    gdb:  %s\n    ours: %s\n"
                          "    gdb frames: %s" % (th["tid"], [hex(a) for a in gpcs],
                                                  [hex(a) for a in ours], want))
    assert not errors, "\n".join(errors)


# ---------------------------------------------------------------- bad input

@pytest.mark.parametrize("ntarget", params(("pyenv-3.10", "pyenv-3.12", "sid-3.14")),
                         indirect=True, scope="session")
def test_native_deleted_library(ntarget, workdirs, start, tmp_path):
    """The extension deleted from disk while loaded: live, it is still read
    through /proc/PID/map_files; from a core that names a file that is
    gone, its frames are named by library only, and every Python frame is
    still shown, in order, none invented."""
    interp = ntarget.interp
    wd = workdirs.for_interp(interp)
    gone = os.path.join(wd, interp.id + "-deleted", EXT_LIB)
    os.makedirs(interp.host_path(os.path.dirname(gone)), exist_ok=True)
    shutil.copyfile(interp.host_path(ntarget.ext_path), interp.host_path(gone))
    t = start(interp, "native", env_extra={"SNAKESCOPE_NATIVE_EXT": gone})
    core = take_gcore(t.pid, str(tmp_path / "deleted.core"), interp.root)
    os.unlink(interp.host_path(gone))
    errors = []
    res, doc = dump_json("--native", t.pid)
    check_dump(t, doc, errors, "live, deleted")
    res, doc = dump_json("--native", "--core", core, *sysroot_args(interp))
    threads = helpers.index_threads(doc)
    for rec in truth_threads(t):
        th = threads.get(helpers.truth_key(rec))
        label = "core, deleted: thread %s" % rec.get("name")
        if th is None:
            errors.append("%s: missing" % label)
            continue
        py = [f for f in th["frames"] if f["kind"] == "python"]
        diff = helpers.compare_frames(rec["frames"], py, with_qualname=False)
        if diff:
            errors.append("%s: %s" % (label, diff))
        ext = [f for f in th["frames"] if f["kind"] == "native" and f["library"] == EXT_LIB]
        if any(kind == "native" for kind, _ in expected_chain(rec)) and not ext:
            errors.append("%s: the deleted library is not named: %s" % (label, fmt(th["frames"])))
        if any(f.get("function") for f in ext):
            errors.append("%s: symbols for a file that is gone: %s" % (label, fmt(ext)))
        # No CFI for it either: frame pointers (it is built with them)
        # carry the unwinding on through the whole stack.
        stops = [f for f in th["frames"] if f["kind"] == "unwind_stopped"]
        if stops:
            errors.append("%s: unwinding stopped (no frame pointer fallback?): %s"
                          % (label, fmt(th["frames"])))
    assert not errors, "\n".join(errors)


def test_native_usage(snakescope_bin):
    """--native reads registers of stopped threads: not with --nonblocking."""
    res = helpers.run_snakescope("dump", "--native", "--nonblocking", str(os.getpid()))
    assert res.rc == 2 and not res.crashed, res.describe()
    assert "--native needs the threads stopped" in res.err, res.describe()


@pytest.mark.parametrize("interp_id", ["pyenv-3.12", "pyenv-2.7", "debian-3.11", "sid-3.14"])
def test_native_kernel_core(tmp_path, interp_id):
    """A core the kernel wrote for a SIGSEGV in C (ctypes.string_at(0)):
    the thread that received the signal is unwound from the faulting
    instruction (libc's strlen), through ctypes and libffi, to
    crash_here() and its callers."""
    interp = next((i for i in INTERPS if i.id == interp_id), None)
    if interp is None or interp.missing:
        pytest.skip(interp.missing if interp else "%s not found" % interp_id)
    path, script = kernel_core_or_skip(tmp_path, interp.exe, interp.root)
    try:
        res, doc = dump_json("--native", "--core", path, *sysroot_args(interp))
    finally:
        if interp.root != "/":
            shutil.rmtree(os.path.dirname(path), ignore_errors=True)
    th = [t for t in doc["threads"] if t.get("received_signal")]
    assert len(th) == 1, res.out
    frames = th[0]["frames"]
    assert frames and frames[0]["kind"] == "native" and frames[0]["library"], fmt(frames)
    assert not [f for f in frames if f["kind"] == "unwind_stopped"], fmt(frames)
    names = [f.get("function") for f in frames if f["kind"] == "python"]
    # ctypes.string_at is a Python function around the foreign call
    assert names == ["string_at", "crash_here", "<module>"], fmt(frames)
    # ctypes' own C frames are between the fault and crash_here
    first_py = next(i for i, f in enumerate(frames) if f["kind"] == "python")
    assert any("ctypes" in (f.get("library") or "") for f in frames[:first_py]), fmt(frames)
