# -*- coding: utf-8 -*-
"""The thread-heavy programs of bench/run.

    target.py pool  [THREADS] [ITEMS]  THREADS long-lived workers take ITEMS
                                       small jobs from a queue (locks,
                                       condition variables, GIL hand-offs:
                                       futexes, never a ptrace stop)
    target.py churn [ROUNDS] [THREADS] ROUNDS rounds each starting THREADS
                                       short threads: every thread start is a
                                       clone event the supervisor handles
"""
import sys
import threading

try:
    import queue
except ImportError:
    import Queue as queue


def job(n):
    s = 0
    for k in range(n):
        s += k * k
    return s


def pool(threads, items):
    q, out = queue.Queue(), queue.Queue()

    def worker():
        while True:
            n = q.get()
            if n is None:
                return
            out.put(job(n))

    ts = [threading.Thread(target=worker) for _ in range(threads)]
    for t in ts:
        t.start()
    for i in range(items):
        q.put(200 + i % 50)
    for _ in ts:
        q.put(None)
    for t in ts:
        t.join()
    return sum(out.get() for _ in range(items))


def churn(rounds, threads):
    total = 0
    for _ in range(rounds):
        res = [0] * threads

        def run(i):
            res[i] = job(2000)

        ts = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        total += sum(res)
    return total


def main():
    mode = sys.argv[1]
    a = [int(x) for x in sys.argv[2:]]
    if mode == "pool":
        print(pool(*(a or [32, 20000])))
    else:
        print(churn(*(a or [200, 16])))


main()
