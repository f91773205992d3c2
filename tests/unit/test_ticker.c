/* Tests for cmd/ticker.c: which ticks are late or missed, and that a wait
 * never ends early and ends at once when interrupted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cmd/ticker.h"
#include "util/clock.h"

#define US 1000LL
#define MS 1000000LL

static void test_on_time_and_late(void **state)
{
	struct ticker t;
	struct tick k;

	(void)state;
	ticker_init(&t, 1000, 0);
	k = ticker_take(&t, 0);
	assert_int_equal(k.missed, 0);
	assert_false(k.late);
	ticker_advance(&t);
	/* Just under a period after it was due: on time. */
	k = ticker_take(&t, 1 * MS + 999 * US);
	assert_false(k.late);
	ticker_advance(&t);
	/* A period after: late, and nothing skipped. */
	k = ticker_take(&t, 3 * MS);
	assert_true(k.late);
	assert_int_equal(k.missed, 0);
	assert_int_equal(t.next, 2 * MS);
}

static void test_catch_up_window(void **state)
{
	struct ticker t;
	struct tick k;

	(void)state;
	/* 1 kHz: the window is CATCHUP_MIN_NS (10 ms), not two periods. */
	ticker_init(&t, 1000, 0);
	k = ticker_take(&t, 10 * MS);
	assert_int_equal(k.missed, 0);
	k = ticker_take(&t, 50 * MS);
	assert_int_equal(k.missed, 40);
	assert_int_equal(t.next, 40 * MS);
	assert_true(k.late);
	/* 10 Hz: two periods. */
	ticker_init(&t, 10, 0);
	k = ticker_take(&t, 200 * MS);
	assert_int_equal(k.missed, 0);
	k = ticker_take(&t, 450 * MS);
	assert_int_equal(k.missed, 2);
	assert_int_equal(t.next, 200 * MS);
}

static void test_wait_never_early(void **state)
{
	static const volatile sig_atomic_t no = 0;
	struct ticker t;
	int64_t until;

	(void)state;
	ticker_init(&t, 10000, monotonic_ns());
	until = monotonic_ns() + 3 * US;          /* spun */
	ticker_wait(&t, until, &no);
	assert_true(monotonic_ns() >= until);
	until = monotonic_ns() + 2 * MS;          /* slept */
	until = monotonic_ns() + 2 * MS;
	ticker_wait(&t, until, &no);
	assert_true(monotonic_ns() >= until);
}

static void test_wait_interrupted(void **state)
{
	static const volatile sig_atomic_t yes = 1;
	struct ticker t;
	int64_t start = monotonic_ns();

	(void)state;
	ticker_init(&t, 10000, start);
	ticker_wait(&t, start + 10000 * MS, &yes);
	assert_true(monotonic_ns() - start < 5000 * MS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_on_time_and_late),
		cmocka_unit_test(test_catch_up_window),
		cmocka_unit_test(test_wait_never_early),
		cmocka_unit_test(test_wait_interrupted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
