# -*- coding: utf-8 -*-
"""Scenario g: non-ASCII function, class and method names (Python 3 only)
defined in a module whose file name is not ASCII (ünïcode_模块.py).  Python
2.7 has no non-ASCII identifiers: it loads ünïcode_模块2.py, a module with
ASCII names under a non-ASCII file name."""
from __future__ import print_function

import os
import sys

import sstarget

HERE = os.path.dirname(os.path.abspath(__file__))


def load():
    if sys.version_info[0] >= 3:
        import importlib
        return importlib.import_module(u"ünïcode_模块")
    import imp
    path = os.path.join(HERE, u"ünïcode_模块2.py".encode("utf-8"))
    return imp.load_source("unicode_module2", path)


def main():
    mod = load()
    name = u"ünïcode-thread-线程"
    if sys.version_info[0] == 2:
        name = name.encode("utf-8")
    sstarget.start_thread(name, mod.entry)
    sstarget.finish()


sstarget.run_target(main)
