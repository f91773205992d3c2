# -*- coding: utf-8 -*-
"""dump --native: Python and C frames interleaved.

The main thread runs the issue's chain from module level:
    <module> -> outer() -> C ext_call(cb) -> C ext_inner -> cb()
             -> C ext_block(fd), blocked in read(2) without the GIL.
Twenty more threads ("state-N") each park in a different state: their own
depth of Python frames, then one of: park() (read), park_event() (futex),
a key function called by sorted() (C calling Python), the extension chain
down to park(), or ext_block() directly (blocked inside C).
The extension (tests/py/ext/ssnative.c) is built by the test for this
interpreter; $SNAKESCOPE_NATIVE_EXT names it."""
from __future__ import print_function

import os
import sys
import threading

import sstarget

MODES = ("read", "event", "sorted", "chain", "block")
NTHREADS = 20


def load_ext(path):
    if sstarget.PY2:
        import imp
        return imp.load_dynamic("ssnative", path)
    import importlib.machinery
    import importlib.util
    loader = importlib.machinery.ExtensionFileLoader("ssnative", path)
    spec = importlib.util.spec_from_file_location("ssnative", path, loader=loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


EXT_PATH = os.environ.get("SNAKESCOPE_NATIVE_EXT")
if not EXT_PATH:
    sstarget.skip("no extension built ($SNAKESCOPE_NATIVE_EXT unset)")
ext = load_ext(EXT_PATH)


def cb():
    sstarget.self_record(sstarget.stack_here("block"), "read")
    ext.ext_block(sstarget._R)  # @block


def outer():
    ext.ext_call(cb)  # @ext-call


# ---- the twenty threads


def key_fn(x):
    sstarget.park()  # @key
    return x


def chain_cb():
    sstarget.park()  # @chain-park


def block_here():
    sstarget.self_record(sstarget.stack_here("state-block"), "read")
    ext.ext_block(sstarget._R)  # @state-block


def bottom(mode):
    if mode == "read":
        sstarget.park()  # @state-read
    elif mode == "event":
        sstarget.park_event()  # @state-event
    elif mode == "sorted":
        sorted([2, 1], key=key_fn)  # @state-sorted
    elif mode == "chain":
        ext.ext_call(chain_cb)  # @state-chain
    else:
        block_here()  # @state-blockcall


def nest(depth, mode):
    if depth > 0:
        return nest(depth - 1, mode)  # @nest
    bottom(mode)  # @bottom


def state_thread(i):
    nest(i // len(MODES), MODES[i % len(MODES)])  # @state


def setup():
    for i in range(NTHREADS):
        sstarget.start_thread("state-%d" % i, state_thread, i)
    sstarget.register()
    w = threading.Thread(target=sstarget._writer, args=(20,),
                         name="snakescope-truth-writer")
    w.daemon = True
    w.start()


sstarget.run_target(setup)
outer()  # @outer-call
