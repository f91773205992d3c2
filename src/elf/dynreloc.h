/* The dynamic relocations of an ELF object: the slots the dynamic loader
 * writes when it maps the object, found through PT_DYNAMIC (so stripped
 * section headers do not matter) and read with libelf.
 *
 * Only the kinds that put a 64-bit address into a data slot are kept:
 * R_X86_64_RELATIVE (from DT_RELA and DT_RELR), R_X86_64_GLOB_DAT,
 * R_X86_64_JUMP_SLOT and R_X86_64_64.  Those are what a process loses when
 * the kernel drops its private copies of the object's pages. */
#ifndef SS_ELF_DYNRELOC_H
#define SS_ELF_DYNRELOC_H

#include <stddef.h>
#include <stdint.h>

#include "elf/elffile.h"

#define ELF_DYNRELOC_WEAK_UNDEF 1u /* against an undefined weak symbol */
#define ELF_DYNRELOC_IMPLICIT 2u   /* DT_RELR: the addend is the slot */

/* Bound on relocations per object (libpython has ~30000). */
#define ELF_DYNRELOC_MAX (1u << 24)

struct elf_dynreloc {
	uint64_t offset; /* r_offset: link-time address of the slot */
	int64_t addend;
	uint32_t type;   /* R_X86_64_* */
	uint32_t flags;  /* ELF_DYNRELOC_* */
};

struct elf_dynrelocs {
	struct elf_dynreloc *v; /* ascending by offset, one per slot */
	size_t n;
	bool has_dynamic;       /* the object has a PT_DYNAMIC at all */
};

/* Read f's dynamic relocations.  An object without PT_DYNAMIC (static
 * executable) yields none.  A table outside the file or an absurd size is
 * SS_ECORRUPT naming display. */
int elf_read_dynrelocs(struct elf_file *f, const char *display,
		       struct elf_dynrelocs *out, struct err *e);
void elf_dynrelocs_release(struct elf_dynrelocs *r);

/* Decode a DT_RELR table (n 64-bit words) into slot addresses, ascending.
 * Returns how many slots it describes; only the first max are written. */
size_t elf_relr_decode(const uint64_t *relr, size_t n, uint64_t *out,
		       size_t max);

#endif
