/* NT_FILE parsing and core memory reads on hand-made inputs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "target/core.h"

static size_t build(uint8_t *buf, uint64_t count, uint64_t page,
		    const uint64_t *triples, const char *names, size_t names_len)
{
	size_t n = 0;

	memcpy(buf, &count, 8);
	memcpy(buf + 8, &page, 8);
	n = 16;
	memcpy(buf + n, triples, (size_t)count * 24);
	n += (size_t)count * 24;
	memcpy(buf + n, names, names_len);
	return n + names_len;
}

static void test_ntfile_ok(void **state)
{
	const uint64_t t[] = { 0x400000, 0x401000, 0, 0x401000, 0x403000, 1 };
	const char names[] = "/usr/bin/python3\0/usr/bin/python3";
	uint8_t buf[256];
	struct maps m;
	struct err e = { 0 };
	size_t n = build(buf, 2, 4096, t, names, sizeof(names));

	(void)state;
	assert_int_equal(core_parse_nt_file(buf, n, &m, &e), 0);
	assert_int_equal(m.n, 2);
	assert_string_equal(m.v[1].path, "/usr/bin/python3");
	assert_int_equal(m.v[1].offset, 4096);
	assert_int_equal(m.v[1].end, 0x403000);
	maps_release(&m);
}

static void test_ntfile_bad(void **state)
{
	const uint64_t t[] = { 0x400000, 0x401000, 0 };
	const uint64_t inverted[] = { 0x401000, 0x400000, 0 };
	uint8_t buf[256];
	struct maps m;
	struct err e = { 0 };
	size_t n;

	(void)state;
	/* more entries than bytes */
	n = build(buf, 1, 4096, t, "x", 2);
	memcpy(buf, &(uint64_t){ 1000 }, 8);
	assert_int_equal(core_parse_nt_file(buf, n, &m, &e), SS_ECORRUPT);
	assert_non_null(strstr(e.msg, "NT_FILE"));
	/* page size not a power of two */
	n = build(buf, 1, 3000, t, "x", 2);
	assert_int_equal(core_parse_nt_file(buf, n, &m, &e), SS_ECORRUPT);
	/* a name without its NUL */
	n = build(buf, 1, 4096, t, "abc", 3);
	assert_int_equal(core_parse_nt_file(buf, n, &m, &e), SS_ECORRUPT);
	/* start >= end */
	n = build(buf, 1, 4096, inverted, "x", 2);
	assert_int_equal(core_parse_nt_file(buf, n, &m, &e), SS_ECORRUPT);
	/* too short */
	assert_int_equal(core_parse_nt_file(buf, 8, &m, &e), SS_ECORRUPT);
	assert_int_equal(m.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ntfile_ok),
		cmocka_unit_test(test_ntfile_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
