"""Target of bench/maps/run.py (Python 3).

    python target.py EXTDIR WANT

Imports a large part of the standard library (whatever of it is there),
then the generated extension modules bench_000, bench_001, ... from EXTDIR
until the process has WANT ELF objects mapped, says "ready N" on the
inherited pipe $BENCH_READY_FD and parks on a read of stdin.
"""
import importlib
import os
import sys

STDLIB = """
array asyncio base64 binascii bisect bz2 calendar cmath codecs collections
concurrent.futures contextvars csv ctypes curses datetime decimal difflib
email fcntl fractions ftplib functools gzip hashlib heapq hmac html.parser
http.client http.server imaplib ipaddress json locale logging lzma mailbox
math mmap multiprocessing pickle platform poplib queue random re readline
resource select selectors shelve shlex smtplib socket sqlite3 ssl statistics
string struct subprocess syslog tarfile telnetlib tempfile termios textwrap
threading tkinter unicodedata urllib.request uuid xml.dom.minidom
xml.etree.ElementTree xml.parsers.expat xmlrpc.client zipfile zlib
zoneinfo _asyncio _bisect _blake2 _bz2 _codecs_cn _codecs_hk
_codecs_iso2022 _codecs_jp _codecs_kr _codecs_tw _contextvars _crypt _csv
_ctypes _curses _curses_panel _datetime _dbm _decimal _elementtree _gdbm
_hashlib _heapq _json _lsprof _lzma _md5 _multibytecodec _multiprocessing
_opcode _pickle _posixshmem _posixsubprocess _queue _random _sha1 _sha2
_sha256 _sha3 _sha512 _socket _sqlite3 _ssl _statistics _struct _tkinter
_uuid _xxsubinterpreters _xxinterpchannels _zoneinfo audioop grp nis
ossaudiodev spwd xxlimited
""".split()


def mapped_elf_objects():
    seen = set()
    with open("/proc/self/maps") as f:
        for line in f:
            parts = line.split(None, 5)
            if len(parts) == 6 and parts[4] != "0" and parts[5].startswith("/"):
                seen.add((parts[3], parts[4]))
    return len(seen)


def main():
    extdir, want = sys.argv[1], int(sys.argv[2])
    sys.path.insert(0, extdir)
    for name in STDLIB:
        try:
            importlib.import_module(name)
        except Exception:
            pass
    n = 0
    while mapped_elf_objects() < want and os.path.exists(
            os.path.join(extdir, "bench_%03d.so" % n)):
        importlib.import_module("bench_%03d" % n)
        n += 1
    os.write(int(os.environ["BENCH_READY_FD"]),
             ("ready %d %d\n" % (mapped_elf_objects(), n)).encode())
    sys.stdin.buffer.read()


main()
