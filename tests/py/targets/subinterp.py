# -*- coding: utf-8 -*-
"""Scenario h (3.12+): a thread runs code in a subinterpreter, which parks
there.  That thread has a stack in each interpreter under one ident, so it
records both itself (sstarget.stack_here): in the main interpreter it sits
in the run_string() call, in the subinterpreter in subinterp_inner.main()."""
from __future__ import print_function

import json
import os
import sys
import tempfile

import sstarget

HERE = os.path.dirname(os.path.abspath(__file__))

CODE = """\
import sys
sys.path.insert(0, %r)
import subinterp_inner
subinterp_inner.main(%r, %d)
"""


def interpreters_module():
    for name in ("_interpreters", "_xxsubinterpreters"):
        try:
            return __import__(name)
        except ImportError:
            pass
    return None


def host(mod, code, sub_truth):
    # This thread creates the interpreter too: CPython 3.12's run_string()
    # runs the code on the interpreter's first thread state, which records
    # the ident and tid of the thread that created the interpreter.
    handle = mod.create()  # on 3.12 the interpreter lives as long as this object
    iid = int(handle)
    sstarget.set_extra("subinterpreter", iid)
    sstarget.self_record(sstarget.stack_here("run-string"), None, 0)
    mod.run_string(handle, code % (HERE, sub_truth, iid))  # @run-string


def main():
    if sys.version_info < (3, 12):
        sstarget.skip("subinterpreters with their own threads need Python 3.12+")
    mod = interpreters_module()
    if mod is None:
        sstarget.skip("no _interpreters or _xxsubinterpreters module")
    truth = os.environ.get("SNAKESCOPE_TRUTH") or os.path.join(tempfile.gettempdir(), "subtruth")
    sub_truth = truth + ".sub.json"
    if os.path.exists(sub_truth):
        os.unlink(sub_truth)

    def sub_written():
        return os.path.exists(sub_truth)

    def sub_records():
        with open(sub_truth) as f:
            return json.load(f)["threads"]

    sstarget.add_condition(sub_written)
    sstarget.add_foreign_records(sub_records)
    sstarget.start_thread("subinterp-host", host, mod, CODE, sub_truth)
    sstarget.finish()


sstarget.run_target(main)
