#!/usr/bin/env python3
"""Write the seed corpus of fuzz_core (tests/fuzz/corpus_core/): small
synthetic x86-64 ELF cores with every note the reader parses, and a few
damaged variants.  Rerun to regenerate; the output is deterministic."""
import os
import struct
import sys

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus_core")


def note(name, ntype, desc):
    n = name + b"\0"
    pad = lambda b: b + b"\0" * (-len(b) % 4)
    return struct.pack("<III", len(n), len(desc), ntype) + pad(n) + pad(desc)


def prstatus(tid, sig, fs_base):
    b = bytearray(336)
    struct.pack_into("<iii", b, 0, sig, 0, 0)
    struct.pack_into("<h", b, 12, sig)
    struct.pack_into("<i", b, 32, tid)
    struct.pack_into("<Q", b, 112 + 21 * 8, fs_base)
    return bytes(b)


def prpsinfo(pid, comm):
    b = bytearray(136)
    struct.pack_into("<i", b, 24, pid)
    b[40:40 + len(comm)] = comm
    return bytes(b)


def nt_file(entries, page=4096):
    d = struct.pack("<QQ", len(entries), page)
    for start, end, off, _ in entries:
        d += struct.pack("<QQQ", start, end, off)
    for *_, name in entries:
        d += name + b"\0"
    return d


def core(loads, notes):
    """loads: [(vaddr, memsz, bytes)]."""
    phnum = len(loads) + 1
    hdr = 64 + 56 * phnum
    notes_blob = b"".join(notes)
    off = hdr + len(notes_blob)
    off += -off % 4096
    ph = struct.pack("<IIQQQQQQ", 4, 0, hdr, 0, 0, len(notes_blob), 0, 4)
    body = b""
    for va, memsz, data in loads:
        ph += struct.pack("<IIQQQQQQ", 1, 6, off + len(body), va, 0, len(data), memsz, 4096)
        body += data + b"\0" * (-len(data) % 4096)
    eh = b"\x7fELF\x02\x01\x01" + b"\0" * 9 + struct.pack(
        "<HHIQQQIHHHHHH", 4, 62, 1, 0, 64, 0, 0, 64, 56, phnum, 64, 0, 0)
    blob = eh + ph + notes_blob
    blob += b"\0" * (off - len(blob))
    return blob + body


def main():
    os.makedirs(OUT, exist_ok=True)
    exe = b"/usr/bin/python3.11"
    files = [(0x400000, 0x401000, 0, exe), (0x401000, 0x403000, 1, exe),
             (0x7f0000000000, 0x7f0000002000, 0, b"/lib/libpython3.11.so.1.0")]
    elf_page = b"\x7fELF\x02\x01\x01" + b"\0" * 4089
    auxv = struct.pack("<QQQQ", 9, 0x401010, 0, 0)  # AT_ENTRY
    siginfo = struct.pack("<iiiiQ", 11, 0, 1, 0, 0) + b"\0" * 104
    notes = [note(b"CORE", 1, prstatus(100, 11, 0x7f00000100)),
             note(b"CORE", 1, prstatus(101, 0, 0x7f00000200)),
             note(b"CORE", 3, prpsinfo(100, b"python3")),
             note(b"CORE", 0x53494749, siginfo),
             note(b"CORE", 6, auxv),
             note(b"CORE", 0x46494C45, nt_file(files)),
             note(b"LINUX", 0x202, b"\0" * 64)]
    loads = [(0x400000, 0x1000, elf_page), (0x401000, 0x2000, b""),
             (0x7f0000000000, 0x2000, elf_page), (0x7f00000000, 0x4000, b"\xab" * 0x4000)]
    good = core(loads, notes)
    seeds = {
        "good": good,
        "truncated": good[:len(good) - 0x3000],
        "notes-only": core([], notes),
        "no-threads": core(loads, notes[2:]),
        "bad-ntfile": core(loads, notes[:5] + [note(b"CORE", 0x46494C45,
                                                    struct.pack("<QQ", 1 << 40, 4096))]),
        "ntfile-raw": nt_file(files),
    }
    for name, blob in seeds.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(blob)
    return 0


if __name__ == "__main__":
    sys.exit(main())
