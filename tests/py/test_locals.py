"""`snakescope dump --locals` and thread names against targets/locals.py and
targets/nothreads.py, on every interpreter of the suite.

Exactness: with limits large enough to show everything (--max-repr and
--max-items 100000) every local of the "kinds" frame is compared with the
target's own repr(), names in frame.f_locals order.  Limits: with the
defaults, a 1000-key dict and a 10**6-item list come out as the documented
algorithm (see expected_container) says, quickly.  Unbound locals (deleted,
or assigned only after the park) are absent.  Thread names equal
threading's, including one renamed after start; a process that never
imported threading has none.
"""
import os
import time

import pytest

import helpers

BIG = ("--max-repr", "100000", "--max-items", "100000")
DEFAULT_MAX_REPR = 80
DEFAULT_MAX_ITEMS = 10


def ok(res):
    if res.timed_out or res.rc != 0:
        pytest.fail("snakescope failed:\n" + res.describe(), pytrace=False)
    return res


def dump_json(target, *args):
    res = ok(helpers.run_snakescope("dump", "--json", *(args + (target.pid,))))
    try:
        return res.json()
    except ValueError as e:
        pytest.fail("output is not JSON (%s):\n%s" % (e, res.describe()), pytrace=False)


def frame_named(doc, function):
    for t in doc["threads"]:
        for f in t["frames"]:
            if f.get("function") == function:
                return f
    pytest.fail("no frame of %s() in the dump" % function, pytrace=False)


def diff_locals(want, got):
    """Readable differences between [name, repr] lists."""
    lines = []
    wn = [n for n, _ in want]
    gn = [n for n, _ in got]
    if wn != gn:
        lines.append("names differ:\n  want %s\n  got  %s" % (wn, gn))
    gd = dict(got)
    for n, r in want:
        if n in gd and gd[n] != r:
            lines.append("%s:\n  want %s\n  got  %s" % (n, r, gd[n]))
    return "\n".join(lines)


@pytest.mark.scenarios("locals")
def test_every_kind_exact(target):
    t = target
    doc = dump_json(t, "--locals", *BIG)
    f = frame_named(doc, "kinds")
    got = [[k, v] for k, v in f["locals"].items()]
    want = t.truth["extra"]["frames"]["kinds"]["locals"]
    assert got == want, diff_locals(want, got)
    assert "gone" not in f["locals"] and "never" not in f["locals"]
    # Every frame has a "locals" object with --locals, null without.
    for th in doc["threads"]:
        for fr in th["frames"]:
            assert isinstance(fr["locals"], dict), fr
    plain = dump_json(t)
    for th in plain["threads"]:
        for fr in th["frames"]:
            assert "locals" in fr and fr["locals"] is None, fr


def cp_len(s):
    return len(s)


def cut(s, limit):
    """reprlib's middle cut to limit code points."""
    if len(s) <= limit:
        return s
    i = max(0, (limit - 3) // 2)
    j = max(0, limit - 3 - i)
    return s[:i] + "..." + s[len(s) - j:]


def expected_container(open_, close, pieces, total, limit, max_items):
    """What snakescope prints for a container of `total` elements whose
    first elements print as `pieces` (dict items as "k: v"): elements while
    each fits in what is left of `limit` after the closing text and, when
    more follow, ", ..."; "..." for the rest."""
    out = open_
    shown = 0
    full = False
    for i, p in enumerate(pieces[:max_items]):
        more = i + 1 < total
        used = len(out) + (2 if shown else 0) + len(close) + (5 if more else 0)
        if shown:
            out += ", "
        if used + 4 > limit:
            out += "..."
            full = True
            break
        room = limit - used
        out += cut(p, room)
        shown += 1
    if not full and total > shown:
        out += (", " if shown else "") + "..."
    return cut(out + close, limit)


@pytest.mark.scenarios("locals")
def test_big_containers_bounded(target):
    t = target
    t0 = time.monotonic()
    doc = dump_json(t, "--locals")
    took = time.monotonic() - t0
    f = frame_named(doc, "big")
    extra = t.truth["extra"]["frames"]["big"]
    d_pieces = ["%s: %s" % (k, v) for k, v in extra["d_items"]]
    want_d = expected_container("{", "}", d_pieces, 1000, DEFAULT_MAX_REPR,
                                DEFAULT_MAX_ITEMS)
    want_l = expected_container("[", "]", extra["lst_items"], extra["lst_len"],
                                DEFAULT_MAX_REPR, DEFAULT_MAX_ITEMS)
    assert f["locals"]["d"] == want_d
    assert f["locals"]["lst"] == want_l
    d4_pieces = ["%s: %s" % (k, v) for k, v in extra["d4_items"]]
    assert f["locals"]["d4"] == expected_container(
        "{", "}", d4_pieces, 70000, DEFAULT_MAX_REPR, DEFAULT_MAX_ITEMS)
    for name, r in f["locals"].items():
        assert len(r) <= DEFAULT_MAX_REPR, (name, r)
    for th in doc["threads"]:
        for fr in th["frames"]:
            for name, r in (fr["locals"] or {}).items():
                assert len(r) <= DEFAULT_MAX_REPR, (fr["function"], name, r)
    assert took < 10, "dump --locals took %.1f s" % took


@pytest.mark.scenarios("locals")
@pytest.mark.parametrize("limits", [(30, 3), (12, 2), (200, 1), (1, 1)])
def test_limits(target, limits):
    max_repr, max_items = limits
    t = target
    doc = dump_json(t, "--locals", "--max-repr", str(max_repr),
                    "--max-items", str(max_items))
    f = frame_named(doc, "big")
    extra = t.truth["extra"]["frames"]["big"]
    d_pieces = ["%s: %s" % (k, v) for k, v in extra["d_items"]]
    assert f["locals"]["d"] == expected_container(
        "{", "}", d_pieces, 1000, max_repr, max_items)
    assert f["locals"]["lst"] == expected_container(
        "[", "]", extra["lst_items"], extra["lst_len"], max_repr, max_items)
    k = frame_named(doc, "kinds")["locals"]
    assert k["s_long"] == cut(repr("x" * 5000), max_repr)
    for name, r in k.items():
        assert len(r) <= max(max_repr, 3), (name, r)


@pytest.mark.scenarios("locals")
def test_thread_names(target):
    t = target
    want = {r["ident"]: r["name"] for r in t.truth["threads"]}
    assert "renamed-later" in want.values() and "MainThread" in want.values()
    for args in ((), ("--locals",), ("--nonblocking",)):
        doc = dump_json(t, *args)
        got = {th["ident"]: th["name"] for th in doc["threads"]}
        assert got == want, args
    res = ok(helpers.run_snakescope("dump", t.pid))
    assert 'Thread %d "MainThread"' % t.pid in res.out
    assert '"renamed-later" (ident' in res.out


@pytest.mark.scenarios("basic", "threads", "names", "subinterp")
def test_thread_names_everywhere(target):
    """The main interpreter's threads carry threading's names in every
    scenario (subinterpreter threads: whatever their interpreter's own
    threading says, a str or nothing)."""
    doc = dump_json(target)
    got = {(th["interpreter"], th["ident"]): th["name"] for th in doc["threads"]}
    for rec in target.truth["threads"]:
        key = (rec.get("interpreter", 0), rec["ident"])
        if key[0] == 0:
            assert got.get(key) == rec["name"], (key, got.get(key), rec["name"])
    for name in got.values():
        assert name is None or isinstance(name, str)


@pytest.mark.scenarios("locals")
def test_text_output(target):
    t = target
    res = ok(helpers.run_snakescope("dump", "--locals", t.pid))
    want = dict(t.truth["extra"]["frames"]["kinds"]["locals"])
    assert "        i_one = 1\n" in res.out
    assert "        s_ascii = %s\n" % want["s_ascii"] in res.out
    assert "gone =" not in res.out
    # the same order as JSON
    lines = [ln.strip() for ln in res.out.splitlines()]
    assert lines.index("i_zero = 0") < lines.index("i_one = 1")


def test_never_imported_threading(start, interp, workdirs):
    script = os.path.join(workdirs.for_interp(interp), "nothreads.py")
    t = start(interp, "nothreads", args=["-B", "-s", "-S", script])
    doc = dump_json(t)
    assert [th["name"] for th in doc["threads"]] == [None]
    doc = dump_json(t, "--locals")
    f = frame_named(doc, "park")
    assert list(f["locals"]) == ["fd"]


def test_bad_limits(snakescope_bin):
    for opt in ("--max-repr", "--max-items"):
        for bad in ("0", "-1", "x", ""):
            res = helpers.run_snakescope("dump", "--locals", opt, bad, "1")
            assert res.rc == 2, res.describe()


def test_unicode_printable_table():
    """src/py/unicode_printable.c agrees with str.isprintable() of every
    Python 3 interpreter on this machine (tools/gen-unicode-printable)."""
    import subprocess
    tool = os.path.join(str(helpers.REPO), "tools", "gen-unicode-printable")
    r = subprocess.run([tool, "--check"], capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stderr
