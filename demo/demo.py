"""A small Python service for trying snakescope on: a few named worker
threads parked at different depths, one thread burning CPU, and the main
thread waiting.  Writes "ready" to the file descriptor named by
SNAKESCOPE_READY_FD (if any) once every thread is in place."""
from __future__ import print_function

import os
import sys
import threading

ready = threading.Semaphore(0)
stop = threading.Event()


class Cache(object):
    def refresh(self, depth):
        if depth:
            return self.refresh(depth - 1)
        ready.release()
        stop.wait()


def handle_request(n):
    Cache().refresh(n)


def crunch():
    ready.release()
    x = 0
    while not stop.is_set():
        x = (x * 31 + 7) % 1000003


def main():
    workers = [threading.Thread(target=handle_request, args=(i,),
                                name="worker-%d" % i) for i in range(3)]
    workers.append(threading.Thread(target=crunch, name="cruncher"))
    for t in workers:
        t.daemon = True
        t.start()
    for _ in workers:
        ready.acquire()
    print("demo running as pid %d; try: snakescope dump %d" %
          (os.getpid(), os.getpid()), file=sys.stderr)
    fd = os.environ.get("SNAKESCOPE_READY_FD")
    if fd:
        os.write(int(fd), b"ready\n")
        os.close(int(fd))
    stop.wait()


if __name__ == "__main__":
    main()
