/* Tests for stack/profile.c (the record trie) and the collapsed writer:
 * frames interned by content whatever the caller's string addresses,
 * counts summed per path, tables growing through many stacks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "out/profile_out.h"
#include "stack/profile.h"

static void test_interning(void **state)
{
	struct profile p;
	char a[16], b[16];
	uint32_t f1, f2, f3;

	(void)state;
	profile_init(&p);
	strcpy(a, "hot");
	strcpy(b, "hot");
	f1 = profile_frame(&p, a, "x.py", 3);
	f2 = profile_frame(&p, b, "x.py", 3);   /* other address, same text */
	f3 = profile_frame(&p, a, "x.py", 4);
	assert_int_equal(f1, f2);
	assert_int_not_equal(f1, f3);
	/* A buffer reused with other text is not mistaken for the old one
	 * through profile_frame_text. */
	strcpy(a, "cold");
	assert_int_not_equal(profile_frame_text(&p, a, "x.py", 3), f1);
	assert_string_equal(p.frames[f1].function, "hot");
	profile_release(&p);
}

static void test_counts_and_collapsed(void **state)
{
	struct profile p;
	struct profile_meta m = { .title = "t", .rate_hz = 100 };
	struct err e = { 0 };
	uint32_t mod, a, b, path[3];
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	profile_init(&p);
	mod = profile_frame(&p, "<module>", "m.py", 1);
	a = profile_frame(&p, "a", "m.py", 5);
	b = profile_frame(&p, "b;x", "m.py", 9);
	path[0] = mod;
	path[1] = a;
	profile_add(&p, path, 2, 3);
	profile_add(&p, path, 2, 1);
	path[1] = b;
	profile_add(&p, path, 2, 2);
	profile_add(&p, path, 1, 1);
	assert_int_equal(p.samples, 7);
	assert_int_equal(p.nodes[0].total, 7);
	f = open_memstream(&buf, &len);
	assert_int_equal(out_collapsed(f, &p, &m, &e), 0);
	fclose(f);
	assert_non_null(strstr(buf, "<module> (m.py:1);a (m.py:5) 4\n"));
	assert_non_null(strstr(buf, "<module> (m.py:1);b_x (m.py:9) 2\n"));
	assert_non_null(strstr(buf, "<module> (m.py:1) 1\n"));
	free(buf);
	profile_release(&p);
}

static void test_many_stacks(void **state)
{
	struct profile p;
	char name[32];
	uint32_t path[4];
	uint64_t sum = 0;

	(void)state;
	profile_init(&p);
	for (int i = 0; i < 20000; i++) {
		snprintf(name, sizeof(name), "f%d", i % 5000);
		path[0] = profile_frame_text(&p, "<module>", "m.py", 1);
		path[1] = profile_frame_text(&p, name, "m.py", i % 7);
		path[2] = profile_frame_text(&p, "leaf", "m.py", i % 3);
		profile_add(&p, path, 3, 1);
	}
	assert_int_equal(p.samples, 20000);
	for (size_t n = 1; n < p.nnodes; n++)
		sum += p.nodes[n].self;
	assert_int_equal(sum, 20000);
	profile_release(&p);
}

/* profile_add_path gives the same trie as profile_add, whatever the
 * previous path shared with the new one (nothing, a prefix, all of it,
 * longer, shorter). */
static void test_add_path_same_as_add(void **state)
{
	struct profile a, b;
	struct profile_path last = { 0 };
	uint32_t fr[8], path[12];
	unsigned seed = 12345;

	(void)state;
	profile_init(&a);
	profile_init(&b);
	for (int i = 0; i < 8; i++) {
		char name[8];

		snprintf(name, sizeof(name), "f%d", i);
		fr[i] = profile_frame_text(&a, name, "m.py", i);
		assert_int_equal(profile_frame_text(&b, name, "m.py", i), fr[i]);
	}
	for (int i = 0; i < 5000; i++) {
		size_t n;

		seed = seed * 1103515245 + 12345;
		n = 1 + (seed >> 16) % 12;
		for (size_t k = 0; k < n; k++) {
			seed = seed * 1103515245 + 12345;
			/* Mostly the same frame: long shared prefixes. */
			path[k] = (seed >> 16) % 4 ? fr[k % 8] : fr[(seed >> 20) % 8];
		}
		profile_add(&a, path, n, 1 + i % 3);
		profile_add_path(&b, &last, path, n, 1 + i % 3);
	}
	assert_int_equal(a.samples, b.samples);
	assert_int_equal(a.nnodes, b.nnodes);
	for (size_t n = 0; n < a.nnodes; n++) {
		assert_int_equal(a.nodes[n].frame, b.nodes[n].frame);
		assert_int_equal(a.nodes[n].parent, b.nodes[n].parent);
		assert_int_equal(a.nodes[n].self, b.nodes[n].self);
		assert_int_equal(a.nodes[n].total, b.nodes[n].total);
	}
	profile_path_release(&last);
	profile_release(&a);
	profile_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_interning),
		cmocka_unit_test(test_counts_and_collapsed),
		cmocka_unit_test(test_many_stacks),
		cmocka_unit_test(test_add_path_same_as_add),
	};

	return cmocka_run_group_tests_name("profile", tests, NULL, NULL);
}
