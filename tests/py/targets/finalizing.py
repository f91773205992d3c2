# -*- coding: utf-8 -*-
"""Parks while the runtime is finalising: an object in __main__'s globals
whose __del__ (run when the interpreter tears modules down, after the
runtime has been marked as finalising) says "ready" and blocks forever."""
from __future__ import print_function

import os

import sstarget

READY_FD = int(os.environ.get("SNAKESCOPE_READY_FD", "1"))


class Parker(object):
    def __del__(self, os=os, fd=READY_FD, pipe=sstarget._R):
        os.write(fd, b"ready\n")
        os.read(pipe, 1)  # @finalizing


keep = Parker()
# The main thread now runs off the end of the script: finalisation starts.
