/* The relocation check's judgement (so_reloc_judge) and DT_RELR decoding
 * (elf_relr_decode): pure functions over synthetic slots and images. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "elf/dynreloc.h"
#include "so/reloc.h"

#define BIAS 0x7f0000000000ull
#define BASE 0x4000ull /* link-time address of the images below */

static void put(uint8_t *img, uint64_t vaddr, uint64_t v)
{
	memcpy(img + (vaddr - BASE), &v, 8);
}

static struct elf_dynreloc rel(uint64_t off, uint32_t type, int64_t addend,
			       uint32_t flags)
{
	struct elf_dynreloc r = { off, addend, type, flags };

	return r;
}

/* A healthy image: every slot relocated.  Nothing is bad. */
static void test_relocated_is_fine(void **state)
{
	uint8_t file[64] = { 0 }, live[64] = { 0 };
	struct elf_dynreloc r[] = {
		rel(BASE + 0, R_X86_64_RELATIVE, 0x1120, 0),
		rel(BASE + 8, R_X86_64_GLOB_DAT, 0, 0),
		rel(BASE + 16, R_X86_64_JUMP_SLOT, 0, 0),
		rel(BASE + 24, R_X86_64_64, 0x10, 0),
	};
	struct so_reloc_result res = { 0 };

	(void)state;
	put(file, BASE + 0, 0x1120);
	put(live, BASE + 0, BIAS + 0x1120);
	put(file, BASE + 8, 0);
	put(live, BASE + 8, 0x7f1234567890);
	put(file, BASE + 16, 0x1036); /* the PLT stub, unrelocated */
	put(live, BASE + 16, BIAS + 0x1036); /* lazily bound */
	put(file, BASE + 24, 0x10);
	put(live, BASE + 24, 0x7f1234560010);
	so_reloc_judge(r, 4, BIAS, BASE, file, live, sizeof(file), &res);
	assert_int_equal(res.checked, 4);
	assert_int_equal(res.bad, 0);
	assert_int_equal(res.unjudged, 0);
}

/* The seed's state: the pages read back from the file. */
static void test_reverted_slots_are_bad(void **state)
{
	uint8_t file[64] = { 0 }, live[64];
	struct elf_dynreloc r[] = {
		rel(BASE + 8, R_X86_64_RELATIVE, 0xe90, 0),
		rel(BASE + 16, R_X86_64_RELATIVE, 0xad0, 0),
		rel(BASE + 32, R_X86_64_GLOB_DAT, 0, 0),
		rel(BASE + 40, R_X86_64_JUMP_SLOT, 0, 0),
	};
	struct so_reloc_result res = { 0 };

	(void)state;
	put(file, BASE + 8, 0xe90);
	put(file, BASE + 16, 0xad0);
	put(file, BASE + 40, 0x1036);
	memcpy(live, file, sizeof(live));
	so_reloc_judge(r, 4, BIAS, BASE, file, live, sizeof(file), &res);
	assert_int_equal(res.checked, 4);
	assert_int_equal(res.bad, 4);
	assert_int_equal(res.first_bad, BASE + 8);
	assert_int_equal(res.first_bad_value, 0xe90);
}

/* What may rightly hold the file value is not judged bad. */
static void test_ambiguous_slots(void **state)
{
	uint8_t file[64] = { 0 }, live[64] = { 0 };
	struct elf_dynreloc r[] = {
		/* weak undefined: resolves to 0, as in the file */
		rel(BASE + 0, R_X86_64_GLOB_DAT, 0, ELF_DYNRELOC_WEAK_UNDEF),
		/* a data pointer the program may have set to NULL */
		rel(BASE + 8, R_X86_64_64, 0, 0),
		/* a program moved a relocated pointer elsewhere */
		rel(BASE + 16, R_X86_64_RELATIVE, 0x2000, 0),
	};
	struct so_reloc_result res = { 0 };

	(void)state;
	put(file, BASE + 16, 0x2000);
	put(live, BASE + 16, 0x55aa55aa55aa);
	so_reloc_judge(r, 3, BIAS, BASE, file, live, sizeof(file), &res);
	assert_int_equal(res.bad, 0);
	assert_int_equal(res.checked, 1);
	assert_int_equal(res.unjudged, 1);
}

/* At load bias 0 (a non-PIE executable) relocated RELATIVE slots equal
 * the file and lazy JUMP_SLOTs keep it: neither can be judged. */
static void test_bias_zero(void **state)
{
	uint8_t file[32] = { 0 }, live[32] = { 0 };
	struct elf_dynreloc r[] = {
		rel(BASE + 0, R_X86_64_RELATIVE, 0x401000, 0),
		rel(BASE + 8, R_X86_64_JUMP_SLOT, 0, 0),
	};
	struct so_reloc_result res = { 0 };

	(void)state;
	put(file, BASE + 0, 0x401000);
	put(live, BASE + 0, 0x401000);
	put(file, BASE + 8, 0x401036);
	put(live, BASE + 8, 0x401036);
	so_reloc_judge(r, 2, 0, BASE, file, live, sizeof(file), &res);
	assert_int_equal(res.bad, 0);
	assert_int_equal(res.unjudged, 2);
}

/* DT_RELR slots: the addend is the slot's file value. */
static void test_implicit_addend(void **state)
{
	uint8_t file[16] = { 0 }, live[16] = { 0 };
	struct elf_dynreloc r[] = {
		rel(BASE + 0, R_X86_64_RELATIVE, 0, ELF_DYNRELOC_IMPLICIT),
		rel(BASE + 8, R_X86_64_RELATIVE, 0, ELF_DYNRELOC_IMPLICIT),
	};
	struct so_reloc_result res = { 0 };

	(void)state;
	put(file, BASE + 0, 0x3000);
	put(live, BASE + 0, BIAS + 0x3000);
	put(file, BASE + 8, 0x3008);
	put(live, BASE + 8, 0x3008);
	so_reloc_judge(r, 2, BIAS, BASE, file, live, sizeof(file), &res);
	assert_int_equal(res.checked, 2);
	assert_int_equal(res.bad, 1);
	assert_int_equal(res.first_bad, BASE + 8);
}

/* Slots outside the window, or cut by its end, are left alone. */
static void test_window_bounds(void **state)
{
	uint8_t file[16] = { 0 }, live[16] = { 0 };
	struct elf_dynreloc r[] = {
		rel(BASE - 8, R_X86_64_GLOB_DAT, 0, 0),
		rel(BASE + 12, R_X86_64_GLOB_DAT, 0, 0),
		rel(BASE + 16, R_X86_64_GLOB_DAT, 0, 0),
		rel(UINT64_MAX - 3, R_X86_64_GLOB_DAT, 0, 0),
	};
	struct so_reloc_result res = { 0 };

	(void)state;
	so_reloc_judge(r, 4, BIAS, BASE, file, live, sizeof(file), &res);
	assert_int_equal(res.checked, 0);
	assert_int_equal(res.bad, 0);
}

static void test_relr_decode(void **state)
{
	/* 0x1000 itself, then a bitmap: bits 1 and 3 -> 0x1008 and 0x1018,
	 * then another bitmap 63 words on: bit 63 -> 0x1008 + 63*8 + 62*8 */
	const uint64_t relr[] = { 0x1000, (1u << 1 | 1u << 3) | 1,
				  (1ull << 63) | 1, 0x2000 };
	uint64_t out[8];
	size_t n = elf_relr_decode(relr, 4, out, 8);

	(void)state;
	assert_int_equal(n, 5);
	assert_int_equal(out[0], 0x1000);
	assert_int_equal(out[1], 0x1008);
	assert_int_equal(out[2], 0x1018);
	assert_int_equal(out[3], 0x1008 + 63 * 8 + 62 * 8);
	assert_int_equal(out[4], 0x2000);
	/* counting only */
	assert_int_equal(elf_relr_decode(relr, 4, NULL, 0), 5);
	assert_int_equal(elf_relr_decode(relr, 4, out, 2), 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_relocated_is_fine),
		cmocka_unit_test(test_reverted_slots_are_bad),
		cmocka_unit_test(test_ambiguous_slots),
		cmocka_unit_test(test_bias_zero),
		cmocka_unit_test(test_implicit_addend),
		cmocka_unit_test(test_window_bounds),
		cmocka_unit_test(test_relr_decode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
