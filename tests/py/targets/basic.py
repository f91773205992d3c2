# -*- coding: utf-8 -*-
"""Scenario a: a known stack in the main thread (a few nested calls)."""
from __future__ import print_function

import sstarget


def level_three():
    sstarget.finish()  # @three


def level_two():
    level_three()  # @two


def level_one():
    level_two()  # @one


def main():
    level_one()


sstarget.run_target(main)
