/* Line numbers from a code object's line table, in pure C.
 *
 * The three on-disk formats, and what CPython does with each:
 *
 *   PY_LT_LNOTAB (2.7, 3.6-3.9), co_lnotab: (addr delta, line delta) byte
 *	pairs, both relative to the previous pair, starting from (0,
 *	co_firstlineno).  Walk the pairs adding the addr delta; stop at the
 *	first pair whose address is > offset, else add its line delta.
 *	3.6-3.9 line deltas are signed bytes, 2.7's are unsigned (the enum has
 *	one value for both: linetable_addr2line() reads PY_LT_LNOTAB as
 *	3.6-3.9, use linetable_addr2line_py27() for 2.7).  Never "no line".
 *
 *   PY_LT_LINETABLE (3.10), co_linetable: (addr delta, signed line delta)
 *	pairs, each describing the range [start, start + addr delta) of the
 *	code.  A line delta of -128 means "no line" for that range and leaves
 *	the running line unchanged; zero-length ranges only carry line deltas.
 *	An offset equal to a range's end belongs to the next range; an offset
 *	past the last range has no line.
 *
 *   PY_LT_LOCATIONS (3.11-3.15), PEP 657 location table: entries start with
 *	a byte with bit 7 set, bits 3-6 a code, bits 0-2 the length in 2-byte
 *	code units minus one.  Line delta: codes 0-9 (short forms) 0, 10-12
 *	(one-line forms) code - 10, 13 (no columns) and 14 (long form) a
 *	signed varint after the first byte, 15 "no location" (line -1, running
 *	line unchanged).  Ranges as for 3.10.
 *
 * For every kind a negative offset gives co_firstlineno, as CPython's
 * PyCode_Addr2Line() does (a frame that has not started yet has
 * f_lasti/prev_instr one unit before the code).
 *
 * The table is untrusted memory from the target: nothing outside
 * table[0..len) is read, the work is linear in len, and no input makes the
 * arithmetic overflow.  Malformed tables give -1 or a best effort.
 */
#ifndef SS_PY_LINETABLE_H
#define SS_PY_LINETABLE_H

#include <stddef.h>
#include <stdint.h>

#include "py/layout.h"

/* Line number for the instruction at byte offset `offset` into the code's
 * bytecode (co_code / co_code_adaptive; always bytes, callers convert 3.10's
 * instruction-unit f_lasti by multiplying by 2).  table/len is the raw bytes
 * of co_lnotab (<=3.9), co_linetable (3.10) or co_linetable (3.11+ location
 * table); firstlineno is co_firstlineno.  Returns the line (>=0; 3.10+/3.11+
 * can legitimately give "no line", return -1 for that), never reads outside
 * table[0..len), and is bounded by len (table bytes are untrusted target
 * memory: malformed input gives -1 or a best effort, never a crash/loop).
 *
 * PY_LT_LNOTAB is taken as the 3.6-3.9 format (signed line deltas); see
 * linetable_addr2line_py27() for 2.7. */
int linetable_addr2line(enum py_linetable_kind kind, const uint8_t *table,
			size_t len, int firstlineno, int offset);

/* The same for 2.7's co_lnotab, whose line deltas are unsigned bytes. */
int linetable_addr2line_py27(const uint8_t *table, size_t len,
			     int firstlineno, int offset);

#endif
