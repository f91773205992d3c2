# -*- coding: utf-8 -*-
"""Programs that crash, for `snakescope run` (tests/py/test_run.py).

    crashes.py SCENARIO

prints "start SCENARIO" (and what the scenario says it does), then crashes
as the scenario says.  The C extension crashext is built next to this file
by the test.  Not a parked sstarget: the ground truth is the program text.
"""
from __future__ import print_function

import ctypes
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import crashext  # noqa: E402


def depth4(n):
    x = n * 2
    ctypes.string_at(0)  # NULL dereference inside ctypes (libc strlen)
    return x


def depth3(n):
    return depth4(n + 1)


def depth2(n):
    return depth3(n + 1)


def depth1():
    return depth2(1)


def call_abort():
    crashext.abort()


def call_div_zero():
    crashext.div_zero()


def crasher():
    crashext.null_deref()


def in_thread():
    t = threading.Thread(target=crasher, name="crasher")
    t.start()
    t.join()


def child():
    crashext.null_deref()


def in_child():
    import multiprocessing
    ctx = multiprocessing.get_context("fork") if hasattr(multiprocessing, "get_context") \
        else multiprocessing
    p = ctx.Process(target=child)
    p.start()
    p.join()
    print("child exit code", p.exitcode)
    sys.stdout.flush()


def callback():
    crashext.null_deref()


def outer():
    crashext.call(callback)


SCENARIOS = {
    "ctypes": depth1,
    "abort": call_abort,
    "fpe": call_div_zero,
    "thread": in_thread,
    "child": in_child,
    "callback": outer,
}

if __name__ == "__main__":
    print("start", sys.argv[1])
    sys.stdout.flush()
    SCENARIOS[sys.argv[1]]()
    print("not reached")
