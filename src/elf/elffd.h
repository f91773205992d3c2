/* Opening a struct elf_file from a descriptor, reading rather than
 * mapping.
 *
 * elf_file_open() lets libelf mmap the file, which is fastest but turns a
 * concurrent truncation into SIGBUS in snakescope.  The shared objects
 * `maps` and `pin` look at are exactly the files someone may be rewriting
 * at that moment, so they are read with pread (ELF_C_READ): a truncation
 * then shows up as a failed read.  Everything in elffile.h works on the
 * result and elf_file_close() releases it. */
#ifndef SS_ELF_ELFFD_H
#define SS_ELF_ELFFD_H

#include "elf/elffile.h"

/* Take ownership of fd (closed by elf_file_close(), or here on failure).
 * Not ELF -> SS_ENOTPY (with a message naming display); not x86-64 ELF
 * -> SS_ENOTPY. */
int elf_file_open_fd(struct elf_file *f, int fd, const char *display,
		     struct err *e);

/* The PT_LOAD headers of f, at most max; returns how many. */
size_t elf_load_segments(struct elf_file *f, GElf_Phdr *out, size_t max);

#endif
