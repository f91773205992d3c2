"""`snakescope dump` and `snakescope info` against parked targets, for every
interpreter x scenario (see conftest.py), compared with the ground truth
each target writes about itself (targets/sstarget.py).

Compared threads ("parked" in the ground truth): frames equal exactly,
innermost first (function, file, line, and qualname: co_qualname on 3.11+,
null before).  The spinner (threads scenario): same frames except that its
innermost line may be any line of its loop.  The ground-truth writer: only
its existence.  The thread set of the dump equals the ground truth's, threads
matched by (interpreter, ident).
"""
import os
import re

import pytest

import helpers
from helpers import compare_frames, index_threads, py_frames, truth_key


def ok(res):
    if res.timed_out or res.rc != 0:
        pytest.fail("snakescope failed:\n" + res.describe(), pytrace=False)
    return res


def load_json(res):
    ok(res)
    try:
        return res.json()
    except ValueError as e:
        pytest.fail("output is not JSON (%s):\n%s" % (e, res.describe()), pytrace=False)


def with_qualname(target):
    return target.truth["python"]["hexversion"] >= 0x030B0000


def records(target, *roles):
    return [r for r in target.truth["threads"] if not roles or r["role"] in roles]


def label(rec):
    return "thread %r (ident %s, interpreter %s, tid %s)" % (
        rec.get("name"), rec["ident"], rec.get("interpreter", 0), rec.get("host_tid"))


def check_thread_set(doc, target):
    idx = index_threads(doc)
    want = {truth_key(r): r for r in target.truth["threads"]}
    errors = []
    for k in sorted(set(want) - set(idx)):
        errors.append("missing from the dump: %s" % label(want[k]))
    for k in sorted(set(idx) - set(want)):
        t = idx[k]
        errors.append("dumped thread the target does not have: interpreter %s ident %s tid %s"
                      % (k[0], k[1], t.get("tid")))
    return idx, errors


def check_frames(doc, target, roles=("parked", "spinner")):
    idx, errors = check_thread_set(doc, target)
    wq = with_qualname(target)
    for rec in records(target, *roles):
        t = idx.get(truth_key(rec))
        if t is None:
            continue
        msg = compare_frames(rec["frames"], py_frames(t), wq,
                             volatile_innermost=rec.get("volatile_lines"))
        if msg:
            errors.append("%s: %s" % (label(rec), msg))
    return errors


def expected_executables(target):
    py = target.truth["python"]
    out = {py["realexe"], py["executable"]}
    try:
        host = os.readlink("/proc/%d/exe" % target.pid)
        out.add(host)
        root = target.interp.root
        if root != "/" and host.startswith(root + "/"):
            out.add(host[len(root):])
    except OSError:
        pass
    return out


def check_python_block(py, target):
    """Errors in a document's "python" object (dump and info share it)."""
    truth = target.truth["python"]
    errors = []
    if py.get("version") != truth["version"]:
        errors.append("python.version %r, the target runs %r" % (py.get("version"), truth["version"]))
    if py.get("debug") is not truth["debug"]:
        errors.append("python.debug %r, the target's build is %sa debug build"
                      % (py.get("debug"), "" if truth["debug"] else "not "))
    if py.get("free_threaded") is not False:
        errors.append("python.free_threaded %r, expected false" % py.get("free_threaded"))
    exes = expected_executables(target)
    if py.get("executable") not in exes:
        errors.append("python.executable %r, expected one of %r" % (py.get("executable"), sorted(exes)))
    lib = helpers.libpython_mapping(target.pid)
    if lib is None:
        if py.get("library") is not None:
            errors.append("python.library %r, but no libpython is mapped (static build)"
                          % py.get("library"))
    else:
        root = target.interp.root
        want = {lib, os.path.realpath(lib)}
        if root != "/" and lib.startswith(root + "/"):
            want.add(lib[len(root):])
        if py.get("library") not in want:
            errors.append("python.library %r, expected one of %r" % (py.get("library"), sorted(want)))
    if target.interp.shared is False and lib is not None:
        errors.append("expected a static build, but %s is mapped" % lib)
    return errors


# ---------------------------------------------------------------- tests

def test_dump_json_frames(target, dumps):
    """Every thread's frames exactly as the target sees them."""
    doc = load_json(dumps["json"])
    errors = check_frames(doc, target)
    assert not errors, "\n\n".join(errors)


def test_dump_json_fields(target, dumps):
    """Document and thread fields: schema, pid, source, python, holds_gil,
    status, interpreter, field presence."""
    doc = load_json(dumps["json"])
    errors = []
    if doc.get("schema") != "snakescope.dump/1":
        errors.append("schema %r" % doc.get("schema"))
    if doc.get("pid") != target.pid:
        errors.append("pid %r, expected %d" % (doc.get("pid"), target.pid))
    if doc.get("source") != "live":
        errors.append("source %r, expected 'live'" % doc.get("source"))
    errors += check_python_block(doc.get("python") or {}, target)
    idx = index_threads(doc)
    for t in doc.get("threads", []):
        for k in ("tid", "ident", "name", "interpreter", "holds_gil", "status", "frames"):
            if k not in t:
                errors.append("thread %s has no %r field" % (t.get("ident"), k))
        if t.get("status") not in ("running", "idle"):
            errors.append("thread %s: status %r" % (t.get("ident"), t.get("status")))
        if not (t.get("name") is None or isinstance(t.get("name"), str)):
            errors.append("thread %s: name %r" % (t.get("ident"), t.get("name")))
        for f in t.get("frames") or []:
            for k in ("kind", "function", "qualname", "file", "line"):
                if k not in f:
                    errors.append("thread %s: a frame has no %r field: %r" % (t.get("ident"), k, f))
                    break
    for rec in records(target, "parked"):
        t = idx.get(truth_key(rec))
        if t is None:
            errors.append("missing from the dump: %s" % label(rec))
            continue
        if t.get("holds_gil") is not False:
            errors.append("%s is parked, but holds_gil is %r" % (label(rec), t.get("holds_gil")))
        if t.get("status") != "idle":
            errors.append("%s is parked (asleep in a system call), but status is %r"
                          % (label(rec), t.get("status")))
    gil = [t for t in doc.get("threads", []) if t.get("holds_gil")]
    if len(gil) > 1:
        errors.append("%d threads hold the GIL" % len(gil))
    assert not errors, "\n".join(errors)


def test_dump_tids(target, dumps):
    """tid is the thread's OS thread id in the host's PID namespace."""
    doc = load_json(dumps["json"])
    idx = index_threads(doc)
    tasks = set(helpers.tasks(target.pid))
    errors = []
    for rec in target.truth["threads"]:
        t = idx.get(truth_key(rec))
        if t is None:
            errors.append("missing from the dump: %s" % label(rec))
            continue
        if rec.get("host_tid") is not None:
            if t.get("tid") != rec["host_tid"]:
                errors.append("%s: tid %r, expected %d%s" % (
                    label(rec), t.get("tid"), rec["host_tid"],
                    " (its tid inside the PID namespace is %s)" % rec.get("native_id")
                    if target.interp.kind == "pidns" else ""))
        elif t.get("tid") not in tasks:
            errors.append("%s: tid %r is not a task of %d (%s)" % (label(rec), t.get("tid"),
                                                                 target.pid, sorted(tasks)))
    for t in doc.get("threads", []):
        if t.get("tid") not in tasks:
            errors.append("dumped tid %r (ident %s) is not a task of %d"
                          % (t.get("tid"), t.get("ident"), target.pid))
    assert not errors, "\n".join(errors)


def test_dump_text(target, dumps):
    """Text output: per thread a header with its tid, then its frames in
    traceback order, `  File "F", line N, in NAME` and the source line."""
    res = ok(dumps["text"])
    blocks = helpers.parse_text_dump(res.out)
    errors = []
    park = (target.truth["park_file"], target.truth["park_line"])
    checked_park_source = 0
    for rec in records(target, "parked"):
        tid = rec.get("host_tid")
        if tid is None:  # fall back on the JSON dump's tid for this ident
            try:
                tid = index_threads(dumps["json"].json())[truth_key(rec)]["tid"]
            except Exception:
                errors.append("%s: no tid known to find its text block" % label(rec))
                continue
        mine = [(h, b) for h, b in blocks
                if re.match(r"^Thread %d\b" % tid, h) and helpers.header_interp(h) == rec["interpreter"]]
        if len(mine) != 1:
            errors.append("%s: %d text blocks with a header 'Thread %d'%s"
                          % (label(rec), len(mine), tid,
                             " (interpreter %d)" % rec["interpreter"] if rec["interpreter"] else ""))
            continue
        got = helpers.text_frames(mine[0][1])
        want = list(reversed(rec["frames"]))
        got_keys = [(g[0], g[1]) for g in got]
        want_keys = [(w["file"], w["line"]) for w in want]
        if got_keys != want_keys:
            errors.append("%s: text frames (most recent call last) differ:\n  expected:\n%s\n  got:\n%s"
                          % (label(rec), "\n".join("    %s:%s" % k for k in want_keys[-30:]),
                             "\n".join("    %s:%s" % k for k in got_keys[-30:])))
            continue
        for w, g in zip(want, got):
            names = {w["function"], w["qualname"]} - {None}
            if g[2] not in names:
                errors.append("%s: frame %s:%s is 'in %s', expected one of %r"
                              % (label(rec), w["file"], w["line"], g[2], sorted(names)))
            src = helpers.source_line(target.interp.host_path(w["file"]), w["line"]) \
                if w["file"].startswith("/") else None
            if src is None:
                continue
            if (w["file"], w["line"]) == park:
                checked_park_source += 1
                if g[3] is None:
                    errors.append("%s: no source line after the frame at %s:%s (expected %r)"
                                  % (label(rec), w["file"], w["line"], src.strip()))
                    continue
            if g[3] is not None and g[3].strip() != src.strip():
                errors.append("%s: source line of %s:%s is %r, the file has %r"
                              % (label(rec), w["file"], w["line"], g[3].strip(), src.strip()))
    if not checked_park_source and not errors:
        errors.append("no thread parked in park(): nothing checked the source line")
    assert not errors, "\n".join(errors) + "\n\ntext output:\n" + helpers._clip(res.out, 6000)


def test_dump_nonblocking(target, dumps):
    """--nonblocking gives the same frames for parked threads."""
    doc = load_json(dumps["nonblocking"])
    errors = check_frames(doc, target, roles=("parked",))
    assert not errors, "\n\n".join(errors)


def test_target_continues(target, dumps):
    """After each dump no task of the target is stopped or traced, and the
    target goes on running (its spinner, if any, gets CPU time)."""
    errors = []
    for name, res in sorted(dumps.items()):
        if res.left_stopped:
            errors.append("right after `%s`: %s" % (" ".join(res.cmd), "; ".join(res.left_stopped)))
        if res.crashed or res.timed_out:
            errors.append(res.describe())
    assert target.alive(), "the target died: %s\n%s" % (target, target.log())
    now = helpers.stopped_or_traced(target.pid)
    if now:
        errors.append("now: " + "; ".join(now))
    assert not errors, "\n".join(errors)
    for rec in records(target, "spinner"):
        tid = rec["host_tid"]
        _, t0 = helpers.task_stat(target.pid, tid)
        helpers.wait_until(lambda: helpers.task_stat(target.pid, tid)[1] > t0, 10,
                           "the spinner (tid %d) to use CPU time" % tid)


@pytest.mark.scenarios("basic")
def test_info(target):
    """info --json: version, debug flag, executable, library; info text."""
    doc = load_json(helpers.run_snakescope("info", "--json", target.pid))
    errors = check_python_block(doc.get("python") or {}, target)
    if doc.get("pid") != target.pid:
        errors.append("pid %r, expected %d" % (doc.get("pid"), target.pid))
    res = ok(helpers.run_snakescope("info", target.pid))
    if target.truth["python"]["version"] not in res.out:
        errors.append("`info` text does not mention %s:\n%s" % (target.truth["python"]["version"], res.out))
    left = helpers.stopped_or_traced(target.pid)
    if left:
        errors.append("after info: " + "; ".join(left))
    assert not errors, "\n".join(errors)
