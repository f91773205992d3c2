/* linetab against libdw on real compressed debug files: for addresses all
 * over every function of the file, linetab must give what libdw gives
 * (dwarf_addrdie + dwarf_getsrc_die, what dwfl_module_getsrc does) or
 * defer to it, never something else.  The files: the debug file of the
 * host's libc (apt package libc6-dbg) and, when the sid chroot of the
 * pytest suite is there, those of its interpreters (python3.X-dbg). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <elfutils/libdw.h>
#include <fcntl.h>
#include <gelf.h>

#include "elf/buildid.h"
#include "elf/elffile.h"
#include "elf/linetab.h"
#include "util/err.h"

#define SID "/var/cache/snakescope/sid"

/* The separate debug file of the ELF file at path, under root, by its
 * build-id; false when there is none. */
static bool debug_file_of(const char *root, const char *path, char *out,
			  size_t len)
{
	struct elf_file f;
	struct err e = { 0 };
	uint8_t id[64];
	char hex[130];
	size_t n;

	if (elf_file_open(&f, path, path, &e))
		return false;
	n = elf_build_id(&f, id, sizeof(id));
	elf_file_close(&f);
	if (n < 2)
		return false;
	build_id_hex(id, n, hex, sizeof(hex));
	snprintf(out, len, "%s/usr/lib/debug/.build-id/%.2s/%s.debug", root,
		 hex, hex + 2);
	return access(out, R_OK) == 0;
}

struct tally {
	size_t n, same, asked;
};

static void check_addr(struct linetab *lt, Dwarf *dw, uint64_t a,
		       struct tally *t)
{
	const char *want = NULL;
	char *got = NULL;
	int want_line = 0, got_line = 0;
	enum linetab_answer r;
	Dwarf_Die die;

	if (dwarf_addrdie(dw, a, &die)) {
		Dwarf_Line *ln = dwarf_getsrc_die(&die, a);

		if (ln) {
			want = dwarf_linesrc(ln, NULL, NULL);
			dwarf_lineno(ln, &want_line);
		}
	}
	r = linetab_find(lt, a, &got, &got_line);
	t->n++;
	if (r == LINETAB_ASK_LIBDW) {
		t->asked++;
		return;
	}
	if (r == LINETAB_NONE && want)
		fail_msg("0x%llx: linetab has no line, libdw %s:%d",
			 (unsigned long long)a, want, want_line);
	if (r == LINETAB_FOUND && (!want || strcmp(want, got) ||
				   want_line != got_line))
		fail_msg("0x%llx: linetab %s:%d, libdw %s:%d",
			 (unsigned long long)a, got, got_line,
			 want ? want : "(none)", want_line);
	t->same++;
	free(got);
}

/* At most this many symbols per file: each lookup runs a whole line
 * sequence, often a whole compilation unit's. */
#define MAX_SYMBOLS 4000

/* Start, middle and last byte of functions spread over the file. */
static void check_symbols(struct linetab *lt, Dwarf *dw, struct tally *t)
{
	Elf *elf = dwarf_getelf(dw);
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(elf, scn))) {
		size_t n, stride;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB ||
		    !sh.sh_entsize)
			continue;
		d = elf_getdata(scn, NULL);
		n = sh.sh_size / sh.sh_entsize;
		stride = n / MAX_SYMBOLS + 1;
		for (size_t i = 0; d && i < n; i += stride) {
			GElf_Sym s;

			if (!gelf_getsym(d, (int)i, &s) || !s.st_value ||
			    GELF_ST_TYPE(s.st_info) != STT_FUNC)
				continue;
			check_addr(lt, dw, s.st_value, t);
			if (s.st_size > 1) {
				check_addr(lt, dw, s.st_value + s.st_size / 2,
					   t);
				check_addr(lt, dw, s.st_value + s.st_size - 1,
					   t);
			}
		}
	}
}

static bool check_file(const char *debug)
{
	struct linetab *lt = linetab_open(debug);
	struct tally t = { 0 };
	Dwarf *dw;
	int fd;

	if (!lt)
		return false;
	fd = open(debug, O_RDONLY);
	assert_true(fd >= 0);
	dw = dwarf_begin(fd, DWARF_C_READ);
	assert_non_null(dw);
	check_symbols(lt, dw, &t);
	dwarf_end(dw);
	close(fd);
	linetab_close(lt);
	print_message("%s: %zu addresses, %zu as libdw, %zu left to it\n",
		      debug, t.n, t.same, t.asked);
	/* Debian's files are DWARF 5 throughout: linetab answers. */
	assert_true(t.n > 100);
	assert_true(t.asked * 100 < t.n);
	return true;
}

static void test_host_libc(void **state)
{
	static const char *const libcs[] = {
		"/lib/x86_64-linux-gnu/libc.so.6",
		"/usr/lib/x86_64-linux-gnu/libc.so.6",
	};
	char debug[512];

	(void)state;
	for (size_t i = 0; i < sizeof(libcs) / sizeof(libcs[0]); i++) {
		if (debug_file_of("", libcs[i], debug, sizeof(debug))) {
			assert_true(check_file(debug));
			return;
		}
	}
	print_message("libc's debug file is not installed (apt package "
		      "libc6-dbg: bash tests/setup.sh)\n");
	skip();
}

static void test_sid_pythons(void **state)
{
	int checked = 0;

	(void)state;
	for (int minor = 13; minor <= 15; minor++) {
		char exe[128], debug[512];

		snprintf(exe, sizeof(exe), SID "/usr/bin/python3.%d", minor);
		if (debug_file_of(SID, exe, debug, sizeof(debug)))
			checked += check_file(debug);
	}
	if (!checked) {
		print_message("no compressed debug file of a sid python in "
			      SID " (bash tests/setup.sh)\n");
		skip();
	}
}

/* A debug file whose DWARF is not compressed is libdw's: this test
 * binary is built with -g and no compression. */
static void test_uncompressed_is_libdw(void **state)
{
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	(void)state;
	assert_true(n > 0);
	self[n] = 0;
	assert_null(linetab_open(self));
	assert_null(linetab_open("/nonexistent/file.debug"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_libc),
		cmocka_unit_test(test_sid_pythons),
		cmocka_unit_test(test_uncompressed_is_libdw),
	};

	elf_version(EV_CURRENT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
