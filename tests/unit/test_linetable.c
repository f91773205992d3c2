/* Tests for py/linetable.c.
 *
 * Ground truth is linetable_fixtures.h: every offset of every code object in
 * a set of awkward functions, answered by each real interpreter's own
 * PyCode_Addr2Line() (tools/gen-linetable-fixtures).  On top of that, small
 * hand-made tables pin down each format's rules, and malformed input
 * (truncated tables, random bytes, huge offsets) must neither crash nor read
 * outside the table; the suite is also run under ASan/UBSan.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "py/linetable.h"
#include "linetable_fixtures.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* An exact-size heap copy, so that ASan catches a read one past the end
 * (NULL for an empty table, as a caller may pass). */
static uint8_t *dup_table(const uint8_t *t, size_t len)
{
	uint8_t *p;

	if (!len)
		return NULL;
	p = malloc(len);
	assert_non_null(p);
	memcpy(p, t, len);
	return p;
}

static int line_of(enum py_linetable_kind kind, int py27, const uint8_t *t,
		   size_t len, int first, int offset)
{
	if (py27)
		return linetable_addr2line_py27(t, len, first, offset);
	return linetable_addr2line(kind, t, len, first, offset);
}

static int fx_line(const struct lt_fixture *f, const uint8_t *t, size_t len,
		   int offset)
{
	return line_of(f->kind, f->py27, t, len, f->firstlineno, offset);
}

/* --- interpreter fixtures ------------------------------------------------ */

static void test_fixture(void **state)
{
	const struct lt_fixture *f = *state;
	uint8_t *t = dup_table(f->table, f->table_len);
	size_t r = 0;
	int bad = 0;

	assert_true(f->nruns > 0);
	assert_int_equal(f->runs[0][0], 0);
	for (int off = 0; off < f->ncode; off += f->step) {
		int want, got;

		while (r + 1 < f->nruns && f->runs[r + 1][0] <= off)
			r++;
		want = f->runs[r][1];
		got = fx_line(f, t, f->table_len, off);
		if (got != want && bad++ < 5)
			print_error("%s: offset %d: got %d, interpreter: %d\n",
				    f->name, off, got, want);
	}
	for (size_t i = 0; i < f->nextra; i++) {
		int off = f->extra[i][0], want = f->extra[i][1];
		int got = fx_line(f, t, f->table_len, off);

		if (got != want && bad++ < 10)
			print_error("%s: offset %d: got %d, interpreter: %d\n",
				    f->name, off, got, want);
	}
	free(t);
	assert_int_equal(bad, 0);
}

/* Where the walk of t[0..len) ends: the first offset past the last range
 * (3.10+), or for lnotab the address of the last pair (answers from there
 * on are all the same). */
static long covered_end(const struct lt_fixture *f, size_t len)
{
	long end = 0;
	size_t i;

	switch (f->kind) {
	case PY_LT_LNOTAB:
	case PY_LT_LINETABLE:
		for (i = 0; i + 1 < len; i += 2)
			end += f->table[i];
		return end;
	case PY_LT_LOCATIONS:
		/* The first byte starts an entry even without bit 7. */
		for (i = 0; i < len; i++)
			if (i == 0 || (f->table[i] & 0x80))
				end += ((f->table[i] & 7) + 1) * 2;
		return end;
	}
	return 0;
}

/* Cutting a real table at an entry boundary leaves the answers for the
 * ranges still there untouched; past them 3.10+ says "no line", lnotab
 * repeats the last line. */
static int check_cut(const struct lt_fixture *f, size_t cut)
{
	uint8_t *t = dup_table(f->table, cut);
	long end = covered_end(f, cut);
	int tail = -1, bad = 0;
	int offs[64];
	int n = 0;

	if (f->kind == PY_LT_LNOTAB)
		tail = fx_line(f, t, cut, INT_MAX);
	for (int off = 0; off < f->ncode && n < 48; off += 7 * f->step)
		offs[n++] = off;
	offs[n++] = (int)end - f->step;
	offs[n++] = (int)end - 1;
	offs[n++] = (int)end;
	offs[n++] = (int)end + f->step;
	offs[n++] = INT_MAX;
	for (int i = 0; i < n; i++) {
		int off = offs[i], got = fx_line(f, t, cut, off), want;

		if (off < 0)
			continue;
		if (off < end)
			want = fx_line(f, f->table, f->table_len, off);
		else if (f->kind == PY_LT_LNOTAB)
			want = tail;
		else
			want = -1;
		if (got != want && bad++ < 5)
			print_error("%s cut at %zu: offset %d: got %d, "
				    "want %d\n", f->name, cut, off, got, want);
	}
	free(t);
	return bad;
}

static int is_boundary(const struct lt_fixture *f, size_t i)
{
	if (f->kind == PY_LT_LOCATIONS)
		return i == 0 || i == f->table_len || (f->table[i] & 0x80);
	return i % 2 == 0;
}

static void test_fixture_cuts(void **state)
{
	const struct lt_fixture *f = *state;
	size_t nb = 0, every;
	int bad = 0;

	for (size_t i = 0; i <= f->table_len; i++)
		nb += is_boundary(f, i);
	every = nb > 24 ? nb / 24 : 1;
	/* (Not for the hand-made malformed table: there a varint runs on into
	 * the next entry, so cutting there changes the entry before.) */
	for (size_t i = 0, b = 0; i <= f->table_len; i++) {
		if (!is_boundary(f, i) || strstr(f->name, "malformed"))
			continue;
		if (b++ % every == 0 || i == f->table_len)
			bad += check_cut(f, i);
	}
	assert_int_equal(bad, 0);
	/* Every prefix, cut anywhere (mid-entry too): no crash, no read past
	 * the cut, a sane value. */
	for (size_t cut = 0; cut <= f->table_len; cut++) {
		uint8_t *t = dup_table(f->table, cut);
		int offs[] = { INT_MIN, -1, 0, f->ncode / 2, f->ncode - f->step,
			       f->ncode, INT_MAX };

		for (size_t i = 0; i < NELEM(offs); i++)
			assert_true(fx_line(f, t, cut, offs[i]) >= -1);
		free(t);
	}
}

/* --- hand-made tables: each format's rules ------------------------------- */

static int lnotab(const uint8_t *t, size_t len, int first, int off)
{
	return linetable_addr2line(PY_LT_LNOTAB, t, len, first, off);
}

static int lt310(const uint8_t *t, size_t len, int first, int off)
{
	return linetable_addr2line(PY_LT_LINETABLE, t, len, first, off);
}

static int loc(const uint8_t *t, size_t len, int first, int off)
{
	return linetable_addr2line(PY_LT_LOCATIONS, t, len, first, off);
}

static void test_lnotab_rules(void **state)
{
	/* line 10 from 0, 11 from 6, 12 from 14 */
	static const uint8_t t[] = { 6, 1, 8, 1 };
	/* 0xff: -1 on 3.6+, +255 on 2.7; odd trailing byte ignored */
	static const uint8_t s[] = { 2, 0xff, 2, 0x80, 9 };
	/* (0, x) pairs apply from offset 0 */
	static const uint8_t z[] = { 0, 3, 0, 4, 4, 1 };

	(void)state;
	for (int off = 0; off < 6; off++)
		assert_int_equal(lnotab(t, sizeof(t), 10, off), 10);
	for (int off = 6; off < 14; off++)
		assert_int_equal(lnotab(t, sizeof(t), 10, off), 11);
	assert_int_equal(lnotab(t, sizeof(t), 10, 14), 12);
	assert_int_equal(lnotab(t, sizeof(t), 10, INT_MAX), 12);
	assert_int_equal(lnotab(t, sizeof(t), 10, -1), 10);
	assert_int_equal(lnotab(t, sizeof(t), 10, INT_MIN), 10);
	assert_int_equal(lnotab(NULL, 0, 10, 0), 10);
	assert_int_equal(lnotab(NULL, 0, 10, 1000), 10);
	assert_int_equal(lnotab(t, 1, 10, 1000), 10);

	assert_int_equal(lnotab(s, sizeof(s), 500, 1), 500);
	assert_int_equal(lnotab(s, sizeof(s), 500, 2), 499);
	assert_int_equal(lnotab(s, sizeof(s), 500, 4), 499 - 128);
	assert_int_equal(lnotab(s, sizeof(s), 500, 1000), 499 - 128);
	assert_int_equal(linetable_addr2line_py27(s, sizeof(s), 500, 2), 755);
	assert_int_equal(linetable_addr2line_py27(s, sizeof(s), 500, 4),
			 755 + 128);

	assert_int_equal(lnotab(z, sizeof(z), 1, 0), 8);
	assert_int_equal(lnotab(z, sizeof(z), 1, 3), 8);
	assert_int_equal(lnotab(z, sizeof(z), 1, 4), 9);
}

static void test_linetable310_rules(void **state)
{
	/* [0,4) line 20; [4,8) no line; empty range +5; [8,12) line 26;
	 * then nothing: no line. */
	static const uint8_t t[] = { 4, 0, 4, 0x80, 0, 5, 4, 1 };
	/* Leading empty ranges, then a range that continues the -128 one. */
	static const uint8_t u[] = { 0, 0x80, 0, 127, 0, 127, 6, 0x80, 2, 1 };

	(void)state;
	for (int off = 0; off < 4; off++)
		assert_int_equal(lt310(t, sizeof(t), 20, off), 20);
	for (int off = 4; off < 8; off++)
		assert_int_equal(lt310(t, sizeof(t), 20, off), -1);
	for (int off = 8; off < 12; off++)
		assert_int_equal(lt310(t, sizeof(t), 20, off), 26);
	assert_int_equal(lt310(t, sizeof(t), 20, 12), -1);
	assert_int_equal(lt310(t, sizeof(t), 20, INT_MAX), -1);
	assert_int_equal(lt310(t, sizeof(t), 20, -2), 20);
	assert_int_equal(lt310(t, sizeof(t), 20, INT_MIN), 20);
	assert_int_equal(lt310(NULL, 0, 20, 0), -1);
	assert_int_equal(lt310(NULL, 0, 20, -1), 20);

	assert_int_equal(lt310(u, sizeof(u), 1, 0), -1);
	assert_int_equal(lt310(u, sizeof(u), 1, 5), -1);
	assert_int_equal(lt310(u, sizeof(u), 1, 6), 256);
	assert_int_equal(lt310(u, sizeof(u), 1, 7), 256);
	assert_int_equal(lt310(u, sizeof(u), 1, 8), -1);

	/* Odd length: the last pair's line delta is the bytes' NUL, 0. */
	assert_int_equal(lt310(t, 7, 20, 9), 25);
	/* A table ending in empty ranges: nothing after them. */
	assert_int_equal(lt310(t, 6, 20, 8), -1);
}

#define LOC(code, units) (0x80 | ((code) << 3) | ((units) - 1))

static void test_locations_rules(void **state)
{
	static const uint8_t t[] = {
		LOC(15, 1),                     /* [0,2)   no location */
		LOC(13, 2), 6,                  /* [2,6)   +3 -> 103 */
		LOC(10, 1), 1, 2,               /* [6,8)   +0 -> 103 */
		LOC(11, 1), 1, 2,               /* [8,10)  +1 -> 104 */
		LOC(15, 8),                     /* [10,26) none, line kept */
		LOC(12, 1), 1, 2,               /* [26,28) +2 -> 106 */
		LOC(5, 3), 0x21,                /* [28,34) short -> 106 */
		LOC(14, 1), 13, 0, 1, 2,        /* [34,36) long -6 -> 100 */
		LOC(13, 1), 0x40 | 0, 2,        /* [36,38) +64 -> 164 */
		LOC(13, 1), 0x40 | 17, 0x40 | 28, 2, /* [38,40) -5000 */
	};

	(void)state;
	assert_int_equal(loc(t, sizeof(t), 100, 0), -1);
	assert_int_equal(loc(t, sizeof(t), 100, 1), -1);
	assert_int_equal(loc(t, sizeof(t), 100, 2), 103);
	assert_int_equal(loc(t, sizeof(t), 100, 5), 103);
	assert_int_equal(loc(t, sizeof(t), 100, 6), 103);
	assert_int_equal(loc(t, sizeof(t), 100, 8), 104);
	assert_int_equal(loc(t, sizeof(t), 100, 10), -1);
	assert_int_equal(loc(t, sizeof(t), 100, 25), -1);
	assert_int_equal(loc(t, sizeof(t), 100, 26), 106);
	assert_int_equal(loc(t, sizeof(t), 100, 33), 106);
	assert_int_equal(loc(t, sizeof(t), 100, 34), 100);
	assert_int_equal(loc(t, sizeof(t), 100, 36), 164);
	/* 164 - 5000 < 0: not a line */
	assert_int_equal(loc(t, sizeof(t), 100, 38), -1);
	assert_int_equal(loc(t, sizeof(t), 10000, 38), 10064 - 5000);
	assert_int_equal(loc(t, sizeof(t), 100, 40), -1);
	assert_int_equal(loc(t, sizeof(t), 100, INT_MAX), -1);
	assert_int_equal(loc(t, sizeof(t), 100, -2), 100);
	assert_int_equal(loc(t, sizeof(t), 100, INT_MIN), 100);
	assert_int_equal(loc(NULL, 0, 100, 0), -1);
	/* The line delta of a cut-off entry reads as 0 (CPython: the NUL). */
	assert_int_equal(loc(t, 2, 100, 2), 100);
}

static void test_bad_args(void **state)
{
	static const uint8_t t[] = { 2, 1, 2, 1 };

	(void)state;
	/* A non-NULL length with a NULL table is an empty table. */
	assert_int_equal(lnotab(NULL, 100, 5, 10), 5);
	assert_int_equal(lt310(NULL, 100, 5, 10), -1);
	assert_int_equal(loc(NULL, 100, 5, 10), -1);
	assert_int_equal(linetable_addr2line_py27(NULL, 100, 5, 10), 5);
	assert_int_equal(linetable_addr2line((enum py_linetable_kind)42, t,
					     sizeof(t), 5, 0), -1);
	/* Negative first lines are not lines. */
	assert_int_equal(lnotab(t, sizeof(t), -5, 0), -1);
	assert_int_equal(loc(t, sizeof(t), -5, -1), -1);
}

/* --- malformed input ----------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Bytes that steer the walkers into their less common paths. */
static const uint8_t interesting[] = {
	0x00, 0x01, 0x7f, 0x80, 0x81, 0xff, 0x40, 0x41, 0x7e, 0xc0,
	LOC(13, 1), LOC(14, 8), LOC(15, 1), LOC(15, 8), LOC(10, 1), LOC(12, 2),
};

static int random_offset(void)
{
	switch (rng() % 6) {
	case 0:
		return INT_MAX;
	case 1:
		return INT_MIN;
	case 2:
		return -(int)(rng() % 4);
	default:
		return (int)(rng() % 4096);
	}
}

static void check_all_kinds(const uint8_t *t, size_t len, int first, int off)
{
	static const enum py_linetable_kind kinds[] = {
		PY_LT_LNOTAB, PY_LT_LINETABLE, PY_LT_LOCATIONS,
	};

	for (size_t k = 0; k < NELEM(kinds); k++) {
		int a = linetable_addr2line(kinds[k], t, len, first, off);

		assert_true(a >= -1);
		assert_int_equal(a, linetable_addr2line(kinds[k], t, len, first,
							off));
		if (off < 0 && first >= 0)
			assert_int_equal(a, first);
	}
	assert_true(linetable_addr2line_py27(t, len, first, off) >= -1);
}

static void test_random_tables(void **state)
{
	(void)state;
	for (int iter = 0; iter < 40000; iter++) {
		size_t len = rng() % 300;
		uint8_t *t = malloc(len); /* exact size, even 0, for ASan */
		int mode = (int)(rng() % 3);
		int first;

		if (len)
			assert_non_null(t);
		for (size_t i = 0; i < len; i++) {
			uint64_t x = rng();

			if (mode == 0)
				t[i] = (uint8_t)x;
			else if (mode == 1)
				t[i] = interesting[(x >> 8) %
						   NELEM(interesting)];
			else /* mostly well-formed-looking, sometimes not */
				t[i] = (x & 0xf) ? (uint8_t)(x >> 8) & 0x3f
						 : (uint8_t)(x >> 16);
		}
		switch (rng() % 4) {
		case 0:
			first = INT_MAX;
			break;
		case 1:
			first = (int)(rng() % 10);
			break;
		default:
			first = (int)(rng() % 100000);
		}
		for (int j = 0; j < 4; j++)
			check_all_kinds(t, len, first, random_offset());
		free(t);
	}
}

/* Huge offsets and offsets far past the ranges, on every real table. */
static void test_huge_offsets(void **state)
{
	static const int offs[] = {
		INT_MAX, INT_MAX - 1, INT_MAX / 2, 1 << 20, 65536, 65535,
		-1, -2, INT_MIN, INT_MIN + 1,
	};

	(void)state;
	for (size_t i = 0; i < LT_NFIXTURES; i++) {
		const struct lt_fixture *f = &lt_fixtures[i];
		uint8_t *t = dup_table(f->table, f->table_len);
		int last = fx_line(f, t, f->table_len, f->ncode + 100000);

		for (size_t j = 0; j < NELEM(offs); j++) {
			int got = fx_line(f, t, f->table_len, offs[j]);

			if (offs[j] < 0)
				assert_int_equal(got, f->firstlineno);
			else
				assert_int_equal(got, last);
		}
		free(t);
	}
}

/* Worst cases for work per byte: every byte a varint-carrying entry whose
 * continuation bits run on; every pair an empty 3.10 range; line deltas that
 * would overflow an int.  Must finish quickly and give -1 or a line. */
static void test_pathological(void **state)
{
	size_t len = 1u << 20;
	uint8_t *t = malloc(len);

	(void)state;
	assert_non_null(t);

	memset(t, LOC(13, 1), len); /* 0xe8: also a varint continuation */
	for (int off = 0; off < 3; off++)
		check_all_kinds(t, len, 1, off == 2 ? INT_MAX : off);

	memset(t, 0xf7, len); /* code 14, long; continuation set */
	check_all_kinds(t, len, 1, INT_MAX);

	for (size_t i = 0; i < len; i += 2) {
		t[i] = 0;
		t[i + 1] = 127;
	}
	check_all_kinds(t, len, INT_MAX - 5, INT_MAX);
	assert_int_equal(lnotab(t, len, INT_MAX - 5, 0), -1);
	assert_int_equal(lt310(t, len, 1, 0), -1);

	/* svarint +2^30-ish per entry: the running line must saturate, not
	 * overflow (UBSan would see a signed overflow). */
	for (size_t i = 0; i + 6 < len; i += 7) {
		t[i] = LOC(13, 1);
		t[i + 1] = 0x40;
		t[i + 2] = 0x40;
		t[i + 3] = 0x40;
		t[i + 4] = 0x40;
		t[i + 5] = 0x40;
		t[i + 6] = 0x3e;
	}
	assert_int_equal(loc(t, len / 7 * 7, 1, 0), 1 + (1 << 30));
	assert_int_equal(loc(t, len / 7 * 7, 1, 2), -1);
	assert_int_equal(loc(t, len / 7 * 7, 1, (int)(len / 7) * 2 - 2), -1);
	check_all_kinds(t, len, INT_MAX, INT_MAX);

	/* 255-byte address steps: offsets near INT_MAX are reached without
	 * overflowing the address either. */
	memset(t, 0xff, len);
	check_all_kinds(t, len, 1, INT_MAX);
	free(t);
}

int main(void)
{
	const struct CMUnitTest rules[] = {
		cmocka_unit_test(test_lnotab_rules),
		cmocka_unit_test(test_linetable310_rules),
		cmocka_unit_test(test_locations_rules),
		cmocka_unit_test(test_bad_args),
		cmocka_unit_test(test_random_tables),
		cmocka_unit_test(test_huge_offsets),
		cmocka_unit_test(test_pathological),
	};
	size_t n = 2 * LT_NFIXTURES;
	struct CMUnitTest *fx = calloc(n, sizeof(*fx));
	char **names = calloc(LT_NFIXTURES, sizeof(*names));
	int failed;

	if (!fx || !names)
		return 1;
	for (size_t i = 0; i < LT_NFIXTURES; i++) {
		void *st = (void *)(uintptr_t)&lt_fixtures[i];
		size_t len = strlen(lt_fixtures[i].name) + sizeof("cut ");

		names[i] = malloc(len);
		if (!names[i])
			return 1;
		snprintf(names[i], len, "cut %s", lt_fixtures[i].name);
		fx[2 * i] = (struct CMUnitTest){ .name = lt_fixtures[i].name,
			.test_func = test_fixture, .initial_state = st };
		fx[2 * i + 1] = (struct CMUnitTest){ .name = names[i],
			.test_func = test_fixture_cuts, .initial_state = st };
	}
	failed = cmocka_run_group_tests_name("linetable", rules, NULL, NULL);
	failed += _cmocka_run_group_tests("linetable_fixtures", fx, n, NULL,
					  NULL);
	for (size_t i = 0; i < LT_NFIXTURES; i++)
		free(names[i]);
	free(names);
	free(fx);
	return failed ? 1 : 0;
}
