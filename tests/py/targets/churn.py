# -*- coding: utf-8 -*-
"""Threads whose stacks never stand still: each recurses to a random depth
and unwinds again in a tight loop, so a --nonblocking dump reads frames
that are being pushed and popped under it (torn reads)."""
from __future__ import print_function

import random

import sstarget


def churn(depth):
    if depth:
        return churn(depth - 1) + 1
    return 0


def loop(seed):
    rnd = random.Random(seed)
    while True:
        churn(rnd.randint(1, 200))


def main():
    for i in range(4):
        sstarget.start_thread("churn-%d" % i, loop, i)
    sstarget.signal("ready")
    sstarget.park()  # @main


main()
