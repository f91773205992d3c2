"""snakescope maps and pin: shared objects rewritten under a running process
(../shared/seeds/c-extension-module-corruption.txt), and the cure.

A small C extension (maps/ssmext.c) is built with each interpreter's own
headers and imported, as several modules each in its own file, by a target
(maps/target.py) that calls into them on request.  Each file then meets one
fate: rewritten in place with identical bytes the way shutil.copyfile (and
so pip) does it, patched in place, rewritten with other bytes, replaced
atomically, deleted, or left alone; `maps` must name each fate, and the
identical-bytes rewrite must really crash the target when it calls the
module again (the seed's failure reproduced, not just predicted).  `pin`
must make that same rewrite harmless.  Every test that takes `interp` runs
on every interpreter of the suite (conftest.py); the others use one.
"""
import errno
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time

import pytest

import helpers

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "maps"))
import mapshelp  # noqa: E402
from mapshelp import MapsTarget, Workdir  # noqa: E402

INTERPS = helpers.interpreters()
BY_ID = {i.id: i for i in INTERPS}
NOBODY = 65534


def usable(*ids):
    """The first of these interpreters that is installed, or a skip."""
    for i in ids:
        interp = BY_ID.get(i)
        if interp is not None and not interp.missing:
            return interp
    pytest.skip("none of %s is available: %s" % (", ".join(ids), helpers.SETUP_HINT))


@pytest.fixture
def session(snakescope_bin):
    """Make workdirs and targets; everything is removed after the test."""
    made = {"wd": [], "targets": []}

    class S:
        def workdir(self, interp, base="/tmp"):
            wd = Workdir(interp, base)
            made["wd"].append(wd)
            return wd

        def target(self, interp, names, base="/tmp", wrap=(), user=None):
            """A started target importing NAMES (installed fresh)."""
            wd = self.workdir(interp, base)
            try:
                mapshelp.install(interp, wd, names)
            except mapshelp.Skip as e:
                pytest.skip(str(e))
            if user is not None:
                for n in names:
                    os.chmod(wd.host_path(n + ".so"), 0o755)
            t = MapsTarget(interp, wd, names, wrap=wrap, user=user)
            made["targets"].append(t)
            t.start()
            return t

    yield S()
    for t in made["targets"]:
        t.kill()
    for wd in made["wd"]:
        wd.cleanup()


def expect(res, rc):
    assert not res.crashed and not res.timed_out, res.describe()
    assert res.rc == rc, "expected exit status %d\n%s" % (rc, res.describe())


def one_line(res):
    lines = [ln for ln in res.err.splitlines() if ln.strip()]
    assert len(lines) == 1, "expected one line on stderr\n" + res.describe()
    assert lines[0].startswith("snakescope: "), res.describe()
    return lines[0]


def only_ours(doc, wd):
    """The objects of a maps document outside the test's directory must all
    be ok: no false alarm on the interpreter's own files."""
    bad = [(o["path"], o["verdict"], o["note"]) for o in doc["objects"]
           if not o["path"].startswith(wd.view + "/") and o["verdict"] != "ok"]
    assert not bad, "false alarms: %r" % bad


# ------------------------------------------------------------ the verdicts

FATES = ["ssm_ok", "ssm_same", "ssm_inplace", "ssm_truncdiff", "ssm_replaced",
         "ssm_deleted"]


def test_verdicts_and_the_crash(interp, session):
    t = session.target(interp, FATES)
    wd = t.wd
    path = {n: wd.view_path(n + ".so") for n in FATES}
    host = {n: wd.host_path(n + ".so") for n in FATES}

    # Untouched: everything ok, exit 0, each module seen as an extension.
    res, doc = mapshelp.maps_json(t.pid)
    expect(res, 0)
    objs = mapshelp.by_path(doc)
    for n in FATES:
        assert path[n] in objs, "%s not listed\n%s" % (path[n], res.describe())
        o = objs[path[n]]
        assert (o["verdict"], o["kind"]) == ("ok", "extension"), o
        assert o["relocations"]["checked"] > 0 and o["relocations"]["bad"] == 0, o
        assert re.match(r"^[0-9a-f]{40}$", o["build_id"] or ""), o
    only_ours(doc, wd)
    assert doc["schema"] == "snakescope.maps/1" and doc["pid"] == t.pid

    # The rewrites must come after the process started by more than the
    # start time's uncertainty: that is the evidence for "rewritten".
    mapshelp.wait_past(t.started_at() + 0.05, "50 ms after the target's start")
    saved = os.path.join(wd.host, "saved-copy")
    shutil.copyfile(host["ssm_same"], saved)
    mapshelp.copyfile_same(host["ssm_same"], saved)
    os.unlink(saved)
    mapshelp.patch_in_place(host["ssm_inplace"])
    mapshelp.truncate_different(host["ssm_truncdiff"])
    mapshelp.atomic_replace(host["ssm_replaced"])
    os.unlink(host["ssm_deleted"])

    res, doc = mapshelp.maps_json(t.pid)
    expect(res, 4)
    objs = mapshelp.by_path(doc)
    got = {n: objs[path[n]]["verdict"] for n in FATES}
    assert got == {"ssm_ok": "ok", "ssm_same": "corrupted", "ssm_inplace": "rewritten",
                   "ssm_truncdiff": "corrupted", "ssm_replaced": "replaced",
                   "ssm_deleted": "deleted"}, res.describe()
    same = objs[path["ssm_same"]]
    assert same["rewritten"] and same["corrupted"], same
    rel = same["relocations"]
    assert rel["bad"] > 0 and rel["bad"] <= rel["checked"], same
    assert rel["first_bad_symbol"], same
    assert not objs[path["ssm_inplace"]]["corrupted"], objs[path["ssm_inplace"]]
    assert objs[path["ssm_inplace"]]["modified_after_start"], objs[path["ssm_inplace"]]
    assert objs[path["ssm_replaced"]]["same_contents"] is False, objs[path["ssm_replaced"]]
    assert doc["summary"]["corrupted"] == 2 and doc["summary"]["rewritten"] == 1, doc["summary"]
    only_ours(doc, wd)

    text = helpers.run_snakescope("maps", t.pid)
    expect(text, 4)
    for n, v in got.items():
        assert re.search(r"^%s\s+extension\s.*%s$" % (v, re.escape(path[n])), text.out, re.M), \
            "no '%s' line for %s\n%s" % (v, n, text.describe())
    assert rel["first_bad_symbol"] in text.out, text.describe()

    # The target agrees: untouched, replaced and deleted modules still
    # work; the in-place patch shows through to the running process.
    assert t.call("ssm_ok") == "ok ssm_ok pong"
    assert t.call("ssm_replaced") == "ok ssm_replaced pong"
    assert t.call("ssm_deleted") == "ok ssm_deleted pong"
    assert t.doc("ssm_inplace") == "doc ssm_inplace " + mapshelp.PATCHED_DOC.decode()
    # And the seed's failure: calling into the identically rewritten module
    # jumps to an unrelocated address.
    assert t.call("ssm_same") is None, "the target survived calling a corrupted module"
    status = t.wait_exit()
    assert mapshelp.crashed(status), "target exited with status %s, not a crash\n%s" % (
        status, t.log())


def install_late(session, interp):
    """A target started with ssm_ok, then ssm_late installed and imported."""
    t = session.target(interp, ["ssm_ok"])
    mapshelp.wait_past(t.started_at() + 0.05, "50 ms after the target's start")
    mapshelp.install_modules(interp, t.wd, ["ssm_late"])
    assert t.command("import", "ssm_late") == "imported ssm_late", t.log()
    return t, t.wd.view_path("ssm_late.so")


def test_installed_after_start_is_not_rewritten(interp, session):
    """A module installed while the process runs and imported after that
    (pip install in a notebook, then import) is no rewrite."""
    t, late = install_late(session, interp)
    res, doc = mapshelp.maps_json(t.pid)
    expect(res, 0)
    o = mapshelp.by_path(doc)[late]
    assert o["created"] is not None, "no birth time on %s: %r" % (t.wd.host, o)
    assert (o["verdict"], o["modified_after_start"]) == ("ok", False), o
    assert o["relocations"]["checked"] > 0 and o["relocations"]["bad"] == 0, o
    assert t.call("ssm_late") == "ok ssm_late pong"


def test_late_module_patched_after_creation_is_rewritten(session):
    """Past the creation window, a write in place is a rewrite again.  (The
    verdict does not depend on the interpreter: one is enough.)"""
    t, late = install_late(session, usable("pyenv-3.12", "debian-3.11"))
    born = os.stat(t.wd.host_path("ssm_late.so")).st_mtime
    mapshelp.wait_past(born + 2.05, "past ssm_late.so's creation window")
    mapshelp.patch_in_place(t.wd.host_path("ssm_late.so"))
    res, doc = mapshelp.maps_json(t.pid)
    expect(res, 4)
    o = mapshelp.by_path(doc)[late]
    assert (o["verdict"], o["modified_after_start"]) == ("rewritten", True), o
    text = helpers.run_snakescope("maps", t.pid)
    assert "well after it was created" in text.out, text.describe()


def test_pin_makes_the_rewrite_harmless(interp, session):
    names = ["ssm_pin", "ssm_other"]
    t = session.target(interp, names)
    wd = t.wd
    host = {n: wd.host_path(n + ".so") for n in names}
    before = {n: mapshelp.fingerprint(host[n]) for n in names}
    listing = wd.listing()

    # --dry-run changes nothing: contents, inodes, metadata, directory.
    res = helpers.run_snakescope("pin", "--dry-run", t.pid)
    expect(res, 0)
    for n in names:
        assert "would pin  %s" % wd.view_path(n + ".so") in res.out, res.describe()
    assert "pinned" not in res.out, res.describe()
    assert {n: mapshelp.fingerprint(host[n]) for n in names} == before
    assert wd.listing() == listing

    res = helpers.run_snakescope("pin", t.pid)
    expect(res, 0)
    pinned = re.findall(r"^pinned\s+(\S+)", res.out, re.M)
    assert sorted(pinned) == sorted(wd.view_path(n + ".so") for n in names), \
        "pinned something other than the test's modules\n" + res.describe()
    after = {n: mapshelp.fingerprint(host[n]) for n in names}
    for n in names:
        assert after[n]["ino"] != before[n]["ino"], "%s kept its inode" % n
        for k in ("sha256", "mode", "uid", "gid", "mtime_ns"):
            assert after[n][k] == before[n][k], (n, k, before[n], after[n])
    assert wd.listing() == listing, "temporary files left behind"

    res, doc = mapshelp.maps_json(t.pid)
    expect(res, 0)
    objs = mapshelp.by_path(doc)
    for n in names:
        o = objs[wd.view_path(n + ".so")]
        assert o["verdict"] == "replaced" and o["same_contents"] is True, o
    assert set(o["verdict"] for o in doc["objects"]) <= {"ok", "replaced"}, res.describe()

    # The rewrite that crashed the target above is now harmless.
    mapshelp.wait_past(t.started_at() + 0.05, "50 ms after the target's start")
    saved = os.path.join(wd.host, "saved-copy")
    shutil.copyfile(host["ssm_pin"], saved)
    mapshelp.copyfile_same(host["ssm_pin"], saved)
    os.unlink(saved)
    assert t.call("ssm_pin") == "ok ssm_pin pong"
    res, doc = mapshelp.maps_json(t.pid)
    expect(res, 0)
    assert set(o["verdict"] for o in doc["objects"]) <= {"ok", "replaced"}, res.describe()

    res = helpers.run_snakescope("pin", t.pid)
    expect(res, 0)
    assert len(re.findall(r"^already\s", res.out, re.M)) == 2, res.describe()


# ------------------------------------------------------- pin, the details

def test_pin_preserves_metadata(session):
    interp = usable("debian-3.11", "pyenv-3.12", "pyenv-3.11")
    t = session.target(interp, ["ssm_pin"])
    so = t.wd.host_path("ssm_pin.so")
    os.chown(so, 1234, 5678)
    os.chmod(so, 0o640)
    os.utime(so, ns=(1_000_000_000_123_456_789, 1_100_000_000_987_654_321))
    xattrs = {}
    for name, value in (("user.snakescope", b"kept"), ("trusted.snakescope", b"also")):
        try:
            os.setxattr(so, name, value)
            xattrs[name] = value
        except OSError as e:
            if e.errno not in (errno.ENOTSUP, errno.EPERM):
                raise
    st = os.stat(so)
    names = sorted(os.listxattr(so))
    res = helpers.run_snakescope("pin", t.pid)
    expect(res, 0)
    nst = os.stat(so)
    assert nst.st_ino != st.st_ino
    assert (nst.st_uid, nst.st_gid, stat.S_IMODE(nst.st_mode)) == (1234, 5678, 0o640)
    assert (nst.st_atime_ns, nst.st_mtime_ns) == (st.st_atime_ns, st.st_mtime_ns)
    for name, value in xattrs.items():
        assert os.getxattr(so, name) == value, name
    assert sorted(os.listxattr(so)) == names
    assert t.call("ssm_pin") == "ok ssm_pin pong"


def test_pin_read_only_file_system(session):
    """The target sees its module directory through a read-only bind mount
    in its own mount namespace: pin reports it and skips it, and maps reads
    the target through /proc/PID/root all the same."""
    interp = usable("debian-3.11", "pyenv-3.12", "pyenv-3.11")
    if not shutil.which("unshare"):
        pytest.skip("unshare (util-linux) not installed: " + helpers.SETUP_HINT)
    probe = session.workdir(interp)
    mapshelp.install(interp, probe, ["ssm_pin"])
    wrap = ["unshare", "-m", "--propagation", "private", "sh", "-c",
            'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"', probe.host]
    t = MapsTarget(interp, probe, ["ssm_pin"], wrap=wrap)
    try:
        t.start()
        before = mapshelp.fingerprint(probe.host_path("ssm_pin.so"))
        res = helpers.run_snakescope("pin", t.pid)
        expect(res, 1)
        line = one_line(res)
        assert "read-only file system" in line and "ssm_pin.so" in line, res.describe()
        assert re.search(r"^not pinned .*ssm_pin\.so: read-only file system", res.out, re.M), \
            res.describe()
        assert mapshelp.fingerprint(probe.host_path("ssm_pin.so")) == before
        res, doc = mapshelp.maps_json(t.pid)
        expect(res, 0)
        assert mapshelp.by_path(doc)[probe.view_path("ssm_pin.so")]["verdict"] == "ok"
        assert t.call("ssm_pin") == "ok ssm_pin pong"
    finally:
        t.kill()


def test_pin_file_disappears_midway(session):
    """The file is deleted while pin is copying it (held at its open by
    fanotify): pin says so in one line, leaves no temporary file and does
    not bring the file back."""
    interp = usable("debian-3.11", "pyenv-3.12", "pyenv-3.11")
    t = session.target(interp, ["ssm_pin"])
    so = t.wd.host_path("ssm_pin.so")
    listing = [n for n in t.wd.listing() if n != "ssm_pin.so"]
    proc = {}

    def on_open(pid, n):
        # snakescope opens the file once to look at it and once to copy
        # it; the copy is the second open.
        if pid == proc.get("pid") and n == 1:
            os.unlink(so)

    try:
        gate = mapshelp.OpenGate(so, on_open)
    except mapshelp.Skip as e:
        pytest.skip(str(e))
    try:
        p = subprocess.Popen([helpers.SNAKESCOPE, "pin", str(t.pid)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        proc["pid"] = p.pid
        out, err = p.communicate(timeout=60)
    finally:
        gate.close()
    res = helpers.Result(["snakescope", "pin", str(t.pid)], p.returncode,
                         out.decode("utf-8", "replace"), err.decode("utf-8", "replace"))
    expect(res, 1)
    line = one_line(res)
    assert re.search(r"disappeared|gone", line), res.describe()
    assert not os.path.exists(so), "pin brought the deleted file back"
    assert t.wd.listing() == listing, "temporary files left behind"
    assert t.call("ssm_pin") == "ok ssm_pin pong"


@pytest.fixture
def nobody_snakescope(snakescope_bin):
    """snakescope copied where user nobody can run it."""
    if not shutil.which("setpriv"):
        pytest.skip("setpriv (util-linux) not installed: " + helpers.SETUP_HINT)
    d = tempfile.mkdtemp(prefix="snakescope-nobody-")
    os.chmod(d, 0o755)
    exe = os.path.join(d, "snakescope")
    shutil.copyfile(snakescope_bin, exe)
    os.chmod(exe, 0o755)
    yield ["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups"], exe
    shutil.rmtree(d, ignore_errors=True)


def run_as_nobody(nobody, *args):
    prefix, exe = nobody
    argv = prefix + [exe] + [str(a) for a in args]
    p = subprocess.run(argv, capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
    return helpers.Result(argv, p.returncode, p.stdout.decode("utf-8", "replace"),
                          p.stderr.decode("utf-8", "replace"))


def test_permission(nobody_snakescope, session):
    interp = usable("debian-3.11")  # nobody cannot run pyenv's (under /root)
    # Another user's process: maps says so, exit 3.
    root_t = session.target(interp, ["ssm_ok"])
    res = run_as_nobody(nobody_snakescope, "maps", root_t.pid)
    expect(res, 3)
    assert "CAP_SYS_PTRACE" in one_line(res), res.describe()
    res = run_as_nobody(nobody_snakescope, "pin", root_t.pid)
    expect(res, 3)
    one_line(res)

    # nobody's own process, with its modules in root's directory: maps
    # works (through the path, without /proc/PID/map_files), pin cannot
    # write the directory: reported and skipped, exit 3.
    t = session.target(interp, ["ssm_pin", "ssm_same"], user=NOBODY)
    res = run_as_nobody(nobody_snakescope, "maps", "--json", t.pid)
    expect(res, 0)
    objs = mapshelp.by_path(res.json())
    assert objs[t.wd.view_path("ssm_pin.so")]["verdict"] == "ok", res.describe()
    before = mapshelp.fingerprint(t.wd.host_path("ssm_pin.so"))
    res = run_as_nobody(nobody_snakescope, "pin", t.pid)
    expect(res, 3)
    assert "2 of 2 files not pinned" in one_line(res), res.describe()
    assert len(re.findall(r"^not pinned .*: cannot write to its directory: permission denied",
                          res.out, re.M)) == 2, res.describe()
    assert mapshelp.fingerprint(t.wd.host_path("ssm_pin.so")) == before

    # The relocation check needs no privilege either.
    mapshelp.wait_past(t.started_at() + 0.05, "50 ms after the target's start")
    so = t.wd.host_path("ssm_same.so")
    saved = so + ".saved"
    shutil.copyfile(so, saved)
    mapshelp.copyfile_same(so, saved)
    os.unlink(saved)
    res = run_as_nobody(nobody_snakescope, "maps", "--json", t.pid)
    expect(res, 4)
    assert mapshelp.by_path(res.json())[t.wd.view_path("ssm_same.so")]["verdict"] == "corrupted"


# -------------------------------------------------------------- --watch

def start_watch(pid, *extra):
    p = subprocess.Popen([helpers.SNAKESCOPE, "maps", "--watch"] + list(extra) + [str(pid)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         stdin=subprocess.DEVNULL)
    return p, mapshelp.line_reader(p.stdout)


def stop(p):
    if p.poll() is None:
        p.kill()
    p.communicate(timeout=30)


def test_watch_sees_a_write_within_a_second(session):
    interp = usable("debian-3.11", "pyenv-3.12", "pyenv-3.11")
    t = session.target(interp, ["ssm_ok", "ssm_other"])
    so = t.wd.host_path("ssm_ok.so")
    p, next_line = start_watch(t.pid)
    try:
        first = next_line(30)
        assert first and re.search(r"watching [1-9]\d* files? mapped by process %d" % t.pid,
                                   first), first
        with open(so, "r+b") as f:
            head = f.read(16)
            t0 = time.monotonic()
            f.seek(0)
            f.write(head)  # same bytes, no truncation: harmless, but a write
            f.flush()
            warnings = []
            while True:
                left = 1.0 - (time.monotonic() - t0)
                assert left > 0, "no warning within 1 s; got %r" % warnings
                line = next_line(left)
                assert line is not None, "watch ended early"
                warnings.append(line)
                if "ssm_ok.so" in line and "pid %d" % os.getpid() in line:
                    break
        assert "warning:" in warnings[-1], warnings
        assert t.call("ssm_ok") == "ok ssm_ok pong"
        # The target's exit ends the watch; a warning was given: status 4.
        t.kill()
        rest = []
        while True:
            line = next_line(10)
            if line is None:
                break
            rest.append(line)
        assert any("process %d exited" % t.pid in ln for ln in rest), rest
        assert p.wait(timeout=10) == 4
    finally:
        stop(p)


def test_watch_json_and_sigint(session):
    interp = usable("debian-3.11", "pyenv-3.12", "pyenv-3.11")
    t = session.target(interp, ["ssm_ok"])
    p, next_line = start_watch(t.pid, "--json")
    try:
        ev = json.loads(next_line(30))
        assert ev["schema"] == "snakescope.maps-watch/1" and ev["event"] == "watching", ev
        assert ev["files"] >= 1, ev
        so = t.wd.host_path("ssm_ok.so")
        with open(so, "r+b") as f:  # opened for writing, nothing written yet
            ev = json.loads(next_line(5))
            assert ev["event"] == "opened-for-writing", ev
            assert ev["path"] == t.wd.view_path("ssm_ok.so"), ev
            assert os.getpid() in [w["pid"] for w in ev["writers"]], ev
        p.send_signal(signal.SIGINT)
        ev = json.loads(next_line(10))
        assert ev["event"] == "stopped" and ev["signal"] == signal.SIGINT, ev
        assert p.wait(timeout=10) == 4
        assert p.stderr.read() == b""
    finally:
        stop(p)


def test_watch_quiet_target_stops_cleanly(session):
    interp = usable("debian-3.11", "pyenv-3.12", "pyenv-3.11")
    t = session.target(interp, ["ssm_ok"])
    p, next_line = start_watch(t.pid)
    try:
        assert "watching" in next_line(30)
        p.send_signal(signal.SIGTERM)
        assert "stopped by SIGTERM" in next_line(10)
        assert p.wait(timeout=10) == 0
    finally:
        stop(p)
    assert t.call("ssm_ok") == "ok ssm_ok pong"


# ---------------------------------------------------------------- others

def test_all_lists_system_libraries(session):
    interp = usable("debian-3.11", "pyenv-3.12", "pyenv-3.11")
    t = session.target(interp, ["ssm_ok"])
    res, doc = mapshelp.maps_json(t.pid)
    expect(res, 0)
    assert doc["hidden"] > 0 and not any("libc.so" in o["path"] for o in doc["objects"])
    res, doc = mapshelp.maps_json(t.pid, "--all")
    expect(res, 0)
    libc = [o for o in doc["objects"] if re.search(r"/libc\.so\.6$", o["path"])]
    assert libc and libc[0]["kind"] == "library" and libc[0]["verdict"] == "ok", doc
    assert libc[0]["relocations"]["checked"] > 100
    assert all(o["verdict"] == "ok" for o in doc["objects"]), res.describe()


@pytest.mark.parametrize("args", [["maps"], ["pin"], ["maps", "--bogus", "1"],
                                  ["pin", "1", "2"], ["maps", "notapid"]], ids=" ".join)
def test_usage(snakescope_bin, args):
    res = helpers.run_snakescope(*args)
    expect(res, 2)
    assert res.err.startswith("snakescope: "), res.describe()


def test_no_such_process(snakescope_bin):
    p = subprocess.Popen(["true"])
    p.wait()
    for cmd in (["maps"], ["pin"], ["maps", "--watch"]):
        res = helpers.run_snakescope(*(cmd + [p.pid]))
        expect(res, 1)
        assert "no process with pid %d" % p.pid in one_line(res), res.describe()
