"""The generated layout table (src/py/layout_table.c) against the CPython
headers and interpreters on this machine.

test_generator_check: the committed table is exactly what tools/gen-layouts
produces from the headers found here (versions whose headers are missing are
reported by the generator and taken from the committed file unchecked).

test_row_sanity: every row has the fields any stack walk needs for its frame
model, and rows are well formed.

test_live_interpreter: for every interpreter found here, its own row read
against its own live objects (through ctypes, in that interpreter): catches a
row that compiles from the headers but does not describe the binary.
"""

import glob
import json
import os
import re
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
GEN = os.path.join(ROOT, "tools", "gen-layouts")
TABLE = os.path.join(ROOT, "src", "py", "layout_table.c")
LAYOUT_H = os.path.join(ROOT, "src", "py", "layout.h")

OFF_NONE = -1


def field_list():
    with open(LAYOUT_H) as f:
        text = f.read()
    body = re.search(r"#define PY_LAYOUT_FIELDS\(X\)(.*?[^\\])\n", text,
                     re.S).group(1)
    body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
    return ["%s_%s" % g for g in re.findall(r"X\((\w+),\s*(\w+)\)", body)]


def parse_int(s):
    if s == "OFF_NONE":
        return OFF_NONE
    if s in ("true", "false"):
        return s == "true"
    return int(s, 0)


def table_rows():
    """Each row of the table as a dict of its designated initialisers."""
    with open(TABLE) as f:
        text = f.read()
    rows = []
    for block in re.findall(r"^\t\{\n(.*?)^\t\},\n", text, re.S | re.M):
        row = {}
        for name, val in re.findall(r"^\t+\.(\w+) = (.*?),(?: /\*.*\*/)?$",
                                    block, re.M):
            if name == "source":
                row[name] = val.strip('"')
            elif name != "layout":
                row[name] = parse_int(val)
        rows.append(row)
    return rows


def version_tuple(v):
    return (v >> 24, (v >> 16) & 0xff, (v >> 8) & 0xff)


def row_id(row):
    return "%d.%d.%d-%d.%d.%d%s%s" % (
        version_tuple(row["version_min"]) + version_tuple(row["version_max"])
        + ("d" if row["debug"] else "", "t" if row["free_threaded"] else ""))


ROWS = table_rows()


def test_generator_check():
    r = subprocess.run([GEN, "--check"], capture_output=True, text=True,
                       timeout=300)
    # The generator says on stderr which header sets it could not find;
    # pytest shows it when the test fails.
    sys.stderr.write(r.stderr)
    assert r.returncode == 0, (
        "tools/gen-layouts --check failed (rc %d):\n%s\n%s"
        % (r.returncode, r.stderr, r.stdout))


def test_table_is_complete_and_ordered():
    assert ROWS, "no rows parsed from %s" % TABLE
    fields = field_list()
    keys = []
    for row in ROWS:
        missing = [f for f in fields if f not in row]
        assert not missing, "%s lacks %s" % (row_id(row), missing)
        assert row["version_min"] <= row["version_max"], row_id(row)
        assert row["version"] == row["version_min"], row_id(row)
        assert version_tuple(row["version_min"])[:2] == \
            version_tuple(row["version_max"])[:2], row_id(row)
        assert row["source"], row_id(row)
        keys.append((row["version_min"] >> 16, row["debug"],
                     row["free_threaded"], row["version_min"],
                     row["version_max"]))
    assert keys == sorted(keys), "rows out of order"
    # Rows of one (minor, debug, free-threaded) must not overlap, or
    # py_layout_lookup() would depend on table order.
    for a, b in zip(keys, keys[1:]):
        if a[:3] == b[:3]:
            assert a[4] < b[3], "overlapping rows %r %r" % (a, b)


FRAME_FIELDS = {
    "object": ["tstate_frame", "frame_f_back", "frame_f_code",
               "frame_f_lasti", "frame_f_lineno"],
    "interp": ["iframe_previous", "iframe_code", "iframe_instr",
               "iframe_owner"],
}


@pytest.mark.parametrize("row", ROWS, ids=row_id)
def test_row_sanity(row):
    ver = version_tuple(row["version_min"])[:2]
    need = ["tstate_next", "tstate_interp", "tstate_thread_id",
            "interp_next", "interp_tstate_head", "code_co_name",
            "code_co_filename", "code_co_firstlineno", "code_co_lnotab",
            "object_ob_type", "type_tp_name", "bytes_ob_sval",
            "unicode_length", "tuple_ob_item"]
    if ver >= (3, 7):
        need += ["runtime_interpreters_head", "interp_id"]
    if ver >= (3, 11):
        need += FRAME_FIELDS["interp"] + ["code_co_qualname",
                                          "code_co_code_adaptive",
                                          "code_co_localsplusnames"]
        need += (["tstate_cframe", "cframe_current_frame"]
                 if ver < (3, 13) else ["tstate_current_frame"])
    else:
        need += FRAME_FIELDS["object"]
    if ver >= (3, 3):
        need += ["unicode_state", "unicode_ascii_data",
                 "unicode_compact_data"]
    missing = [f for f in need if row[f] == OFF_NONE]
    assert not missing, "%s: %s are OFF_NONE" % (row_id(row), missing)
    # The other frame model's fields must be absent: a reader that checks
    # for OFF_NONE must not be able to walk the wrong chain.
    other = FRAME_FIELDS["object" if ver >= (3, 11) else "interp"]
    present = [f for f in other if row[f] != OFF_NONE]
    assert not present, "%s: %s set" % (row_id(row), present)
    assert row["py2_unicode_size"] in ((2, 4) if ver[0] == 2 else (0,))


# Runs inside the interpreter under test (2.7 too, so no f-strings): picks
# its row like py_layout_lookup() and follows it through live objects.
LIVE_SCRIPT = r'''
import ctypes, json, sys, threading
try:
    import sysconfig
    ft = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
except ImportError:
    ft = False
rows = json.loads(sys.argv[1])
debug = hasattr(sys, "gettotalrefcount")
mi = sys.version_info
best = None
for r in rows:
    a, b = r["version_min"], r["version_max"]
    if (a >> 24, (a >> 16) & 255) != (mi[0], mi[1]):
        continue
    if r["debug"] != debug or r["free_threaded"] != ft:
        continue
    m = mi[2]
    d = max((a >> 8 & 255) - m, m - (b >> 8 & 255), 0)
    if best is None or d <= best[0]:
        best = (d, r)
if best is None:
    print("NOROW")
    sys.exit(0)
L = best[1]
api = ctypes.pythonapi
api.PyThreadState_Get.restype = ctypes.c_void_p

def rd(addr, t=ctypes.c_void_p):
    return t.from_address(addr).value

bad = []

def check(name, ok):
    if not ok:
        bad.append(name)

ts = api.PyThreadState_Get()
interp = rd(ts + L["tstate_interp"])
if L["runtime_interpreters_head"] >= 0:
    rt = ctypes.addressof(ctypes.c_char.in_dll(api, "_PyRuntime"))
    check("runtime_interpreters_head",
          rd(rt + L["runtime_interpreters_head"]) == interp)
    check("runtime_interpreters_main",
          rd(rt + L["runtime_interpreters_main"]) == interp)
    check("runtime_initialized",
          rd(rt + L["runtime_initialized"], ctypes.c_int) == 1)
    check("runtime_finalizing", rd(rt + L["runtime_finalizing"]) is None)
    if L["runtime_tstate_current"] >= 0:
        check("runtime_tstate_current",
              rd(rt + L["runtime_tstate_current"]) == ts)
    if L["runtime_gil_locked"] >= 0:
        check("runtime_gil_locked",
              rd(rt + L["runtime_gil_locked"], ctypes.c_int) == 1)
        check("runtime_gil_last_holder",
              rd(rt + L["runtime_gil_last_holder"]) == ts)
if L["interp_gil"] >= 0 and not ft:
    gil = rd(interp + L["interp_gil"])
    check("gil_locked", rd(gil + L["gil_locked"], ctypes.c_int) == 1)
    check("gil_last_holder", rd(gil + L["gil_last_holder"]) == ts)
check("interp_tstate_head", rd(interp + L["interp_tstate_head"]) == ts)
check("interp_modules", rd(interp + L["interp_modules"]) == id(sys.modules))
check("interp_sysdict", rd(interp + L["interp_sysdict"]) == id(sys.__dict__))
check("tstate_next", rd(ts + L["tstate_next"]) is None)
try:
    import _thread as thread
except ImportError:
    import thread
check("tstate_thread_id",
      rd(ts + L["tstate_thread_id"], ctypes.c_ulong) == thread.get_ident())
if L["tstate_native_thread_id"] >= 0:
    check("tstate_native_thread_id",
          rd(ts + L["tstate_native_thread_id"], ctypes.c_ulong)
          == threading.get_native_id())

def frame_check():
    # While rd() runs, the innermost frame is rd's and this one is next.
    co = frame_check.__code__
    if L["tstate_frame"] >= 0:
        cur = rd(ts + L["tstate_frame"])
        check("frame_f_code", rd(cur + L["frame_f_code"]) == id(rd.__code__))
        check("frame_f_back", rd(cur + L["frame_f_back"])
              == id(sys._getframe()))
    else:
        if L["tstate_cframe"] >= 0:
            cur = rd(rd(ts + L["tstate_cframe"]) + L["cframe_current_frame"])
        else:
            cur = rd(ts + L["tstate_current_frame"])
        check("iframe_code", rd(cur + L["iframe_code"]) == id(rd.__code__))
        prev = rd(cur + L["iframe_previous"])
        check("iframe_previous", rd(prev + L["iframe_code"]) == id(co))
    c = id(co)
    check("code_co_name", rd(c + L["code_co_name"]) == id(co.co_name))
    check("code_co_filename",
          rd(c + L["code_co_filename"]) == id(co.co_filename))
    check("code_co_firstlineno", rd(c + L["code_co_firstlineno"],
                                    ctypes.c_int) == co.co_firstlineno)
    check("code_co_argcount",
          rd(c + L["code_co_argcount"], ctypes.c_int) == co.co_argcount)
    check("code_co_flags",
          rd(c + L["code_co_flags"], ctypes.c_int) == co.co_flags)
    if L["code_co_qualname"] >= 0:
        check("code_co_qualname",
              rd(c + L["code_co_qualname"]) == id(co.co_qualname))

frame_check()
t = (b"bytes!", 1)
check("bytes_ob_sval", ctypes.string_at(id(t[0]) + L["bytes_ob_sval"], 6)
      == t[0])
check("tuple_ob_item", rd(id(t) + L["tuple_ob_item"]) == id(t[0]))
check("object_ob_type", rd(id(t) + L["object_ob_type"]) == id(tuple))
check("object_ob_size",
      rd(id(t) + L["object_ob_size"], ctypes.c_ssize_t) == 2)
check("type_tp_name",
      ctypes.string_at(rd(id(tuple) + L["type_tp_name"])) == b"tuple")
if L["unicode_ascii_data"] >= 0:
    s = "".join(["hel", "lo"])
    check("unicode_ascii_data",
          ctypes.string_at(id(s) + L["unicode_ascii_data"], 5) == b"hello")
    check("unicode_length",
          rd(id(s) + L["unicode_length"], ctypes.c_ssize_t) == 5)
    class S(str):
        pass
    # A str subclass instance is a non-compact ("legacy") string.
    u = S(u"\u20acuro")
    check("unicode_legacy_data",
          ctypes.string_at(rd(id(u) + L["unicode_legacy_data"]), 2)
          == b"\xac\x20")
else:
    u = u"\u20acuro"
    check("unicode_length",
          rd(id(u) + L["unicode_length"], ctypes.c_ssize_t) == 4)
    w = L["py2_unicode_size"]
    check("unicode_legacy_data",
          ctypes.string_at(rd(id(u) + L["unicode_legacy_data"]), w)
          == b"\xac\x20" + b"\0" * (w - 2))
print("BAD " + " ".join(bad) if bad else "OK %s" % L["source"])
'''


def interpreters():
    """Interpreters to check: pyenv builds and Debian's /usr/bin ones."""
    found = []
    root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    if shutil.which("pyenv"):
        r = subprocess.run(["pyenv", "root"], capture_output=True, text=True)
        root = r.stdout.strip() or root
    for d in sorted(glob.glob(os.path.join(root, "versions", "*", "bin"))):
        for name in ("python3", "python2", "python"):
            if os.access(os.path.join(d, name), os.X_OK):
                found.append(os.path.join(d, name))
                break
    found += sorted(p for p in glob.glob("/usr/bin/python[23].*")
                    if re.search(r"python\d\.\d+d?$", p))
    return found


@pytest.mark.parametrize("python", interpreters() or [None])
def test_live_interpreter(python):
    if python is None:
        pytest.skip("no Python interpreters found to check against")
    r = subprocess.run([python, "-c", LIVE_SCRIPT, json.dumps(ROWS)],
                       capture_output=True, text=True, timeout=60)
    if "No module named" in r.stderr and "ctypes" in r.stderr:
        pytest.skip("%s has no ctypes" % python)
    assert r.returncode == 0, "%s crashed (rc %d): %s" % (
        python, r.returncode, r.stderr)
    out = r.stdout.strip()
    if out == "NOROW":
        pytest.skip("no table row for %s" % python)
    assert out.startswith("OK"), "%s: fields wrong: %s" % (python, out)
