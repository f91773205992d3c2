# -*- coding: utf-8 -*-
"""A large target: 100 threads, each parked 100 calls deep, and a spinner."""
from __future__ import print_function

import sys

import sstarget

sys.setrecursionlimit(2000)


def descend(n):
    if n > 1:
        return descend(n - 1)  # @descend
    sstarget.park()  # @bottom


def spin():
    sstarget.register("spinner")
    n = 0
    while True:  # @spin
        n += 1  # @spin


def main():
    sstarget.set_extra("spin_lines", sstarget.tagged_lines(__file__, "spin"))
    for i in range(100):
        sstarget.start_thread("deep-%03d" % i, descend, 100)
    sstarget.start_thread("spinner", spin)
    sstarget.finish(timeout=60)


sstarget.run_target(main)
