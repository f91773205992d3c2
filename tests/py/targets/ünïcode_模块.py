# -*- coding: utf-8 -*-
"""Python 3 only: non-ASCII identifiers, in a file with a non-ASCII name."""
import sstarget


def 函数_ünïcode():
    sstarget.park()  # @unicode-park


class Ķlasse:
    def méthode_λ(self):
        函数_ünïcode()  # @unicode-method


def entry():
    Ķlasse().méthode_λ()  # @unicode-entry
