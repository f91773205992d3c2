/* Line number decoding for co_lnotab / co_linetable; see linetable.h for the
 * formats.  Each walker follows what the matching CPython version's
 * PyCode_Addr2Line() computes, with bounds checks where CPython trusts its
 * own bytes. */
#include "py/linetable.h"

#include <limits.h>
#include <stdbool.h>

/* Running line numbers are int64_t, saturated at +-LINE_CLAMP, so no table
 * can overflow them; a final value outside [0, INT_MAX] is reported as -1. */
#define LINE_CLAMP ((int64_t)1 << 40)

/* Bytes of one varint that are decoded: 6 chunks of 6 bits cover the 32 bits
 * CPython keeps.  Longer runs only occur in malformed tables, and stopping
 * keeps the walk linear in the table size. */
#define VARINT_MAX_BYTES 6

static int64_t add_line(int64_t line, int64_t delta)
{
	line += delta;
	if (line > LINE_CLAMP)
		return LINE_CLAMP;
	if (line < -LINE_CLAMP)
		return -LINE_CLAMP;
	return line;
}

static int to_line(int64_t line)
{
	if (line < 0 || line > INT_MAX)
		return -1;
	return (int)line;
}

static int sbyte(uint8_t b)
{
	return b < 128 ? b : (int)b - 256;
}

/* Byte i of the table; CPython's bytes objects end in a NUL that its
 * walkers may read one past a truncated entry, so past the end reads 0. */
static uint8_t byte_at(const uint8_t *t, size_t len, size_t i)
{
	return i < len ? t[i] : 0;
}

/* 2.7 and 3.6-3.9: a pair applies from its address on, so stop at the first
 * pair whose address is past the offset.  An odd trailing byte is ignored
 * (CPython walks len / 2 pairs). */
static int lnotab_addr2line(const uint8_t *t, size_t len, int firstlineno,
			    int offset, bool signed_deltas)
{
	int64_t addr = 0, line = firstlineno;

	for (size_t i = 0; i + 1 < len; i += 2) {
		int ldelta;

		addr += t[i];
		if (addr > offset)
			break;
		ldelta = signed_deltas ? sbyte(t[i + 1]) : t[i + 1];
		line = add_line(line, ldelta);
	}
	return to_line(line);
}

/* 3.10: ranges [start, end) from (addr delta, line delta) pairs. */
static int linetable310_addr2line(const uint8_t *t, size_t len,
				  int firstlineno, int offset)
{
	int64_t start, end = 0, computed = firstlineno, line = -1;
	size_t i = 0;

	if (offset < 0)
		return to_line(firstlineno);
	/* Next range while the current one ends at or before the offset;
	 * a range is one pair plus any that follow while it is empty. */
	while (end <= offset) {
		do {
			int ldelta;

			if (i >= len)
				return -1;
			start = end;
			end += t[i];
			ldelta = sbyte(byte_at(t, len, i + 1));
			i += 2;
			if (ldelta == -128) {
				line = -1;
			} else {
				computed = add_line(computed, ldelta);
				line = computed;
			}
		} while (start == end);
	}
	return line < 0 ? -1 : to_line(line);
}

/* PEP 657 signed varint starting at t[i]: 6-bit chunks, least significant
 * first, bit 6 set on all but the last; then bit 0 is the sign. */
static int64_t read_svarint(const uint8_t *t, size_t len, size_t i)
{
	uint32_t val = 0;
	unsigned shift = 0;
	uint8_t b;
	int n = 0;

	do {
		b = byte_at(t, len, i++);
		val |= (uint32_t)(b & 63) << shift;
		shift += 6;
	} while ((b & 64) && ++n < VARINT_MAX_BYTES);
	if (val & 1)
		return -(int64_t)(val >> 1);
	return val >> 1;
}

/* Line delta of the entry whose first byte is t[i]. */
static int64_t location_line_delta(const uint8_t *t, size_t len, size_t i)
{
	int code = (t[i] >> 3) & 15;

	switch (code) {
	case 13: /* no column info */
	case 14: /* long form */
		return read_svarint(t, len, i + 1);
	case 10: /* one-line forms: delta 0, 1, 2 */
	case 11:
	case 12:
		return code - 10;
	default: /* 0-9 short forms, 15 no location */
		return 0;
	}
}

/* 3.11+: one range per entry, (t[i] & 7) + 1 code units of 2 bytes. */
static int locations_addr2line(const uint8_t *t, size_t len, int firstlineno,
			       int offset)
{
	int64_t end = 0, computed = firstlineno, line = -1;
	size_t i = 0;

	if (offset < 0)
		return to_line(firstlineno);
	while (end <= offset) {
		uint8_t b;

		if (i >= len)
			return -1;
		b = t[i];
		computed = add_line(computed, location_line_delta(t, len, i));
		/* Code 15 with the entry bit: no location, line unchanged. */
		line = (b >> 3) == 0x1f ? -1 : computed;
		end += ((b & 7) + 1) * 2;
		/* The next entry starts at the next byte with bit 7 set. */
		do
			i++;
		while (i < len && !(t[i] & 128));
	}
	return line < 0 ? -1 : to_line(line);
}

int linetable_addr2line(enum py_linetable_kind kind, const uint8_t *table,
			size_t len, int firstlineno, int offset)
{
	if (!table)
		len = 0;
	switch (kind) {
	case PY_LT_LNOTAB:
		return lnotab_addr2line(table, len, firstlineno, offset, true);
	case PY_LT_LINETABLE:
		return linetable310_addr2line(table, len, firstlineno, offset);
	case PY_LT_LOCATIONS:
		return locations_addr2line(table, len, firstlineno, offset);
	}
	return -1;
}

int linetable_addr2line_py27(const uint8_t *table, size_t len,
			     int firstlineno, int offset)
{
	if (!table)
		len = 0;
	return lnotab_addr2line(table, len, firstlineno, offset, false);
}
