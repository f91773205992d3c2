/* Tests for cmd/ticker.c: which ticks are late or missed, when the ticker
 * spins instead of sleeping, and that a wait never ends early. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cmd/ticker.h"

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

static void test_spin_margin(void **state)
{
	struct ticker t;

	(void)state;
	/* 100 Hz: a 50 us lag is nothing, sleep all the way. */
	ticker_init(&t, 100, 0);
	assert_int_equal(ticker_spin_margin(&t, 0), 0);
	/* 10 kHz: spin the last twice-the-lag. */
	ticker_init(&t, 10000, 0);
	assert_int_equal(ticker_spin_margin(&t, 0), 2 * t.wake_lag);
	assert_true(t.wake_lag > 0);
}

static void test_preempted_spin_sleeps_for_a_while(void **state)
{
	struct ticker t;

	(void)state;
	ticker_init(&t, 10000, 0);
	assert_true(ticker_spin_margin(&t, 0) > 0);
	ticker_note_preempted(&t, 5 * MS);
	assert_int_equal(ticker_spin_margin(&t, 6 * MS), 0);
	assert_int_equal(ticker_spin_margin(&t, 500 * MS), 0);
	assert_true(ticker_spin_margin(&t, 2000 * MS) > 0);
}

static void test_wake_lag_rises_and_decays(void **state)
{
	struct ticker t;
	int i;

	(void)state;
	ticker_init(&t, 1000, 0);
	ticker_note_wake(&t, 0, 1 * MS);
	assert_int_equal(t.wake_lag, 1 * MS);
	/* At 1 kHz a 1 ms lag makes the ticker spin... */
	assert_true(ticker_spin_margin(&t, 0) > 0);
	/* ...until enough punctual wake-ups have been seen. */
	for (i = 0; i < 2000 && ticker_spin_margin(&t, 0); i++)
		ticker_note_wake(&t, 0, 10 * US);
	assert_true(i > 100 && i < 2000);
	assert_int_equal(ticker_spin_margin(&t, 0), 0);
	/* An early wake-up (a signal) teaches nothing. */
	ticker_note_wake(&t, 5 * MS, 1 * MS);
	assert_int_equal(ticker_spin_margin(&t, 0), 0);
}

static void test_wait_never_early(void **state)
{
	static const volatile sig_atomic_t no = 0;
	struct ticker t;
	int64_t until;

	(void)state;
	ticker_init(&t, 10000, ticker_now_ns());   /* spins */
	until = ticker_now_ns() + 300 * US;
	ticker_wait(&t, until, &no);
	assert_true(ticker_now_ns() >= until);
	ticker_init(&t, 10, ticker_now_ns());      /* sleeps */
	until = ticker_now_ns() + 2 * MS;
	ticker_wait(&t, until, &no);
	assert_true(ticker_now_ns() >= until);
}

static void test_wait_interrupted(void **state)
{
	static const volatile sig_atomic_t yes = 1;
	struct ticker t;
	int64_t start = ticker_now_ns();

	(void)state;
	ticker_init(&t, 10000, start);
	ticker_wait(&t, start + 10000 * MS, &yes);
	assert_true(ticker_now_ns() - start < 5000 * MS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_on_time_and_late),
		cmocka_unit_test(test_catch_up_window),
		cmocka_unit_test(test_spin_margin),
		cmocka_unit_test(test_preempted_spin_sleeps_for_a_while),
		cmocka_unit_test(test_wake_lag_rises_and_decays),
		cmocka_unit_test(test_wait_never_early),
		cmocka_unit_test(test_wait_interrupted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
