# Record target: code objects freed and replaced, most likely at the same
# address.  Every PERIOD seconds a new function f_N (a new name
# in a new code object, compiled from source) becomes the hot one and the
# previous one is dropped, so a profiler that caches code objects by
# address without checking them again shows an old name for a new
# function.  Usage: codechurn.py [SECONDS] (default: until killed); says
# "ready" on the suite's SNAKESCOPE_READY_FD when it has one.
import os
import sys
import time

PERIOD = 0.25
SRC = """
def f_%d(until):
    n = 0
    while time() < until:
        n += 1
    return n
"""


def main(seconds):
    fd = os.environ.get("SNAKESCOPE_READY_FD")
    if fd:
        os.write(int(fd), b"ready\n")
        os.close(int(fd))
    end = time.time() + seconds
    i = 0
    while time.time() < end:
        ns = {"time": time.time}
        exec(compile(SRC % i, "churn_%d.py" % i, "exec"), ns)
        ns["f_%d" % i](time.time() + PERIOD)
        ns.clear()  # the function and its globals form a cycle: break it
        i += 1


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 1e9)
