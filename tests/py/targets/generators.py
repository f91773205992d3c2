# -*- coding: utf-8 -*-
"""Scenario d: generators (all versions); `yield from`, coroutines, an
async generator and an asyncio task chain (Python 3; see gens3.py and
async3.py, which 2.7 cannot even parse)."""
from __future__ import print_function

import sys

import sstarget


def plain_inner():
    sstarget.park()  # @plain-inner
    yield 1


def plain_outer():
    for x in plain_inner():  # @plain-outer
        yield x


def plain():
    for _ in plain_outer():  # @plain
        pass


def main():
    sstarget.start_thread("generators", plain)
    if sys.version_info[0] >= 3:
        import async3
        import gens3
        sstarget.start_thread("yield-from", gens3.run)
        sstarget.start_thread("asyncio", async3.run)
    sstarget.finish()


sstarget.run_target(main)
