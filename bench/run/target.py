# -*- coding: utf-8 -*-
"""The thread-heavy program of bench/run: ROUNDS rounds, each starting
THREADS threads that do a little Python work and exit, so the supervisor
sees a clone event and a thread exit for every thread.

    target.py [ROUNDS] [THREADS] [WORK]
"""
import sys
import threading


def work(n, out, i):
    s = 0
    for k in range(n):
        s += k * k
    out[i] = s


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 16
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
    total = 0
    for _ in range(rounds):
        out = [0] * threads
        ts = [threading.Thread(target=work, args=(n, out, i)) for i in range(threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        total += sum(out)
    print(total)


main()
