# Benchmark target for bench/dump/run.py.  Runs on Python 3.6+.
#
#   python target.py THREADS DEPTH READY_FD PARK_FD [STALL_FILE]
#
# Every one of THREADS threads (the main thread included) parks with exactly
# DEPTH Python frames on its stack, blocked in os.read(PARK_FD) -- a C call,
# so no extra Python frame.  Workers are started with _thread so that no
# threading.py bootstrap frames are added:
#   worker:  deep x DEPTH
#   main:    <module> + deep x (DEPTH - 1)
# so a correct dump shows THREADS * DEPTH - 1 frames of `deep`.
#
# PARK_FD is the read end of a pipe whose write end only the harness holds:
# nothing is ever written to it, so every thread stays in read(2) until the
# harness closes it or dies, and then every read returns EOF and the process
# exits.  This is the target's lifeline: it cannot outlive the harness.
#
# When all workers have reached their depth, the main thread writes one byte
# to READY_FD and closes it, then parks too.  The harness then checks
# /proc/PID/task/*/syscall until every thread really is inside read(PARK_FD).
#
# With STALL_FILE, one extra thread (not parked, not counted in THREADS)
# spins reading a monotonic clock and records the largest gap between two
# consecutive iterations into STALL_FILE (a 24-byte file mmap'd by both
# sides, three little-endian u64: [0:8] largest gap in ns since the last
# reset, written by the target; [8:16] reset counter, bumped by the harness;
# [16:24] the last reset counter value the target has seen, so the harness
# knows the reset took effect).  It is started after the other threads are
# parked, just before the ready byte.  A tool that stops the target shows up as a gap
# about as long as the stop.  See bench/README.md.
import os
import struct
import sys

import _thread

THREADS = int(sys.argv[1])
DEPTH = int(sys.argv[2])
READY_FD = int(sys.argv[3])
PARK_FD = int(sys.argv[4])
STALL_FILE = sys.argv[5] if len(sys.argv) > 5 else None

if THREADS < 1 or DEPTH < 2:
    sys.exit("target.py: need THREADS >= 1 and DEPTH >= 2")
sys.setrecursionlimit(max(1000, DEPTH + 100))

count_lock = _thread.allocate_lock()
all_parked = _thread.allocate_lock()
all_parked.acquire()
state = {"parked": 0}


def deep(n, is_main):
    # Exactly one Python frame per level, and the blocking call is made from
    # the last one: the thread's stack is exactly n frames of `deep` (plus
    # <module> below for the main thread).
    if n > 1:
        return deep(n - 1, is_main)
    if is_main:
        if THREADS > 1:
            all_parked.acquire()
        if STALL_FILE:
            _thread.start_new_thread(ticker, (STALL_FILE,))
        os.write(READY_FD, b"R")
        os.close(READY_FD)
    else:
        with count_lock:
            state["parked"] += 1
            if state["parked"] == THREADS - 1:
                all_parked.release()
    while True:
        if not os.read(PARK_FD, 1):  # EOF: the harness is gone
            os._exit(0)


def ticker(path):
    import mmap
    import time
    clock = getattr(time, "perf_counter_ns", None)
    if clock is None:
        def clock():
            return int(time.perf_counter() * 1e9)
    fd = os.open(path, os.O_RDWR)
    mm = mmap.mmap(fd, 24)
    os.close(fd)
    pack, unpack_from = struct.pack, struct.unpack_from
    seen_reset = unpack_from("<Q", mm, 8)[0]
    mm[16:24] = pack("<Q", seen_reset)
    worst = 0
    last = clock()
    while True:
        now = clock()
        gap = now - last
        last = now
        reset = unpack_from("<Q", mm, 8)[0]
        if reset != seen_reset:
            seen_reset = reset
            worst = 0
            mm[0:8] = pack("<Q", 0)
            mm[16:24] = pack("<Q", reset)
        elif gap > worst:
            worst = gap
            mm[0:8] = pack("<Q", worst)


for _ in range(THREADS - 1):
    _thread.start_new_thread(deep, (DEPTH, False))
deep(DEPTH - 1, True)
