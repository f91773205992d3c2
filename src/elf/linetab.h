/* file:line of addresses straight from a separate debug file's .debug_line,
 * for the files on which libdw is slow.
 *
 * libdw's first line lookup in a module (dwarf_begin_elf) decompresses
 * every DWARF section of its debug file.  Debian's debug files (libc6-dbg,
 * the -dbgsym packages) are zlib-compressed, and for libc that is ~10 MB
 * of output, .debug_info and .debug_loclists mostly: tens of milliseconds
 * spent to name a few frames, more than the rest of a native dump.  Only
 * .debug_line (and the strings it points to) is needed to map an address
 * to file:line, so for such files this decompresses that alone and runs
 * the line programs itself, answering as dwfl_module_getsrc() would: the
 * last row at or below the address in the one sequence that covers it,
 * file names joined from the directory and file tables the way libdw
 * joins them.
 *
 * Whatever this reader cannot answer exactly as libdw would is answered
 * LINETAB_ASK_LIBDW: line tables before DWARF 5 (their directory 0 is the
 * compilation unit's directory, known only from .debug_info), VLIW
 * op_index, string forms that need .debug_str_offsets, an address covered
 * by more than one sequence, a malformed unit anywhere in the section. */
#ifndef SS_ELF_LINETAB_H
#define SS_ELF_LINETAB_H

#include <stdint.h>

enum linetab_answer {
	LINETAB_NONE,       /* no line row covers the address */
	LINETAB_FOUND,
	LINETAB_ASK_LIBDW,  /* not answerable here: ask libdw */
};

struct linetab;

/* Open the debug file at path.  NULL when it is not worth it (its
 * .debug_line is not compressed: libdw maps such files cheaply) or it
 * cannot be read; the caller then asks libdw. */
struct linetab *linetab_open(const char *path);
void linetab_close(struct linetab *lt);

/* The row for addr, an address as the debug file's DWARF states it
 * (the run-time address minus the module's DWARF bias).  On
 * LINETAB_FOUND, *file is allocated (the caller frees it) and *line set. */
enum linetab_answer linetab_find(struct linetab *lt, uint64_t addr,
				 char **file, int *line);

#endif
