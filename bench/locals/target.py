# Benchmark target for bench/locals/run.py.  Runs on Python 2.7 and 3.6+.
#
#   python target.py THREADS DEPTH READY_FD PARK_FD
#
# Every one of THREADS threads (the main thread included) parks with DEPTH
# frames of `deep` on its stack, each frame holding exactly 10 locals (the
# argument n and nine others: int, str, float, list, dict, tuple, None, bool
# and an instance), all distinct objects per frame, blocked in
# os.read(PARK_FD).  Workers are started with _thread (thread on 2.7).
#
# PARK_FD is the read end of a pipe only the harness can write: when the
# harness goes away every read returns EOF and the process exits.  When all
# threads are at depth the main thread writes one byte to READY_FD.
import os
import sys

try:
    import _thread
except ImportError:  # 2.7
    import thread as _thread

THREADS = int(sys.argv[1])
DEPTH = int(sys.argv[2])
READY_FD = int(sys.argv[3])
PARK_FD = int(sys.argv[4])
sys.setrecursionlimit(max(1000, DEPTH + 100))

count_lock = _thread.allocate_lock()
all_parked = _thread.allocate_lock()
all_parked.acquire()
state = {"parked": 0}


class Item(object):
    def __init__(self, n):
        self.n = n


def park(is_main):
    if is_main:
        if THREADS > 1:
            all_parked.acquire()
        os.write(READY_FD, b"R")
        os.close(READY_FD)
    else:
        with count_lock:
            state["parked"] += 1
            if state["parked"] == THREADS - 1:
                all_parked.release()
    while True:
        if not os.read(PARK_FD, 1):
            os._exit(0)


def deep(n, is_main):
    count = n * 7
    name = "frame-%d" % n
    ratio = n / 3.0
    items = [n, n + 1, n + 2, n + 3, n + 4]
    table = {"n": n, "name": name, "half": n // 2}
    pair = (n, name)
    nothing = None
    flag = n % 2 == 0
    obj = Item(n)
    if n > 1:
        return deep(n - 1, is_main)
    return park(is_main)


for _ in range(THREADS - 1):
    _thread.start_new_thread(deep, (DEPTH, False))
deep(DEPTH, True)
