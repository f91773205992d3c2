# Record target: two hot functions taking a known share of CPU time.
# hot_a runs while the process's CPU clock advances 3 units, then hot_b 1
# unit, over and over: a 75% / 25% split of CPU, whatever the machine's
# load.  The unit is drawn at random (0.5-1.5 ms) for every cycle: with a
# fixed cycle, one in step with the scheduler tick (4 ms at HZ=250) would
# be preempted at the same phase every time, and on a loaded machine the
# samples taken at preemption points would all see the same function.
# Usage: hotsplit.py [SECONDS] (default: until killed); says "ready" on
# the suite's SNAKESCOPE_READY_FD when it has one.
import os
import random
import sys
import threading  # noqa: F401 (gives --threads a thread name)
import time

try:
    clock = time.process_time
except AttributeError:  # 2.7
    clock = time.clock


def hot_a(until):
    n = 0
    while clock() < until:
        n += 1
    return n


def hot_b(until):
    n = 0
    while clock() < until:
        n += 1
    return n


def main(seconds):
    fd = os.environ.get("SNAKESCOPE_READY_FD")
    if fd:
        os.write(int(fd), b"ready\n")
        os.close(int(fd))
    end = time.time() + seconds if seconds > 0 else None
    while end is None or time.time() < end:
        unit = random.uniform(0.0005, 0.0015)
        t = clock()
        hot_a(t + 3 * unit)
        hot_b(t + 4 * unit)


seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 0
main(seconds)
