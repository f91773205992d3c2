"""`snakescope dump --core` and `info --core`: cores taken with gdb's gcore
of the parked targets (every interpreter, scenarios basic and threads)
compared to the same ground truth as the live dump; a core the kernel
writes when a Python process crashes; compressed cores; bad input."""
import os
import random
import shutil
import signal
import struct
import subprocess
import sys

import pytest

import helpers
from helpers import index_threads, truth_key
from test_dump import check_frames, check_python_block, label, load_json, records

# The same scenarios as the live dump, against the same ground truth.
CORE_SCENARIOS = tuple(helpers.SCENARIOS)
GCORE = shutil.which("gcore")
NT_FILE = 0x46494C45

_cores = {}


def ss(*args, **kw):
    return helpers.run_snakescope(*args, **kw)


def fail1(res, *words):
    """Exit 1 with one clear line naming WORDS, never a crash or a hang."""
    assert not res.timed_out and not res.crashed, res.describe()
    assert res.rc == 1, res.describe()
    lines = [ln for ln in res.err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("snakescope: "), res.describe()
    for w in words:
        assert w in lines[0], "%r not in the message:\n%s" % (w, res.describe())
    return lines[0]


def take_gcore(pid, path, root="/"):
    """gcore of pid into path.  A target in a chroot is cored by the
    chroot's own gdb (sid's gdb 18 reads stacks that sid's glibc guards
    with MADV_GUARD_INSTALL; bookworm's gdb 13 writes them as zeros), with
    /proc mounted in a private mount namespace so nothing leaks."""
    if root != "/":
        if not os.path.exists(os.path.join(root, "usr/bin/gcore")):
            pytest.skip("the chroot %s has no gdb (gcore): bash tests/setup.sh" % root)
        name = "snakescope-gcore-%d" % pid
        script = ('mount -t proc proc "$1/proc" && exec chroot "$1" gcore -o "/tmp/$2" "$3"')
        cmd = ["unshare", "-m", "sh", "-c", script, "sh", root, name, str(pid)]
        got = os.path.join(root, "tmp", "%s.%d" % (name, pid))
    else:
        if not GCORE:
            pytest.skip("gdb's gcore not installed (apt package gdb): bash tests/setup.sh")
        cmd = [GCORE, "-o", path, str(pid)]
        # gcore appends .PID to the name
        got = "%s.%d" % (path, pid)
    p = subprocess.run(cmd, capture_output=True, timeout=120)
    assert p.returncode == 0 and os.path.exists(got), \
        "gcore failed: %s" % p.stderr.decode("utf-8", "replace")[-2000:]
    shutil.move(got, path)
    return path


def sysroot_args(interp):
    return ("--sysroot", interp.root) if interp.root != "/" else ()


@pytest.fixture(scope="session")
def coredir(tmp_path_factory):
    d = tmp_path_factory.mktemp("cores")
    yield d
    shutil.rmtree(str(d), ignore_errors=True)


@pytest.fixture
def core(target, coredir):
    """A gcore of the parked target, once per target."""
    key = (target.interp.id, target.scenario, target.pid)
    if key not in _cores:
        _cores.clear()  # one target at a time: remove the last one's core
        for f in os.listdir(str(coredir)):
            if f.startswith("g-"):
                os.unlink(os.path.join(str(coredir), f))
        path = os.path.join(str(coredir), "g-%s-%s" % (target.interp.id, target.scenario))
        _cores[key] = take_gcore(target.pid, path, target.interp.root)
    return _cores[key]


# ------------------------------------------------- gcore of parked targets

@pytest.mark.scenarios(*CORE_SCENARIOS)
def test_core_json(target, core):
    """dump --core --json: the live dump's frames, pid, tids and python."""
    doc = load_json(ss("dump", "--json", "--core", core, *sysroot_args(target.interp)))
    errors = check_frames(doc, target)
    if doc.get("pid") != target.pid:
        errors.append("pid %r, expected %d" % (doc.get("pid"), target.pid))
    if doc.get("source") != "core":
        errors.append("source %r, expected 'core'" % doc.get("source"))
    if doc.get("signal") is not None:
        errors.append("signal %r in a gcore (nothing killed it)" % doc.get("signal"))
    errors += check_python_block(doc.get("python") or {}, target)
    idx = index_threads(doc)
    tasks = set(helpers.tasks(target.pid))
    for rec in target.truth["threads"]:
        t = idx.get(truth_key(rec))
        if t is None:
            continue
        want = rec.get("host_tid")
        if want is not None and t.get("tid") != want:
            errors.append("%s: tid %r, expected %d" % (label(rec), t.get("tid"), want))
        elif want is None and t.get("tid") not in tasks:
            errors.append("%s: tid %r is not a task of %d" % (label(rec), t.get("tid"), target.pid))
    assert not errors, "\n\n".join(errors)


@pytest.mark.scenarios(*CORE_SCENARIOS)
def test_core_text(target, core):
    """Text output of a core: the same thread blocks and frames."""
    res = ss("dump", "--core", core, *sysroot_args(target.interp))
    assert res.rc == 0, res.describe()
    blocks = helpers.parse_text_dump(res.out)
    errors = []
    if not res.out.startswith("Process %d: Python %s" % (target.pid,
                                                         target.truth["python"]["version"])):
        errors.append("first line: %r" % res.out.splitlines()[:1])
    for rec in records(target, "parked"):
        tid = rec.get("host_tid")
        mine = [b for h, b in blocks if tid is not None and h.startswith("Thread %d " % tid)
                and helpers.header_interp(h) == rec["interpreter"]]
        if tid is None:
            continue
        if len(mine) != 1:
            errors.append("%s: %d text blocks" % (label(rec), len(mine)))
            continue
        got = [(g[0], g[1]) for g in helpers.text_frames(mine[0])]
        want = [(w["file"], w["line"]) for w in reversed(rec["frames"])]
        if got != want:
            errors.append("%s: frames %r, expected %r" % (label(rec), got[-5:], want[-5:]))
    assert not errors, "\n".join(errors) + "\n" + helpers._clip(res.out, 4000)


@pytest.mark.scenarios("basic")
def test_core_info(target, core):
    """info --core: what info PID says."""
    doc = load_json(ss("info", "--json", "--core", core, *sysroot_args(target.interp)))
    errors = check_python_block(doc.get("python") or {}, target)
    live = load_json(ss("info", "--json", target.pid))
    for k in ("located", "layout", "interpreters", "threads"):
        if doc.get(k) != live.get(k):
            errors.append("%s: core %r, live %r" % (k, doc.get(k), live.get(k)))
    res = ss("info", "--core", core, *sysroot_args(target.interp))
    if res.rc != 0 or target.truth["python"]["version"] not in res.out:
        errors.append(res.describe())
    assert not errors, "\n".join(errors)


def test_core_compressed(small_core, tmp_path):
    """.zst, .lz4 and .xz cores give the same JSON as the plain core; a
    damaged one is one clear error."""
    core = small_core
    plain = ss("dump", "--json", "--core", core)
    assert plain.rc == 0, plain.describe()
    for tool, ext, args in (("zstd", "zst", ["-q", "-1", "-f"]), ("lz4", "lz4", ["-q", "-1", "-f"]),
                            ("xz", "xz", ["-q", "-0", "-f", "-k", "-T2"])):
        if not shutil.which(tool):
            pytest.skip("%s not installed (apt package %s): bash tests/setup.sh"
                        % (tool, "xz-utils" if tool == "xz" else tool))
        out = str(tmp_path / ("small.core.%s" % ext))
        if tool == "xz":
            with open(out, "wb") as f:
                subprocess.run([tool] + args + ["-c", core], stdout=f, check=True, timeout=120)
        else:
            subprocess.run([tool] + args + [core, out] if tool == "lz4" else
                           [tool] + args + [core, "-o", out], check=True, timeout=120)
        res = ss("dump", "--json", "--core", out)
        assert res.rc == 0, res.describe()
        assert res.json() == plain.json(), "%s core differs" % ext
        # cut in the middle, and garbage after the magic bytes
        with open(out, "rb") as f:
            data = f.read()
        bad = out + ".bad"
        for blob in (data[:len(data) // 2], data[:6] + bytes(random.Random(1).getrandbits(8)
                                                             for _ in range(4096))):
            with open(bad, "wb") as f:
                f.write(blob)
            fail1(ss("dump", "--core", bad), bad)
        os.unlink(out)
        os.unlink(bad)


@pytest.mark.scenarios("basic")
@pytest.mark.interps("debian-3.11")
def test_core_buildid_mismatch(target, core):
    """--executable naming another build: a warning with both build-ids."""
    other = "/usr/bin/python3.11d"
    if not os.path.exists(other):
        pytest.skip("%s not installed (apt package python3.11-dbg)" % other)
    res = ss("dump", "--core", core, "--executable", other)
    assert not res.crashed and not res.timed_out, res.describe()
    warn = [ln for ln in res.err.splitlines() if "warning" in ln and "build-id" in ln]
    assert warn and other in warn[0], res.describe()


@pytest.mark.scenarios("basic")
@pytest.mark.interps("pyenv-3.12")
def test_core_absent_file(target, core, coredir):
    """A mapped file that cannot be found is named in the error."""
    # Rewrite the NT_FILE names of libpython in a copy so they point nowhere.
    with open(core, "rb") as f:
        data = bytearray(f.read())
    lib = helpers.libpython_mapping(target.pid).encode()
    fake = b"/nonexistent/" + os.path.basename(lib)
    fake = fake + b"x" * (len(lib) - len(fake)) if len(fake) <= len(lib) else fake[:len(lib)]
    n = data.count(lib + b"\0")
    assert n, "libpython's name not in the core"
    data = data.replace(lib + b"\0", fake + b"\0")
    path = str(coredir / "absent.core")
    with open(path, "wb") as f:
        f.write(data)
    fail1(ss("dump", "--core", path), fake.decode(), "--sysroot")
    os.unlink(path)


@pytest.mark.scenarios("locals")
@pytest.mark.interps("pyenv-3.12", "pyenv-2.7", "debian-3.11", "sid-3.14")
def test_core_locals(target, core):
    """--locals from a core equals --locals from the live process."""
    live = ss("dump", "--json", "--locals", target.pid)
    if live.rc != 0 and "locals" in live.err and "unknown option" in live.err:
        pytest.skip("dump --locals not available in this build")
    assert live.rc == 0, live.describe()
    res = ss("dump", "--json", "--locals", "--core", core, *sysroot_args(target.interp))
    assert res.rc == 0, res.describe()
    a, b = index_threads(live.json()), index_threads(res.json())
    errors = [] if set(a) == set(b) else ["threads %r, live %r" % (sorted(b), sorted(a))]
    for k in set(a) & set(b):
        la = [f.get("locals") for f in a[k]["frames"]]
        lb = [f.get("locals") for f in b[k]["frames"]]
        if la != lb:
            errors.append("thread %s: locals differ\nlive: %r\ncore: %r" % (k, la, lb))
    assert not errors, "\n".join(errors)


# ------------------------------------------------ a core the kernel writes

CRASHER = r"""
import ctypes, sys, threading, time
def sleeper():
    time.sleep(1000)
def crash_here():
    ctypes.string_at(0)
t = threading.Thread(target=sleeper, name="sleeper")
t.daemon = True
t.start()
time.sleep(0.2)
crash_here()
"""


def kernel_core_or_skip(tmp_path, exe, root="/"):
    """Run the crasher (chrooted when root is not /) in tmp_path with
    RLIMIT_CORE unlimited; the core the kernel writes there."""
    pattern = helpers.read_text("/proc/sys/kernel/core_pattern").strip()
    if pattern.startswith("|") or "/" in pattern:
        try:
            with open("/proc/sys/kernel/core_pattern", "w") as f:
                f.write("core")
        except OSError as e:
            pytest.skip("core_pattern is %r (not a plain file name) and cannot be set: %s"
                        % (pattern, e))
    if root != "/":
        import uuid
        inside = "/tmp/snakescope-core-%s" % uuid.uuid4().hex[:12]
        os.makedirs(root + inside)
        tmp_path = type(tmp_path)(root + inside)
    script = tmp_path / "crasher.py"
    script.write_text(CRASHER)
    argv = [exe, str(script)]
    if root != "/":
        # chroot(1) changes to / inside: the core goes to the cwd
        argv = ["chroot", root, "/bin/sh", "-c",
                "cd %s && exec %s crasher.py" % (inside, exe)]

    def limits():
        import resource
        resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))

    p = subprocess.run(argv, cwd=str(tmp_path), preexec_fn=limits,
                       capture_output=True, timeout=60)
    assert p.returncode == -signal.SIGSEGV, p.stderr.decode()[-2000:]
    cores = [f for f in os.listdir(str(tmp_path)) if f.startswith("core")]
    if not cores:
        pytest.skip("the kernel wrote no core for a SIGSEGV (core_pattern %r, "
                    "core_uses_pid %s)" % (pattern,
                                           helpers.read_text("/proc/sys/kernel/core_uses_pid").strip()))
    return str(tmp_path / cores[0]), str(script) if root == "/" else inside + "/crasher.py"


@pytest.mark.parametrize("interp_id", ["pyenv-3.12", "pyenv-2.7", "pyenv-3.9", "debian-3.11",
                                       "sid-3.14", "sid-3.15-dbg"])
def test_kernel_core(tmp_path, interp_id):
    """A process killed by SIGSEGV: the core says so first, marks the
    thread, and has both threads' stacks."""
    interp = next((i for i in helpers.interpreters() if i.id == interp_id), None)
    if interp is None or interp.missing:
        pytest.skip(interp.missing if interp else "%s not found" % interp_id)
    path, script = kernel_core_or_skip(tmp_path, interp.exe, interp.root)
    sysroot = sysroot_args(interp)
    try:
        _check_kernel_core(path, script, sysroot)
    finally:
        if interp.root != "/":
            shutil.rmtree(os.path.dirname(path), ignore_errors=True)


def _check_kernel_core(path, script, sysroot):
    res = ss("dump", "--core", path, *sysroot)
    assert res.rc == 0, res.describe()
    first = res.out.splitlines()[0]
    assert first.startswith("Killed by SIGSEGV (signal 11"), res.out
    assert "address 0x0" in first, res.out
    marked = [h for h, b in helpers.parse_text_dump(res.out) if "received the fatal signal" in h]
    assert len(marked) == 1, res.out
    blocks = {h: helpers.text_frames(b) for h, b in helpers.parse_text_dump(res.out)}
    crashed = blocks[marked[0]]
    assert any(f[2].endswith("crash_here") and f[0] == script for f in crashed), res.out
    assert any(f[2].endswith("sleeper") for fr in blocks.values() for f in fr), res.out
    doc = load_json(ss("dump", "--json", "--core", path, *sysroot))
    sig = doc.get("signal") or {}
    assert sig.get("number") == 11 and sig.get("name") == "SIGSEGV" and sig.get("address") == 0, doc
    faulted = [t for t in doc["threads"] if t.get("received_signal")]
    assert len(faulted) == 1 and faulted[0]["tid"] == sig.get("tid"), doc


# --------------------------------------------------------------- bad input

@pytest.fixture(scope="module")
def small_core(tmp_path_factory):
    """A gcore of a small Python process, for the bad-input tests."""
    d = tmp_path_factory.mktemp("badcore")
    p = subprocess.Popen([sys.executable, "-c", "import time; print(1, flush=True); time.sleep(600)"],
                         stdout=subprocess.PIPE)
    try:
        p.stdout.readline()
        path = take_gcore(p.pid, str(d / "small.core"))
    finally:
        p.kill()
        p.wait()
    yield path
    shutil.rmtree(str(d), ignore_errors=True)


def test_bad_random_empty_notcore(tmp_path):
    rnd = tmp_path / "random"
    rnd.write_bytes(random.Random(4).randbytes(65536))
    fail1(ss("dump", "--core", str(rnd)), str(rnd), "not an ELF core")
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    fail1(ss("dump", "--core", str(empty)), "empty")
    fail1(ss("dump", "--core", "/bin/true"), "/bin/true", "not a core")
    fail1(ss("info", "--core", str(tmp_path / "absent")), "absent")


def test_bad_truncated(small_core, tmp_path):
    """Cut at several offsets: each is exit 1 with one line (or, when only
    memory the dump does not need is lost, a normal dump)."""
    with open(small_core, "rb") as f:
        data = f.read()
    cut = tmp_path / "cut"
    for n in (1, 16, 63, 64, 200, 1000, 4096, 20000, len(data) // 3, len(data) // 2,
              len(data) - 4096):
        cut.write_bytes(data[:n])
        res = ss("dump", "--core", str(cut))
        assert not res.crashed and not res.timed_out, res.describe()
        if res.rc != 0:
            fail1(res)


def test_bad_not_python(tmp_path):
    p = subprocess.Popen(["sleep", "600"])
    try:
        path = take_gcore(p.pid, str(tmp_path / "sleep.core"))
    finally:
        p.kill()
        p.wait()
    fail1(ss("dump", "--core", path), "runs no Python")


def nt_file_offset(data):
    """Offset of the NT_FILE note's descriptor in an ELF64 core."""
    phoff, = struct.unpack_from("<Q", data, 32)
    phentsize, phnum = struct.unpack_from("<HH", data, 54)
    for i in range(phnum):
        p_type, _, p_off, _, _, p_filesz = struct.unpack_from("<IIQQQQ", data, phoff + i * phentsize)
        if p_type != 4:
            continue
        off, end = p_off, p_off + p_filesz
        while off + 12 <= end:
            namesz, descsz, ntype = struct.unpack_from("<III", data, off)
            desc = off + 12 + ((namesz + 3) & ~3)
            if ntype == NT_FILE:
                return desc, descsz
            off = desc + ((descsz + 3) & ~3)
    return None, None


def test_bad_nt_file(small_core, tmp_path):
    with open(small_core, "rb") as f:
        data = bytearray(f.read())
    desc, size = nt_file_offset(data)
    assert desc, "no NT_FILE note in the gcore"
    bad = tmp_path / "badnt"
    for patch in ((0, 1 << 40), (8, 3), (0, (size - 16) // 24 + 1)):
        d = bytearray(data)
        struct.pack_into("<Q", d, desc + patch[0], patch[1])
        bad.write_bytes(bytes(d))
        fail1(ss("dump", "--core", str(bad)), "NT_FILE")
    # names without their terminating NULs
    d = bytearray(data)
    count, = struct.unpack_from("<Q", d, desc)
    names = desc + 16 + 24 * count
    for i in range(names, desc + size):
        if d[i] == 0:
            d[i] = ord("x")
    bad.write_bytes(bytes(d))
    fail1(ss("dump", "--core", str(bad)), "NT_FILE")


def test_usage(small_core):
    res = ss("dump", "--core", small_core, "123")
    assert res.rc == 2, res.describe()
    res = ss("dump", "--sysroot", "/", "123")
    assert res.rc == 2, res.describe()
