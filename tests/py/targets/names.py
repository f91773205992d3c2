# -*- coding: utf-8 -*-
"""Scenario f: methods, a nested class, a property, classmethod,
staticmethod, nested functions, a lambda and dunder methods called from C
(qualnames on 3.11+)."""
from __future__ import print_function

import sstarget


class Outer(object):
    class Inner(object):
        def method(self):
            return Outer.cm()  # @inner-method

    @classmethod
    def cm(cls):
        return cls.sm()  # @cm

    @staticmethod
    def sm():
        def nested():
            f = lambda: sstarget.park()  # @lambda
            f()  # @nested
        nested()  # @sm

    @property
    def prop(self):
        return Outer.Inner().method()  # @prop


def methods():
    Outer().prop  # @methods


class Made(object):
    def __init__(self):
        sstarget.park_event()  # @init


class Indexed(object):
    def __getitem__(self, i):
        return Made()  # @getitem


class Called(object):
    def __call__(self):
        return Indexed()[0]  # @call


def dunders():
    Called()()  # @dunders


def main():
    sstarget.start_thread("methods", methods)
    sstarget.start_thread("dunders", dunders)
    sstarget.finish()


sstarget.run_target(main)
