# -*- coding: utf-8 -*-
"""Scenario c: the main thread parks 900 calls deep."""
from __future__ import print_function

import sys

import sstarget

DEPTH = 900
sys.setrecursionlimit(DEPTH + 1000)


def recurse(n):
    if n > 1:
        return recurse(n - 1)  # @recurse
    sstarget.finish()  # @deepest


def main():
    recurse(DEPTH)


sstarget.run_target(main)
