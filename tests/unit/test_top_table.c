/* Tests for top's counters (stack/top_agg.c) and table (out/top_table.c):
 * own and total per function and per line, total counted once per sample
 * under recursion, threads merged, split and filtered, the window
 * forgetting old seconds, sort keys, the name filter, and the text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "out/top_table.h"
#include "stack/profile.h"
#include "stack/top_agg.h"

struct fixture {
	struct profile p;
	struct top_agg a;
	struct top_table t;
	uint32_t mod, main_, rec1, rec2, leaf;
};

static void setup(struct fixture *f, unsigned window)
{
	memset(f, 0, sizeof(*f));
	profile_init(&f->p);
	top_agg_init(&f->a, window);
	f->mod = profile_frame(&f->p, "<module>", "/x/app.py", 30);
	f->main_ = profile_frame(&f->p, "main", "/x/app.py", 20);
	f->rec1 = profile_frame(&f->p, "walk", "/x/app.py", 10);
	f->rec2 = profile_frame(&f->p, "walk", "/x/app.py", 11);
	f->leaf = profile_frame(&f->p, "leaf", "/x/lib.py", 5);
}

static void teardown(struct fixture *f)
{
	top_table_release(&f->t);
	top_agg_release(&f->a);
	profile_release(&f->p);
}

static const struct top_row *row(const struct top_table *t, const char *fn,
				 int line)
{
	for (size_t i = 0; i < t->nrows; i++)
		if (!strcmp(t->rows[i].function, fn) &&
		    (line < 0 || t->rows[i].line == line))
			return &t->rows[i];
	return NULL;
}

static void add(struct fixture *f, uint32_t th, const uint32_t *path,
		size_t n, int times)
{
	for (int i = 0; i < times; i++)
		top_agg_add(&f->a, &f->p, th, path, n);
}

static void test_recursion_counted_once(void **state)
{
	struct fixture f;
	struct top_view v = { .sort = TOP_SORT_TOTAL_PCT,
			      .thread = TOP_THREADS_MERGED, .period = 0.01 };
	const struct top_row *r;
	uint32_t th;

	(void)state;
	setup(&f, 5);
	th = top_agg_thread(&f.a, 1, 100, 1, "MainThread");
	/* walk recurses through two lines of itself. */
	uint32_t deep[] = { f.mod, f.main_, f.rec1, f.rec2, f.rec1, f.leaf };
	uint32_t shallow[] = { f.mod, f.main_ };
	add(&f, th, deep, 6, 3);
	add(&f, th, shallow, 2, 1);
	top_table_build(&f.t, &f.a, &f.p, &v);
	assert_int_equal(f.t.win_samples, 4);
	r = row(&f.t, "walk", -1);
	assert_non_null(r);
	assert_int_equal(r->win.total, 3);     /* not 9 */
	assert_int_equal(r->win.own, 0);
	r = row(&f.t, "leaf", -1);
	assert_int_equal(r->win.own, 3);
	assert_int_equal(r->all.own, 3);
	assert_int_equal(r->line, 5);
	r = row(&f.t, "main", -1);
	assert_int_equal(r->win.own, 1);
	assert_int_equal(r->win.total, 4);
	assert_true(top_row_total_pct(&f.t, r) == 100.0);
	assert_true(top_row_own_pct(&f.t, row(&f.t, "leaf", -1)) == 75.0);
	/* By total: <module> and main (100%) before walk and leaf. */
	assert_int_equal(f.t.nrows, 4);
	assert_string_equal(f.t.rows[0].function, "<module>");
	assert_string_equal(f.t.rows[1].function, "main");
	/* By own: leaf first. */
	v.sort = TOP_SORT_OWN_PCT;
	top_table_build(&f.t, &f.a, &f.p, &v);
	assert_string_equal(f.t.rows[0].function, "leaf");
	assert_string_equal(f.t.rows[1].function, "main");
	/* Lines: walk's two lines, each total 3 (line 10 twice in a path). */
	v.lines = true;
	top_table_build(&f.t, &f.a, &f.p, &v);
	assert_int_equal(f.t.nrows, 5);
	assert_int_equal(row(&f.t, "walk", 10)->win.total, 3);
	assert_int_equal(row(&f.t, "walk", 11)->win.total, 3);
	teardown(&f);
}

static void test_threads_and_filter(void **state)
{
	struct fixture f;
	struct top_view v = { .sort = TOP_SORT_OWN_PCT,
			      .thread = TOP_THREADS_MERGED, .period = 0.01 };
	uint32_t a, b;
	uint32_t pa[2];

	(void)state;
	setup(&f, 5);
	pa[0] = f.mod;
	pa[1] = f.leaf;
	uint32_t pb[] = { f.mod, f.main_ };
	a = top_agg_thread(&f.a, 1, 100, 11, "A");
	b = top_agg_thread(&f.a, 1, 200, 12, NULL);
	assert_int_equal(top_agg_thread(&f.a, 1, 100, 11, NULL), a);
	assert_string_equal(f.a.threads[a].name, "A");
	add(&f, a, pa, 2, 2);
	add(&f, b, pb, 2, 6);
	top_table_build(&f.t, &f.a, &f.p, &v);
	assert_int_equal(row(&f.t, "<module>", -1)->win.total, 8);
	assert_int_equal(f.t.nrows, 3);
	v.thread = TOP_THREADS_SPLIT;
	top_table_build(&f.t, &f.a, &f.p, &v);
	assert_int_equal(f.t.nrows, 4);       /* <module> twice */
	v.thread = (int)a;
	top_table_build(&f.t, &f.a, &f.p, &v);
	assert_int_equal(f.t.nrows, 2);
	assert_int_equal(f.t.win_samples, 2);
	assert_string_equal(f.t.rows[0].function, "leaf");
	assert_true(top_row_own_pct(&f.t, &f.t.rows[0]) == 100.0);
	v.thread = TOP_THREADS_MERGED;
	v.filter = "ea";                      /* leaf only */
	top_table_build(&f.t, &f.a, &f.p, &v);
	assert_int_equal(f.t.nrows, 1);
	assert_string_equal(f.t.rows[0].function, "leaf");
	teardown(&f);
}

static void test_window_and_times(void **state)
{
	struct fixture f;
	struct top_view v = { .sort = TOP_SORT_OWN_PCT,
			      .thread = TOP_THREADS_MERGED, .period = 0.5 };
	uint32_t th;

	(void)state;
	setup(&f, 2);
	uint32_t old[] = { f.mod, f.main_ };
	uint32_t now[] = { f.mod, f.leaf };
	th = top_agg_thread(&f.a, 1, 100, 1, NULL);
	add(&f, th, old, 2, 10);
	top_agg_advance(&f.a);
	add(&f, th, now, 2, 2);
	top_table_build(&f.t, &f.a, &f.p, &v);
	assert_string_equal(f.t.rows[0].function, "main");
	top_agg_advance(&f.a);            /* main's second leaves the window */
	top_table_build(&f.t, &f.a, &f.p, &v);
	assert_int_equal(f.t.win_samples, 2);
	assert_string_equal(f.t.rows[0].function, "leaf");
	assert_int_equal(row(&f.t, "main", -1)->win.own, 0);
	/* Own time covers the whole run: main first. */
	v.sort = TOP_SORT_OWN_TIME;
	top_table_build(&f.t, &f.a, &f.p, &v);
	assert_string_equal(f.t.rows[0].function, "main");
	assert_int_equal(f.t.rows[0].all.own, 10);
	teardown(&f);
}

static void test_text(void **state)
{
	struct fixture f;
	struct top_view v = { .sort = TOP_SORT_OWN_PCT,
			      .thread = TOP_THREADS_MERGED, .period = 0.01 };
	struct top_status s = { .pid = 42, .command = "python3 app.py",
				.python = "3.12.1", .threads = 1,
				.processes = 1, .rate = 99, .target_rate = 100,
				.error_pct = 0, .gil_pct = 50, .cpu_pct = -1,
				.window = 5 };
	char line[512], *buf = NULL;
	size_t size = 0;
	FILE *out;
	uint32_t th;

	(void)state;
	setup(&f, 5);
	uint32_t path[] = { f.mod, f.leaf };
	th = top_agg_thread(&f.a, 1, 100, 1, NULL);
	add(&f, th, path, 2, 100);
	top_table_build(&f.t, &f.a, &f.p, &v);
	top_table_line(line, sizeof(line), &f.t, &f.a, &f.t.rows[0], &v, 80);
	/* 28 columns of numbers, 28 of function, 23 of place. */
	assert_string_equal(line, "100.0 100.0    1.00    1.00 leaf"
			    "                         lib.py:5");
	assert_true(strlen(line) <= 80);
	/* Narrow: cut, never wider than the screen. */
	top_table_line(line, sizeof(line), &f.t, &f.a, &f.t.rows[0], &v, 40);
	assert_true(strlen(line) <= 40);
	top_table_heading(line, sizeof(line), &v, 60);
	assert_true(strlen(line) <= 60);
	assert_non_null(strstr(line, "*%OWN"));
	out = open_memstream(&buf, &size);
	top_snapshot_print(out, &s, &f.t, &f.a, &v, 0);
	fclose(out);
	assert_non_null(strstr(buf, "pid 42, python 3.12.1"));
	assert_non_null(strstr(buf, "gil: 50.0%, cpu: n/a"));
	assert_non_null(strstr(buf, "\n100.0 100.0    1.00    1.00 leaf "));
	/* A long non-ASCII name is cut between characters, to the width. */
	{
		uint32_t u = profile_frame(&f.p, "\u00fcber_\u00fcber_\u00fcber_\u00fcber_"
					   "\u00fcber_\u00fcber_\u00fcber_lang", "/x/\u00e4.py", 7);
		uint32_t upath[] = { f.mod, u };
		const struct top_row *ur;

		add(&f, th, upath, 2, 200);
		top_table_build(&f.t, &f.a, &f.p, &v);
		ur = row(&f.t, "\u00fcber_\u00fcber_\u00fcber_\u00fcber_\u00fcber_"
			 "\u00fcber_\u00fcber_lang", -1);
		assert_non_null(ur);
		top_table_line(line, sizeof(line), &f.t, &f.a, ur, &v, 60);
		assert_non_null(strstr(line, " \u00fcber_\u00fcber_\u00fcber_.. "));
		assert_non_null(strstr(line, " \u00e4.py:7"));
		assert_int_equal(top_text_cut(line, 60), strlen(line));
		assert_int_equal(top_text_cut("\u00fc\u00fcx", 2), 4);
	}
	free(buf);
	teardown(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_recursion_counted_once),
		cmocka_unit_test(test_threads_and_filter),
		cmocka_unit_test(test_window_and_times),
		cmocka_unit_test(test_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
