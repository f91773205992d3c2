/* The relocation check: has this process lost the relocations the dynamic
 * loader applied to an object?
 *
 * When an object's file is truncated while mapped (an in-place rewrite,
 * as shutil.copyfile and so pip do), the kernel drops the process's
 * private copies of the file's pages, relocated pointers included; the
 * pages read back from the file then hold the link-time values (0xad0
 * instead of 0x7f66abdfdad0), and the next call through one crashes.
 * This compares each relocation slot in memory with the value the file
 * holds at the same place: a slot still holding the file value was never
 * relocated, or lost its relocation.
 */
#ifndef SS_SO_RELOC_H
#define SS_SO_RELOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "elf/dynreloc.h"
#include "so/object.h"
#include "target/memsrc.h"

struct so_reloc_result {
	unsigned long checked;  /* slots judged */
	unsigned long bad;      /* holding the unrelocated file value */
	unsigned long unjudged; /* unreadable, or a value that may be right */
	uint64_t first_bad;     /* link-time address of the lowest bad slot */
	uint64_t first_bad_value;
	bool short_file;        /* the file ends before a mapped slot */
};

/* Judge the slots of r[0..n) that lie wholly in [vaddr, vaddr+len) (link
 * time addresses), given the file's bytes and the live bytes of that
 * range and the object's load bias.  Adds to res.  Rules, per type:
 *   RELATIVE   bad when live == file != bias + addend (needs bias != 0:
 *              at bias 0 a relocated slot equals the file value)
 *   JUMP_SLOT  bad when live == file (needs bias != 0: a lazily bound
 *              slot of a non-PIE executable keeps its file value)
 *   GLOB_DAT   bad when live == file, unless against an undefined weak
 *              symbol (which may resolve to 0)
 *   64         like GLOB_DAT; a file value of 0 is not judged (the
 *              program may have stored NULL there itself) */
void so_reloc_judge(const struct elf_dynreloc *r, size_t n, uint64_t bias,
		    uint64_t vaddr, const uint8_t *file, const uint8_t *live,
		    size_t len, struct so_reloc_result *res);

/* Buffers so_reloc_check() reuses from one object to the next; start
 * zeroed, release with so_reloc_scratch_release(). */
struct so_reloc_scratch {
	uint8_t *file, *live;
};
void so_reloc_scratch_release(struct so_reloc_scratch *s);

/* Check every slot of rel that lies in one of o's readable mappings:
 * live values through mem, file values with pread on fd (the mapped
 * file) at the offsets the mappings name, which are the bytes the kernel
 * would fault in.  Unreadable pages count as unjudged.  Returns 0, or
 * SS_EGONE when the process went away (message in e). */
int so_reloc_check(const struct so_object *o, uint64_t bias,
		   const struct elf_dynrelocs *rel, int fd, struct memsrc *mem,
		   struct so_reloc_scratch *scratch, struct so_reloc_result *res,
		   struct err *e);

#endif
