/* Tests for stack/sample.c: a dump refilled after dump_reset() reuses its
 * arrays and starts every thread and frame clean. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "stack/sample.h"

static void fill(struct dump *d, size_t threads, size_t frames)
{
	for (size_t i = 0; i < threads; i++) {
		struct thread_stack *t = dump_add_thread(d);

		for (size_t k = 0; k < frames; k++)
			thread_add_frame(t)->line = (int)k;
		if (i == 0)
			thread_set_error(t, "torn %zu", frames);
	}
}

static void test_reset_reuses_arrays(void **state)
{
	struct dump d = { 0 };
	struct thread_stack *threads;
	struct frame *frames0;

	(void)state;
	fill(&d, 3, 50);
	threads = d.threads;
	frames0 = d.threads[0].frames;
	dump_reset(&d);
	assert_int_equal(d.nthreads, 0);
	fill(&d, 2, 40);
	assert_ptr_equal(d.threads, threads);
	assert_ptr_equal(d.threads[0].frames, frames0);
	assert_int_equal(d.threads[1].nframes, 40);
	assert_string_equal(d.threads[0].error, "torn 40");
	assert_null(d.threads[1].error);
	assert_int_equal(d.threads[1].tid, -1);
	/* More threads than kept: new slots start empty. */
	dump_reset(&d);
	fill(&d, 5, 3);
	for (size_t i = 0; i < 5; i++) {
		assert_int_equal(d.threads[i].nframes, 3);
		assert_int_equal(d.threads[i].frames[2].line, 2);
		assert_null(d.threads[i].frames[0].function);
	}
	/* Released with fewer threads in use than kept. */
	dump_reset(&d);
	fill(&d, 1, 1);
	dump_release(&d);
	assert_null(d.threads);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reset_reuses_arrays),
	};

	return cmocka_run_group_tests_name("sample", tests, NULL, NULL);
}
