/* Pure parts of `maps`: grouping maps lines into objects, system paths,
 * module names, the chroot prefix, /proc parsing, verdict rules. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "so/filter.h"
#include "so/object.h"
#include "so/verdict.h"
#include "target/openers.h"
#include "target/rootview.h"
#include "target/starttime.h"

static struct mapping mp(uint64_t start, uint64_t end, const char *perms,
			 uint64_t off, uint64_t ino, const char *path,
			 bool deleted)
{
	struct mapping m = { 0 };

	m.start = start;
	m.end = end;
	m.offset = off;
	m.inode = ino;
	m.dev_major = 0xfe;
	memcpy(m.perms, perms, 5);
	m.path = path ? strdup(path) : NULL;
	m.deleted = deleted;
	return m;
}

static void test_grouping(void **state)
{
	struct mapping v[] = {
		mp(0x400000, 0x401000, "r--p", 0, 7, "/usr/bin/python3", false),
		mp(0x401000, 0x402000, "r-xp", 0x1000, 7, "/usr/bin/python3",
		   false),
		mp(0x500000, 0x521000, "rw-p", 0, 0, "[heap]", false),
		/* an extension: R, RX, R, RELRO (same offset), RW, then .bss */
		mp(0x7f00000, 0x7f01000, "r--p", 0, 9, "/jail/srv/a.so", false),
		mp(0x7f01000, 0x7f02000, "r-xp", 0x1000, 9, "/jail/srv/a.so",
		   false),
		mp(0x7f02000, 0x7f03000, "r--p", 0x2000, 9, "/jail/srv/a.so",
		   false),
		mp(0x7f03000, 0x7f04000, "r--p", 0x2000, 9, "/jail/srv/a.so",
		   false),
		mp(0x7f04000, 0x7f05000, "rw-p", 0x3000, 9, "/jail/srv/a.so",
		   false),
		mp(0x7f05000, 0x7f06000, "rw-p", 0, 0, NULL, false),
		/* the same file loaded a second time */
		mp(0x7f10000, 0x7f11000, "r--p", 0, 9, "/jail/srv/a.so", false),
		mp(0x7fa0000, 0x7fa1000, "rw-s", 0, 3, "/memfd:x", true),
		mp(0x7fb0000, 0x7fb1000, "r-xp", 0, 0, "[vdso]", false),
	};
	struct maps m = { v, sizeof(v) / sizeof(v[0]) };
	struct so_objects o;

	(void)state;
	so_objects_build(&m, "/jail", &o);
	assert_int_equal(o.n, 3);
	assert_string_equal(o.v[0].view, "/usr/bin/python3");
	assert_int_equal(o.v[0].nmaps, 2);
	assert_string_equal(o.v[1].path, "/jail/srv/a.so");
	assert_string_equal(o.v[1].view, "/srv/a.so");
	assert_int_equal(o.v[1].nmaps, 5);
	assert_int_equal(o.v[1].maps[3].offset, 0x2000);
	assert_int_equal(o.v[2].nmaps, 1);
	assert_int_equal(o.v[2].maps[0].start, 0x7f10000);
	so_objects_release(&o);
	for (size_t i = 0; i < m.n; i++)
		free(v[i].path);
}

static void test_system_paths(void **state)
{
	(void)state;
	assert_true(so_path_is_system("/usr/lib/x86_64-linux-gnu/libc.so.6"));
	assert_true(so_path_is_system("/lib64/ld-linux-x86-64.so.2"));
	assert_true(so_path_is_system("/usr/bin/python3.11"));
	assert_false(so_path_is_system(
		"/usr/lib/python3.11/lib-dynload/_ssl.cpython-311-x86_64-"
		"linux-gnu.so"));
	assert_false(so_path_is_system(
		"/usr/lib/python3/dist-packages/yaml/_yaml.so"));
	assert_false(so_path_is_system("/usr/lib/python3.13/foo.so"));
	assert_false(so_path_is_system("/usr/local/lib/libfoo.so"));
	assert_false(so_path_is_system("/srv/venv/lib/python3.12/site-"
				       "packages/numpy.libs/libopenblas.so"));
	assert_false(so_path_is_system("/root/.pyenv/versions/3.12.1/lib/"
				       "libpython3.12.so.1.0"));
	assert_false(so_path_is_system("/usrx/lib/a.so"));
}

static void test_module_names(void **state)
{
	char m[32];

	(void)state;
	assert_true(so_module_name("/x/_ssl.cpython-312-x86_64-linux-gnu.so",
				   m, sizeof(m)));
	assert_string_equal(m, "_ssl");
	assert_true(so_module_name("/x/spam.abi3.so", m, sizeof(m)));
	assert_string_equal(m, "spam");
	assert_true(so_module_name("spam.so", m, sizeof(m)));
	assert_string_equal(m, "spam");
	assert_false(so_module_name("/x/libc.so.6", m, sizeof(m)));
	assert_false(so_module_name("/x/.so", m, sizeof(m)));
	assert_false(so_module_name("/x/a_very_long_module_name_indeed.so", m,
				    8));
	assert_true(so_is_libpython("/r/lib/libpython3.12.so.1.0"));
	assert_false(so_is_libpython("/r/lib/python3.12/x.so"));
}

static void test_strip_root(void **state)
{
	(void)state;
	assert_string_equal(path_strip_root("/var/jail", "/var/jail/usr/a"),
			    "/usr/a");
	assert_string_equal(path_strip_root("/var/jail/", "/var/jail/usr/a"),
			    "/usr/a");
	assert_string_equal(path_strip_root("/var/jail", "/var/jailx/a"),
			    "/var/jailx/a");
	assert_string_equal(path_strip_root("/", "/usr/a"), "/usr/a");
	assert_string_equal(path_strip_root("", "/usr/a"), "/usr/a");
	assert_string_equal(path_strip_root("/var/jail", "/var/jail"),
			    "/var/jail");
}

static void test_parse_stat(void **state)
{
	unsigned long long t = 0;
	const char *ok = "42 (a) b) c) S 1 42 42 0 -1 4194304 100 0 0 0 1 2 "
			 "0 0 20 0 1 0 123456 1000 10";

	(void)state;
	assert_int_equal(procfs_parse_starttime(ok, &t), 0);
	assert_int_equal(t, 123456);
	assert_int_equal(procfs_parse_starttime("42 (a) S 1 2", &t), -1);
	assert_int_equal(procfs_parse_starttime("no paren", &t), -1);
}

static void test_fdinfo(void **state)
{
	(void)state;
	assert_true(fdinfo_writable("pos:\t0\nflags:\t0100001\nmnt_id:\t1\n"));
	assert_true(fdinfo_writable("pos:\t0\nflags:\t02100002\n"));
	assert_false(fdinfo_writable("pos:\t0\nflags:\t0100000\n"));
	assert_false(fdinfo_writable("pos:\t0\n"));
	assert_false(fdinfo_writable("xflags:\t01\n"));
}

static void test_verdicts(void **state)
{
	struct so_evidence ev = { 0 };
	struct timespec start = { 1000, 0 }, c = { 1000, 10000000 };

	(void)state;
	assert_int_equal(so_verdict_of(&ev), SO_OK);
	ev.path_other = true;
	assert_int_equal(so_verdict_of(&ev), SO_REPLACED);
	ev.path_other = false;
	ev.path_missing = true;
	assert_int_equal(so_verdict_of(&ev), SO_DELETED);
	ev.modified_after_start = true;
	assert_int_equal(so_verdict_of(&ev), SO_REWRITTEN);
	ev.bad_slots = 3;
	assert_int_equal(so_verdict_of(&ev), SO_CORRUPTED);
	ev.modified_after_start = false;
	ev.path_missing = false;
	/* lost relocations are themselves proof of a rewrite */
	assert_true(so_evidence_rewritten(&ev));
	assert_string_equal(so_verdict_name(SO_CORRUPTED), "corrupted");
	/* within the start time's uncertainty: before */
	assert_false(so_changed_after(&c, &start));
	c.tv_nsec = 30000000;
	assert_true(so_changed_after(&c, &start));
	c.tv_sec = 999;
	assert_false(so_changed_after(&c, &start));
}

static void test_modified_after_mapping(void **state)
{
	struct timespec start = { 1000, 0 }, early = { 500, 0 },
			born = { 1100, 0 }, m = { 1101, 0 };

	(void)state;
	/* no birth time, or born before the start: the start decides */
	assert_true(so_modified_after_mapping(&m, &start, NULL));
	assert_true(so_modified_after_mapping(&m, &start, &early));
	/* installed after the start: its own writing is no rewrite */
	assert_true(so_born_after(&born, &start));
	assert_false(so_modified_after_mapping(&m, &start, &born));
	m.tv_sec = 1102;
	m.tv_nsec = 1;
	assert_true(so_modified_after_mapping(&m, &start, &born));
	assert_false(so_born_after(NULL, &start));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grouping),
		cmocka_unit_test(test_system_paths),
		cmocka_unit_test(test_module_names),
		cmocka_unit_test(test_strip_root),
		cmocka_unit_test(test_parse_stat),
		cmocka_unit_test(test_fdinfo),
		cmocka_unit_test(test_verdicts),
		cmocka_unit_test(test_modified_after_mapping),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
