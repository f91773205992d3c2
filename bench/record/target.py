"""Targets of bench/record/run.py (Python 2.7 and 3.x).

    target.py busy DEPTH           one thread spinning DEPTH frames deep
    target.py threads N DEPTH      N threads spinning DEPTH frames deep
    target.py work SECONDS_HINT    a fixed pure-Python workload; prints its
                                   own elapsed wall and CPU time, then exits
    target.py stacks K             cycles through K distinct stacks, forever

"ready" is written to the fd in BENCH_READY_FD once the stacks are in
place.  Targets that run forever exit when fd BENCH_LIFELINE_FD (whose
write end only the harness holds) reports EOF.
"""
import os
import sys
import threading
import time


def ready():
    fd = os.environ.get("BENCH_READY_FD")
    if fd:
        os.write(int(fd), b"ready\n")
        os.close(int(fd))


def watch_lifeline():
    fd = os.environ.get("BENCH_LIFELINE_FD")
    if not fd:
        return

    def wait():
        os.read(int(fd), 1)
        os._exit(0)
    t = threading.Thread(target=wait)
    t.daemon = True
    t.start()


def spin():
    x = 0
    while True:
        x = (x * 7 + 3) % 1000003


def deep(n, at_depth):
    if n <= 1:
        at_depth()
        return
    deep(n - 1, at_depth)


def busy(depth):
    watch_lifeline()

    def go():
        ready()
        spin()
    deep(depth - 1, go)  # <module> is one more frame


def threads(n, depth):
    watch_lifeline()
    started = []
    lock = threading.Lock()

    def go():
        with lock:
            started.append(1)
            if len(started) == n:
                ready()
        spin()
    for _ in range(n):
        t = threading.Thread(target=deep, args=(depth, go))
        t.daemon = True
        t.start()
    while True:
        time.sleep(3600)


def work(seconds_hint):
    n = int(2000000 * float(seconds_hint))
    t0, c0 = time.time(), time.process_time() if hasattr(time, "process_time") else time.clock()
    x = 0
    for i in range(n):
        x = (x * 7 + i) % 1000003
    t1 = time.time()
    c1 = time.process_time() if hasattr(time, "process_time") else time.clock()
    print("elapsed %.6f cpu %.6f" % (t1 - t0, c1 - c0))


def stacks(k):
    """K distinct stacks: <module> -> stacks -> f_i -> g_j for i, j < sqrt(K)."""
    watch_lifeline()
    side = int(round(k ** 0.5))
    ns = {}
    src = []
    for j in range(side):
        src.append("def g%d():\n    x = 0\n    for i in range(200):\n        x += i\n" % j)
    for i in range(side):
        src.append("def f%d(g):\n    g()\n" % i)
    exec("\n".join(src), ns)
    fs = [ns["f%d" % i] for i in range(side)]
    gs = [ns["g%d" % j] for j in range(side)]
    ready()
    while True:
        for f in fs:
            for g in gs:
                f(g)


if __name__ == "__main__":
    what = sys.argv[1]
    if what == "busy":
        busy(int(sys.argv[2]))
    elif what == "threads":
        threads(int(sys.argv[2]), int(sys.argv[3]))
    elif what == "work":
        work(sys.argv[2])
    elif what == "stacks":
        stacks(int(sys.argv[2]))
