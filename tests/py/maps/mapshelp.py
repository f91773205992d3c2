"""Helpers of tests/py/test_maps.py: building the test extension with each
interpreter's own headers, a target that imports it and calls it on
request, the ways a file gets rewritten under a process, fanotify.

The target (target.py) talks over two inherited pipes: the test writes
commands ("call NAME") and reads one reply line per command; readiness is
the first reply ("ready PID").  Every wait is bounded; nothing sleeps to
synchronise.
"""
import ctypes
import errno
import hashlib
import os
import re
import select
import shutil
import signal
import struct
import subprocess
import tempfile
import threading
import time
import uuid

import helpers

HERE = os.path.dirname(os.path.abspath(__file__))
EXT_SRC = os.path.join(HERE, "ssmext.c")
TARGET_SRC = os.path.join(HERE, "target.py")
REPLY_TIMEOUT = 30.0

# The modules ssmext.c defines (one PyInit_<name> each).
MODULES = ["ssm_ok", "ssm_same", "ssm_inplace", "ssm_truncdiff",
           "ssm_replaced", "ssm_deleted", "ssm_pin", "ssm_other"]
DOC = b"ping doc: answers pong"
PATCHED_DOC = b"PING DOC: answers pong"


class Skip(Exception):
    """A prerequisite is missing: the message names it."""


# ----------------------------------------------------------------- building

_built = {}


def _cache_dir():
    """Built extensions are shared by the xdist workers and kept between
    runs, keyed by everything that goes into them."""
    d = os.path.join(tempfile.gettempdir(), "snakescope-maps-ext-%d" % os.getuid())
    os.makedirs(d, mode=0o755, exist_ok=True)
    return d


def _interp_run(interp, code):
    argv = [interp.exe, "-S", "-c", code]
    if interp.kind == "chroot":
        argv = ["chroot", interp.root] + argv
    p = subprocess.run(argv, capture_output=True, timeout=60,
                       stdin=subprocess.DEVNULL)
    if p.returncode != 0:
        raise Skip("%s cannot report its include directory: %s"
                   % (interp.exe, p.stderr.decode("utf-8", "replace")[-300:]))
    return p.stdout.decode().strip()


def build_extension(interp):
    """The host path of ssmext.so built against INTERP's own headers
    (cached).  Skip when the headers or gcc are missing."""
    if interp.id in _built:
        return _built[interp.id]
    gcc = shutil.which("gcc") or shutil.which("cc")
    if not gcc:
        raise Skip("no C compiler (gcc) to build the test extension: %s" % helpers.SETUP_HINT)
    inc = _interp_run(interp, "import sysconfig; print(sysconfig.get_paths()['include'])")
    host_inc = interp.host_path(inc)
    python_h = os.path.join(host_inc, "Python.h")
    if not os.path.exists(python_h):
        raise Skip("no Python.h for %s in %s (install its -dev package): %s"
                   % (interp.id, host_inc, helpers.SETUP_HINT))
    cmd = [gcc, "-shared", "-fPIC", "-O1", "-g", "-I", host_inc]
    if interp.root != "/":
        # Debian's pyconfig.h includes <x86_64-linux-gnu/python3.X/...>,
        # found in the chroot's /usr/include after the host's own.
        cmd += ["-idirafter", os.path.join(interp.root, "usr/include")]
    key = hashlib.sha256()
    with open(EXT_SRC, "rb") as f:
        key.update(f.read())
    st = os.stat(python_h)
    key.update(repr((cmd, st.st_size, st.st_mtime_ns)).encode())
    out = os.path.join(_cache_dir(), "ssmext-%s-%s.so" % (interp.id, key.hexdigest()[:16]))
    if not os.path.exists(out):
        tmp = "%s.%d.tmp" % (out, os.getpid())
        p = subprocess.run(cmd + [EXT_SRC, "-o", tmp], capture_output=True, timeout=120)
        if p.returncode != 0:
            raise AssertionError("building the test extension for %s failed:\n$ %s\n%s"
                                 % (interp.id, " ".join(cmd), p.stderr.decode("utf-8", "replace")))
        os.rename(tmp, out)  # atomic: a concurrent worker sees all or nothing
    _built[interp.id] = out
    return out


# ---------------------------------------------------------------- workdirs

class Workdir:
    """A fresh directory the target can reach: under the chroot for chroot
    interpreters.  view is the target's name for it, host ours."""

    def __init__(self, interp, base="/tmp"):
        name = "ssmaps-%s" % uuid.uuid4().hex[:12]
        self.view = os.path.join(base, name)
        self.host = interp.host_path(self.view)
        os.makedirs(self.host)
        os.chmod(self.host, 0o755)

    def host_path(self, name):
        return os.path.join(self.host, name)

    def view_path(self, name):
        return os.path.join(self.view, name)

    def listing(self):
        return sorted(os.listdir(self.host))

    def cleanup(self):
        shutil.rmtree(self.host, ignore_errors=True)


def install_modules(interp, wd, names):
    """Copy the extension to WD as NAME.so for each name."""
    so = build_extension(interp)
    for n in names:
        shutil.copyfile(so, wd.host_path(n + ".so"))
        os.chmod(wd.host_path(n + ".so"), 0o755)


def install(interp, wd, names):
    """install_modules(), and target.py."""
    install_modules(interp, wd, names)
    shutil.copyfile(TARGET_SRC, wd.host_path("target.py"))
    os.chmod(wd.host_path("target.py"), 0o644)


# ------------------------------------------------------------------ target

class Died(Exception):
    pass


class MapsTarget:
    """target.py under INTERP, importing NAMES from workdir WD.

    wrap: argv prefix run before the interpreter (as root), e.g. a shell
    that sets up a mount namespace and execs the rest ("$@")."""

    def __init__(self, interp, wd, names, wrap=(), user=None):
        self.interp = interp
        self.wd = wd
        self.names = names
        self.wrap = list(wrap)
        self.user = user
        self.proc = None
        self.pid = None
        self.log_path = os.path.join(tempfile.gettempdir(),
                                     "ssmaps-target-%s.log" % uuid.uuid4().hex[:8])

    def argv(self):
        py = [self.interp.exe, "-S", "-s", "-B", self.wd.view_path("target.py"),
              self.wd.view, ",".join(self.names)]
        if self.interp.kind == "chroot":
            py = ["chroot", self.interp.root] + py
        elif self.interp.kind == "pidns":
            py = ["unshare", "--pid", "--fork", "--mount-proc"] + py
        if self.user is not None:
            py = ["setpriv", "--reuid=%d" % self.user, "--regid=%d" % self.user,
                  "--clear-groups"] + py
        return self.wrap + py

    def start(self):
        cr, cw = os.pipe()
        rr, rw = os.pipe()
        env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
               "LC_ALL": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1",
               "SSMAPS_CMD_FD": str(cr), "SSMAPS_REPLY_FD": str(rw)}
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, pass_fds=(cr, rw),
                                         env=env, start_new_session=True)
        os.close(cr)
        os.close(rw)
        self.cmd_w = cw
        self.reply_r = rr
        self.buf = b""
        line = self.reply()
        if line is None or not line.startswith("ready"):
            raise AssertionError("target %s did not start: %r\n%s"
                                 % (self.interp.id, line, self.log()))
        if self.interp.kind == "pidns":
            kids = helpers.wait_until(lambda: helpers.children(self.proc.pid), 10,
                                      "the python under unshare")
            self.pid = kids[0]
        else:
            self.pid = self.proc.pid
        return self

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")[-4000:]
        except OSError:
            return ""

    def reply(self, timeout=REPLY_TIMEOUT):
        """The next reply line, or None when the target closed the pipe
        (it died)."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("target %s gave no reply within %.0f s\n%s"
                                     % (self.interp.id, timeout, self.log()))
            r, _, _ = select.select([self.reply_r], [], [], left)
            if not r:
                continue
            chunk = os.read(self.reply_r, 4096)
            if not chunk:
                return None
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return line.decode("utf-8", "replace")

    def command(self, verb, name):
        try:
            os.write(self.cmd_w, ("%s %s\n" % (verb, name)).encode())
        except BrokenPipeError:
            return None
        return self.reply()

    def call(self, name):
        return self.command("call", name)

    def doc(self, name):
        return self.command("doc", name)

    def wait_exit(self, timeout=30):
        """The exit status of the process we started (negative: signal)."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("target %s did not exit within %d s" % (self.interp.id, timeout))

    def started_at(self):
        """The target's start on the wall clock, from /proc."""
        with open("/proc/%d/stat" % self.pid) as f:
            ticks = int(f.read().rsplit(")", 1)[1].split()[19])
        boot = time.clock_gettime(time.CLOCK_BOOTTIME)
        return time.time() - boot + ticks / os.sysconf("SC_CLK_TCK")

    def kill(self):
        if self.proc is None:
            return
        for fd in (getattr(self, "cmd_w", None), getattr(self, "reply_r", None)):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.cmd_w = self.reply_r = None
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except OSError:
            pass
        if self.pid and self.pid != self.proc.pid:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.unlink(self.log_path)
        except OSError:
            pass


def crashed(status):
    """Whether an exit status means death by a crash signal (directly, or as
    unshare --fork reports its child's: 128 + signal)."""
    crash = {signal.SIGSEGV, signal.SIGBUS, signal.SIGILL}
    return (status < 0 and -status in crash) or (status > 128 and status - 128 in crash)


def wait_past(t, what):
    """Wait (bounded) until the wall clock is past T: the evidence of a
    rewrite is the file's change time being after the process's start."""
    helpers.wait_until(lambda: time.time() > t, 5, what, interval=0.01)


# ----------------------------------------------------------- rewriting files

def copyfile_same(path, saved):
    """What pip does: shutil.copyfile over the file, opened with O_TRUNC,
    here with the very same bytes (from SAVED, a copy of the original)."""
    shutil.copyfile(saved, path)


def patch_in_place(path):
    """Change a few bytes (the docstring) without truncating."""
    with open(path, "r+b") as f:
        data = f.read()
        at = data.index(DOC)
        f.seek(at)
        f.write(PATCHED_DOC)


def truncate_different(path):
    with open(path, "rb") as f:
        data = f.read().replace(DOC, PATCHED_DOC)
    with open(path, "wb") as f:
        f.write(data)


def atomic_replace(path):
    with open(path, "rb") as f:
        data = f.read().replace(DOC, PATCHED_DOC)
    tmp = path + ".new"
    with open(tmp, "wb") as f:
        f.write(data)
    os.chmod(tmp, 0o755)
    os.rename(tmp, path)


def fingerprint(path):
    st = os.stat(path)
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    return {"sha256": digest, "ino": st.st_ino, "mode": st.st_mode, "uid": st.st_uid,
            "gid": st.st_gid, "mtime_ns": st.st_mtime_ns}


# ------------------------------------------------------------------- fanotify

FAN_CLASS_CONTENT = 0x4
FAN_CLOEXEC = 0x1
FAN_MARK_ADD = 0x1
FAN_OPEN_PERM = 0x10000
FAN_ALLOW = 0x1
AT_FDCWD = -100
_META = struct.Struct("IBBHQii")  # event_len, vers, reserved, metadata_len, mask, fd, pid


class OpenGate:
    """Hold every open of one file (fanotify FAN_OPEN_PERM) until on_open
    has run; on_open(pid, n) gets the opener's pid and how many opens of
    this pid came before.  Needs CAP_SYS_ADMIN and a kernel with
    CONFIG_FANOTIFY_ACCESS_PERMISSIONS; Skip otherwise."""

    def __init__(self, path, on_open):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.fanotify_mark.argtypes = [ctypes.c_int, ctypes.c_uint, ctypes.c_uint64,
                                       ctypes.c_int, ctypes.c_char_p]
        self.fd = libc.fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC, os.O_RDONLY)
        if self.fd < 0:
            raise Skip("fanotify unavailable (%s): needs CAP_SYS_ADMIN"
                       % os.strerror(ctypes.get_errno()))
        if libc.fanotify_mark(self.fd, FAN_MARK_ADD, FAN_OPEN_PERM, AT_FDCWD,
                              path.encode()) != 0:
            e = ctypes.get_errno()
            os.close(self.fd)
            raise Skip("fanotify permission events unavailable (%s): kernel without "
                       "CONFIG_FANOTIFY_ACCESS_PERMISSIONS" % os.strerror(e))
        self.on_open = on_open
        self.counts = {}
        self.errors = []
        self.stop_r, self.stop_w = os.pipe()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while True:
            r, _, _ = select.select([self.fd, self.stop_r], [], [], 30)
            if self.stop_r in r or not r:
                return
            data = os.read(self.fd, 4096)
            off = 0
            while off + _META.size <= len(data):
                ev_len, _, _, _, mask, fd, pid = _META.unpack_from(data, off)
                try:
                    if mask & FAN_OPEN_PERM:
                        n = self.counts.get(pid, 0)
                        self.counts[pid] = n + 1
                        self.on_open(pid, n)
                except Exception as e:  # reported by close()
                    self.errors.append(e)
                finally:
                    # Always answer, or the opener hangs.
                    os.write(self.fd, struct.pack("iI", fd, FAN_ALLOW))
                    if fd >= 0:
                        os.close(fd)
                off += ev_len or _META.size

    def close(self):
        os.write(self.stop_w, b"x")
        self.thread.join(30)
        os.close(self.fd)
        os.close(self.stop_r)
        os.close(self.stop_w)
        if self.errors:
            raise self.errors[0]


# ----------------------------------------------------------------- snakescope

def maps_json(pid, *extra, prefix=()):
    res = helpers.run_snakescope("maps", "--json", *(list(extra) + [pid]), prefix=prefix)
    assert not res.crashed and not res.timed_out, res.describe()
    assert res.rc in (0, 4), res.describe()
    return res, res.json()


def by_path(doc):
    return {o["path"]: o for o in doc["objects"]}


def line_reader(stream):
    """A function returning the next line of STREAM (a pipe) within a
    timeout, or None at its end."""
    fd = stream.fileno()
    buf = [b""]

    def next_line(timeout):
        deadline = time.monotonic() + timeout
        while b"\n" not in buf[0]:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no line within %.1f s (so far %r)" % (timeout, buf[0]))
            r, _, _ = select.select([fd], [], [], left)
            if not r:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                if buf[0]:
                    line, buf[0] = buf[0], b""
                    return line.decode("utf-8", "replace")
                return None
            buf[0] += chunk
        line, _, buf[0] = buf[0].partition(b"\n")
        return line.decode("utf-8", "replace")

    return next_line


def ignore_enoent(fn, *a):
    try:
        fn(*a)
    except OSError as e:
        if e.errno != errno.ENOENT:
            raise


SAFE_ID = re.compile(r"[^A-Za-z0-9_.-]")
