# -*- coding: utf-8 -*-
"""Exits shortly after saying "ready": a few threads deep in calls, then the
process goes away (os._exit or a normal exit) after a random short delay,
so a dump catches it at a different point each time."""
from __future__ import print_function

import os
import random
import sys
import time

import sstarget


def descend(n):
    if n > 1:
        return descend(n - 1)
    sstarget.park()


def main():
    for i in range(8):
        sstarget.start_thread("deep-%d" % i, descend, 50)
    sstarget.signal("ready")
    deadline = time.time() + random.uniform(0, 0.03)
    while time.time() < deadline:
        pass
    if random.random() < 0.5:
        os._exit(0)
    sys.exit(0)


main()
