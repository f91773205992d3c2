# -*- coding: utf-8 -*-
"""Scenario e: Python -> C -> Python: parked inside a key function called by
sorted(), a function called by functools.reduce(), and one called by map()."""
from __future__ import print_function

import functools

import sstarget


def key_fn(x):
    sstarget.park()  # @key
    return x


def by_sorted():
    sorted([3, 1, 2], key=key_fn)  # @sorted


def add(a, b):
    sstarget.park_event()  # @reduce-fn
    return a + b


def by_reduce():
    functools.reduce(add, [1, 2, 3])  # @reduce


def double(x):
    sstarget.park()  # @map-fn
    return 2 * x


def by_map():
    list(map(double, [1]))  # @map


def main():
    sstarget.start_thread("sorted-key", by_sorted)
    sstarget.start_thread("reduce", by_reduce)
    sstarget.start_thread("map", by_map)
    sstarget.finish()


sstarget.run_target(main)
