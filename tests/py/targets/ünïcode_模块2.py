# -*- coding: utf-8 -*-
"""Python 2.7: ASCII identifiers in a file with a non-ASCII name."""
import sstarget


def ascii_function():
    sstarget.park()  # @unicode-park


class Klass(object):
    def method(self):
        ascii_function()  # @unicode-method


def entry():
    Klass().method()  # @unicode-entry
