# -*- coding: utf-8 -*-
"""Python 3 only: a `yield from` chain driven by list() (Python -> C -> generators)."""
import sstarget


def inner():
    sstarget.park()  # @gen-inner
    yield 1


def middle():
    yield from inner()  # @gen-middle


def outer():
    value = yield from middle()  # @gen-outer
    return value


def run():
    list(outer())  # @gen-run
