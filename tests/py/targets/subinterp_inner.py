# -*- coding: utf-8 -*-
"""Runs inside the subinterpreter of subinterp.py: records the stack this
thread will have once parked, writes it, parks."""
import sstarget


def main(path, iid):
    frames = sstarget.stack_here("sub-park", park_with=sstarget.park)
    rec = {"ident": sstarget.get_ident(), "native_id": sstarget.native_id(),
           "role": "parked", "name": None, "interpreter": iid,
           "frames": frames, "blocked_in": "read"}
    sstarget.write_json(path, {"threads": [rec]})
    sstarget.park()  # @sub-park
