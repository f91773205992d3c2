# -*- coding: utf-8 -*-
"""Scenario locals: frames holding locals of every kind snakescope prints
(dump --locals), each compared with the target's own repr().

Threads (each parked in sstarget.park(), called by the frame of interest):
  "kinds"    kinds(): ints, floats, strs, bytes, containers, classes,
             modules, functions, code objects, cells and free variables,
             an unbound local and one deleted with del;
  "big"      big(): a dict of 1000 keys and a list of 10**6 items;
  "named"    started with name="named-at-start";
  "renamed"  renamed to "renamed-later" after it started.
Ground truth (extra): for each frame of interest, [name, repr(value)] in
frame.f_locals order (2.7: in code-object order, since its dicts have
none), and what is only checked not to crash.
"""
from __future__ import print_function

import os
import random
import struct
import sys
import threading

import sstarget

PY2 = sys.version_info[0] == 2
V = sys.version_info[:2]


class Plain(object):
    def method(self):
        return self


class SubList(list):
    pass


class SubDict(dict):
    pass


class SubSet(set):
    pass


class SubFrozen(frozenset):
    pass


class SubStr(str):
    pass


class SubInt(int):
    pass


if PY2:
    class Classic:
        pass

    class SubUnicode(unicode):  # noqa: F821
        pass


def f_locals_items(frame):
    """[name, repr] of the frame's locals in definition order.

    3.11+: frame.f_locals is in that order.  Before, f_locals has no
    useful order (2.7 dicts have none, 3.6 and 3.7 fill it backwards), so
    it comes from the code object: co_varnames, co_cellvars, co_freevars,
    where an argument that is also a cell variable counts as the cell
    (3.x clears the argument's own slot) or keeps its first place (2.7)."""
    loc = dict(frame.f_locals)
    if V >= (3, 11):
        return [[n, repr(v)] for n, v in frame.f_locals.items()]
    code = frame.f_code
    names = list(code.co_varnames)
    if not PY2:
        names = [n for n in names if n not in code.co_cellvars]
    order, seen = [], set()
    for n in names + list(code.co_cellvars) + list(code.co_freevars):
        if n in loc and n not in seen:
            seen.add(n)
            order.append(n)
    return [[n, repr(loc[n])] for n in order]


def text(s):
    """A 2.7 str (bytes) as text for JSON."""
    if PY2 and isinstance(s, str):
        return s.decode("latin-1")
    return s


def record(name, frame, extra=None):
    items = [[text(n), text(r)] for n, r in f_locals_items(frame)]
    truth = sstarget._extra.setdefault("frames", {})
    truth[name] = {"locals": items, "function": frame.f_code.co_name}
    if extra:
        truth[name].update(extra)


def random_floats(n):
    """n doubles of random bit patterns (no nan or inf), the same each run."""
    rng = random.Random(1234)
    out = []
    while len(out) < n:
        v = struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0]
        if v == v and v not in (float("inf"), float("-inf")):
            out.append(v)
    return tuple(out)


def make_kinds(outer_free):
    def kinds(pos, default=2, *args, **kwargs):
        # ints (2.7: int and long)
        i_zero, i_one, i_neg = 0, 1, -1
        i_30 = 2 ** 30
        i_62, i_63, i_64 = 2 ** 62, 2 ** 63, 2 ** 64
        i_big = 2 ** 100
        i_bigneg = -10 ** 40
        i_huge = 7 ** 300
        i_sub = SubInt(42)
        if PY2:
            i_long_small = long(5)  # noqa: F821
            i_maxint = sys.maxint + 1
        b_true, b_false = True, False
        nothing, ell, notimpl = None, Ellipsis, NotImplemented
        # floats
        fl = [0.1, 1e16, 1e-05, 0.0001, 1.5, -0.0, 0.0, float("inf"),
              float("-inf"), float("nan"), 1e22, 5e-324, 1.7976931348623157e308,
              123456789.123, 2.5e-07, 0.3, 1.0 / 3, 1234567890123456.0,
              12345678901234567.0, 9007199254740993.0, 2.0 ** -1074 * 3,
              100.0, 1e100, 4.35, 0.000123]
        f_one = 1.0
        fl_random = random_floats(300)
        # strs
        s_empty = ""
        s_ascii = "abc"
        s_squote = "it's"
        s_dquote = 'say "hi"'
        s_both = "both ' and \""
        s_backslash = "back\\slash"
        s_controls = "\t\n\r\x00\x1f\x7f"
        if PY2:
            s_bytes8 = "caf\xc3\xa9 \xff"
            u_ascii = u"abc"
            u_latin1 = u"caf\xe9"
            u_ucs2 = u"\u65e5\u672c\u8a9e \u200b"
            u_ucs4 = u"\U0001f600 \U000e0001"
            u_quote = u"it's"
            u_sub = SubUnicode(u"h\xe9llo")
            s_sub = SubStr("plain")
        else:
            s_latin1 = "café \xa0 \xad"
            s_ucs2 = "日本語 \u200b \u2028 \uffff"
            s_ucs4 = "😀 \U000e0001 \U0010ffff"
            s_surrogate = "\ud800x"
            s_sub = SubStr("héllo")
            s_sub2 = SubStr("日本")
            s_sub4 = SubStr("😀")
        s_long = "x" * 5000
        # bytes
        by_empty = b""
        by = b"abc\x00\xff'"
        by_dq = b'"'
        by_both = b"'\""
        ba = bytearray(b"it's")
        ba_empty = bytearray()
        # containers
        t_empty, t_one, t_mixed = (), (1,), (1, "a", None)
        l_empty, l_nested = [], [1, [2, [3, (4,)]], {"k": [5]}]
        l_rec = [1, 2]
        l_rec.append(l_rec)
        d_empty = {}
        d_small = {"a": 1, "b": [1, 2], 3: "three", (1, 2): None}
        d_rec = {"self": None}
        d_rec["self"] = d_rec
        d_deleted = dict((k, k * 2) for k in range(20))
        for k in range(0, 20, 3):
            del d_deleted[k]
        d_wide = dict(("key%03d" % k, k) for k in range(300))
        p = Plain()
        p.a, p.b, p.c = 1, "x", [2]
        d_split = p.__dict__
        q = Plain()
        q.a, q.b, q.c = 1, 2, 3
        del q.a
        q.a = 4
        d_split2 = q.__dict__
        st_empty, st = set(), set([1, 2, 3])
        st_del = set(range(10))
        st_del.discard(3)
        fs_empty, fs = frozenset(), frozenset([1, "a"])
        st_nested = set([frozenset([1]), (2, 3)])
        sub_list = SubList([1, 2])
        sub_dict = SubDict(a=1)
        sub_set = SubSet([1])
        sub_set_empty = SubSet()
        sub_frozen = SubFrozen([2])
        # everything else
        obj = object()
        plain = p
        cls_plain, cls_int, cls_dict, cls_sub = Plain, int, dict, SubList
        cls_type = type
        mod_os, mod_sys, mod_target = os, sys, sstarget
        fn = make_kinds
        fn_lambda = lambda: None  # noqa: E731
        fn_builtin = len
        bound_builtin = l_empty.append
        bound = p.method
        code = make_kinds.__code__
        if PY2:
            classic_cls, classic_obj = Classic, Classic()

        def closure():
            return pos, i_one, outer_free

        # unbound: deleted, and assigned only after the park
        gone = 1
        del gone
        record("kinds", sys._getframe())
        sstarget.park()  # @kinds
        never = 1
        return never

    return kinds


def big():
    d = dict((i, i) for i in range(1000))
    lst = list(range(10 ** 6))
    # more than 2**16 slots: 4-byte indices in 3.6+
    d4 = dict(("k%d" % i, i) for i in range(70000))
    record("big", sys._getframe(), {
        "d_items": [[repr(k), repr(d[k])] for k in list(d)[:20]],
        "d4_items": [[repr(k), repr(d4[k])] for k in list(d4)[:20]],
        "lst_items": [repr(x) for x in lst[:20]],
        "lst_len": len(lst),
    })
    sstarget.park()  # @big


def idle():
    sstarget.park()


def main():
    kinds = make_kinds("free-value")
    t = threading.Thread(target=kinds, name="kinds",
                         args=("positional", 3, "extra1", "extra2"),
                         kwargs={"kw": "kwvalue"})
    t.daemon = True
    t.start()
    sstarget.start_thread("big", big)
    sstarget.start_thread("named-at-start", idle)
    t = sstarget.start_thread("to-be-renamed", idle)
    t.name = "renamed-later"
    sstarget.add_condition(lambda: len(sstarget._extra.get("frames", {})) == 2)
    sstarget.finish()


sstarget.run_target(main)
