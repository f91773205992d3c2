#!/usr/bin/env python3
"""`snakescope maps` latency on a process with ~300 mapped shared objects.

    python3 bench/maps/run.py [--runs N] [--objects N] [--python EXE]
                              [--snakescope PATH]

Starts one target (target.py) that imports a large part of the standard
library and then as many copies of a tiny generated extension module as it
takes to have --objects (default 300) files mapped, then times, interleaved
run by run, `snakescope maps PID` (the application's objects: the
extension modules and libpython), `maps --all PID` (every mapped file,
system libraries included) and `maps --json --all PID`, each --runs times
(default 25), wall clock including process start and output through a
pipe.  Prints a markdown table of medians (goal: under 200 ms) with min and
max.  Needs gcc and the interpreter's headers; run as root or as the user
the target runs as.  See bench/README.md.
"""
import argparse
import glob
import json
import os
import platform
import resource
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
GOAL_MS = 200.0


def default_python():
    pyenv = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.12.*/bin/python3.12")))
    for exe in pyenv + ["/usr/bin/python3.11", shutil.which("python3") or ""]:
        if exe and os.access(exe, os.X_OK):
            return exe
    sys.exit("no Python 3 found: pass --python")


def ext_source(n):
    """C source of one .so defining bench_000 .. bench_<n-1>."""
    mods = "\n".join("MODULE(bench_%03d)" % i for i in range(n))
    return """#include <Python.h>
static PyObject *ping(PyObject *s, PyObject *a) { (void)s; (void)a; Py_RETURN_NONE; }
#define MODULE(name) \\
  static PyMethodDef name##_m[] = { { "ping", ping, METH_NOARGS, "ping" }, { 0 } }; \\
  static struct PyModuleDef name##_d = { PyModuleDef_HEAD_INIT, #name, 0, -1, name##_m }; \\
  PyMODINIT_FUNC PyInit_##name(void); \\
  PyMODINIT_FUNC PyInit_##name(void) { return PyModule_Create(&name##_d); }
%s
""" % mods


def build(python, tmp, n):
    inc = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['include'])"],
                         capture_output=True, text=True, check=True).stdout.strip()
    src = os.path.join(tmp, "bench.c")
    with open(src, "w") as f:
        f.write(ext_source(n))
    so = os.path.join(tmp, "bench.so")
    subprocess.run(["gcc", "-shared", "-fPIC", "-O1", "-I", inc, src, "-o", so], check=True)
    extdir = os.path.join(tmp, "ext")
    os.makedirs(extdir)
    for i in range(n):  # one file (one inode, one mapping) per module
        shutil.copyfile(so, os.path.join(extdir, "bench_%03d.so" % i))
    return extdir


def start_target(python, extdir, want):
    r, w = os.pipe()
    env = dict(os.environ, BENCH_READY_FD=str(w))
    p = subprocess.Popen([python, "-s", "-B", os.path.join(HERE, "target.py"), extdir, str(want)],
                         stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, pass_fds=(w,), env=env)
    os.close(w)
    buf = b""
    deadline = time.monotonic() + 120
    while b"\n" not in buf:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([r], [], [], left)[0]:
            p.kill()
            sys.exit("target did not get ready within 120 s")
        chunk = os.read(r, 4096)
        if not chunk:
            sys.exit("target exited (status %s)" % p.wait())
        buf += chunk
    os.close(r)
    _, mapped, copies = buf.decode().split()
    return p, int(mapped), int(copies)


def cpu_children():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def time_one(cmd, cpu=None):
    """Run CMD: (wall ms, its stdout); its CPU ms (user + system, which
    other load on the machine does not inflate) is appended to CPU."""
    c0 = cpu_children()
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True)
    ms = (time.perf_counter() - t0) * 1000
    if cpu is not None:
        cpu.append((cpu_children() - c0) * 1000)
    if p.returncode != 0:
        sys.exit("%s failed (status %d): %s" % (" ".join(cmd), p.returncode,
                                              p.stderr.decode()[-500:]))
    return ms, p.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=25)
    ap.add_argument("--objects", type=int, default=300)
    ap.add_argument("--python", default=None)
    ap.add_argument("--snakescope", default=os.path.join(REPO, "build", "snakescope"))
    a = ap.parse_args()
    if a.runs < 20:
        sys.exit("--runs must be at least 20 (the README reports medians of >= 20)")
    python = a.python or default_python()
    tmp = tempfile.mkdtemp(prefix="ssbench-maps-")
    target = None
    try:
        extdir = build(python, tmp, a.objects)
        target, mapped, copies = start_target(python, extdir, a.objects)
        pid = str(target.pid)
        cmds = [("maps", [a.snakescope, "maps", pid]),
                ("maps --all", [a.snakescope, "maps", "--all", pid]),
                ("maps --json --all", [a.snakescope, "maps", "--json", "--all", pid])]
        for _, cmd in cmds:  # warm up
            time_one(cmd)
        doc = json.loads(time_one(cmds[2][1])[1])
        listed = {"maps": time_one(cmds[0][1])[1].decode().split("\n")[0],
                  "all": len(doc["objects"]),
                  "slots": sum((o["relocations"] or {}).get("checked", 0) for o in doc["objects"])}
        times = {label: [] for label, _ in cmds}
        cpu = {label: [] for label, _ in cmds}
        for _ in range(a.runs):
            for label, cmd in cmds:
                times[label].append(time_one(cmd, cpu[label])[0])
        print("### bench/maps: %s, %s, %d runs each" % (
            subprocess.run([python, "-VV"], capture_output=True, text=True).stdout.strip()
            .replace("\n", " "), platform.node(), a.runs))
        print()
        print("Target: %d mapped files (%d ELF objects listed by --all, %d relocation slots "
              "checked), %d generated extension copies on top of the stdlib imports; "
              "default listing: %s" % (mapped, listed["all"], listed["slots"], copies,
                                       listed["maps"]))
        print()
        print("Load average at the end: %s" % " ".join(open("/proc/loadavg").read().split()[:3]))
        print()
        print("| command | median ms | min | max | CPU ms (median) | goal < %.0f ms |" % GOAL_MS)
        print("|---|---:|---:|---:|---:|---|")
        for label, _ in cmds:
            v = times[label]
            med = statistics.median(v)
            print("| `%s` | %.1f | %.1f | %.1f | %.1f | %s |" % (
                label, med, min(v), max(v), statistics.median(cpu[label]),
                "yes" if med < GOAL_MS else "NO"))
    finally:
        if target:
            target.kill()
            target.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
