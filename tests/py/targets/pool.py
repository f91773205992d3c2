# Record target for --subprocesses: a multiprocessing pool whose workers
# spend their time in pool_work.  Runs for SECONDS (argv[1], default 3).
import multiprocessing
import sys
import time


def pool_work(seconds):
    end = time.time() + seconds
    n = 0
    while time.time() < end:
        n += 1
    return n


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 3.0
    pool = multiprocessing.Pool(2)
    try:
        pool.map(pool_work, [seconds / 2.0] * 4)
    finally:
        pool.close()
        pool.join()


if __name__ == "__main__":
    main()
