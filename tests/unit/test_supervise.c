/* Tests for the pure parts of `snakescope run`: which signals are crashes
 * to report (target/supervise.c) and their names in reports
 * (target/signames.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <string.h>

#include "target/signames.h"
#include "target/supervise.h"

static siginfo_t info(int sig, int code, pid_t from)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	si.si_signo = sig;
	si.si_code = code;
	si.si_pid = from;
	return si;
}

static void test_crashes(void **state)
{
	siginfo_t si;

	(void)state;
	si = info(SIGSEGV, SEGV_MAPERR, 0);
	assert_true(supervise_is_crash(SIGSEGV, &si, 100));
	si = info(SIGABRT, SI_TKILL, 100); /* abort() */
	assert_true(supervise_is_crash(SIGABRT, &si, 100));
	si = info(SIGFPE, FPE_INTDIV, 0);
	assert_true(supervise_is_crash(SIGFPE, &si, 100));
	si = info(SIGSEGV, SI_USER, 200); /* kill -SEGV from elsewhere */
	assert_true(supervise_is_crash(SIGSEGV, &si, 100));
	si = info(SIGTRAP, TRAP_BRKPT, 0); /* int3 in the program */
	assert_true(supervise_is_crash(SIGTRAP, &si, 100));
}

static void test_not_crashes(void **state)
{
	siginfo_t si;

	(void)state;
	si = info(SIGSEGV, SI_USER, 100); /* a wrapper dying like its child */
	assert_false(supervise_is_crash(SIGSEGV, &si, 100));
	si = info(SIGTRAP, SI_USER, 200); /* a debugger's */
	assert_false(supervise_is_crash(SIGTRAP, &si, 100));
	si = info(SIGTERM, SI_USER, 200);
	assert_false(supervise_is_crash(SIGTERM, &si, 100));
	si = info(SIGINT, SI_KERNEL, 0);
	assert_false(supervise_is_crash(SIGINT, &si, 100));
}

static void test_names(void **state)
{
	const char *name, *what;
	char buf[32];

	(void)state;
	assert_string_equal(signal_name(SIGSEGV, buf, sizeof(buf)), "SIGSEGV");
	assert_string_equal(signal_name(200, buf, sizeof(buf)), "signal 200");
	si_code_name(SIGSEGV, SEGV_MAPERR, &name, &what);
	assert_string_equal(name, "SEGV_MAPERR");
	si_code_name(SIGFPE, FPE_INTDIV, &name, &what);
	assert_string_equal(name, "FPE_INTDIV");
	assert_string_equal(what, "integer divide by zero");
	/* Positive codes are per signal: 1 is SEGV_MAPERR, not ILL_ILLOPC. */
	si_code_name(SIGILL, 1, &name, &what);
	assert_string_equal(name, "ILL_ILLOPC");
	si_code_name(SIGABRT, SI_TKILL, &name, &what);
	assert_string_equal(name, "SI_TKILL");
	si_code_name(SIGSEGV, SI_KERNEL, &name, &what);
	assert_string_equal(name, "SI_KERNEL");
	si_code_name(SIGSEGV, 99, &name, &what);
	assert_string_equal(name, "?");
	assert_true(signal_has_addr(SIGSEGV, SEGV_MAPERR));
	assert_false(signal_has_addr(SIGSEGV, SI_USER));
	assert_false(signal_has_addr(SIGABRT, SI_TKILL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crashes),
		cmocka_unit_test(test_not_crashes),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
