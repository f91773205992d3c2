/* An ELF file opened with libelf: symbol lookup, section scans and reads by
 * virtual address.  Used to find the interpreter's globals in the python
 * binary or libpython without running either. */
#ifndef SS_ELF_ELFFILE_H
#define SS_ELF_ELFFILE_H

#include <gelf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

struct elf_file {
	int fd;
	Elf *elf;
	GElf_Ehdr ehdr;
	uint64_t min_vaddr;   /* lowest PT_LOAD p_vaddr, page aligned */
	bool has_symtab;      /* .symtab present (not stripped) */
	bool has_dynsym;
};

/* Open path (already translated through /proc/PID/root by the caller);
 * display names the file in messages. */
int elf_file_open(struct elf_file *f, const char *path, const char *display,
		  struct err *e);
void elf_file_close(struct elf_file *f);

/* The same from a descriptor (owned from now on, closed by
 * elf_file_close() or here on failure), reading with pread rather than
 * mmap: `maps` and `pin` look at files someone may be truncating right
 * now, and a mapped file would turn that into SIGBUS in snakescope. */
int elf_file_open_fd(struct elf_file *f, int fd, const char *display,
		     struct err *e);

/* The PT_LOAD headers of f, at most max; returns how many. */
size_t elf_load_segments(struct elf_file *f, GElf_Phdr *out, size_t max);

/* One pass over .symtab and .dynsym: values[i] = st_value of names[i], or 0
 * when absent.  from_symtab[i] (optional) tells which table it came from.
 * Returns how many were found. */
size_t elf_lookup_symbols(struct elf_file *f, const char *const *names,
			  size_t n, uint64_t *values, bool *from_symtab);

/* Value of the local (static) symbol `name` defined in source file `file`
 * (as named by the STT_FILE symbol that precedes a file's locals in
 * .symtab), or 0.  Needed where several files have a static of that name. */
uint64_t elf_lookup_file_local(struct elf_file *f, const char *file,
			       const char *name);

/* Copy len bytes of the file's image at link-time address vaddr (from a
 * PT_LOAD segment's file bytes).  SS_EFAULT when not file-backed. */
int elf_read_vaddr(struct elf_file *f, uint64_t vaddr, void *buf, size_t len);

/* Find a NUL-delimited string "M.N.P..." in read-only data that looks like
 * PY_VERSION, preferring one that starts with prefix (e.g. "3.6.") when
 * prefix is non-empty.  Returns 0 and fills out, or SS_ENOTPY. */
int elf_find_version_string(struct elf_file *f, const char *prefix, char *out,
			    size_t len);

bool elf_is_pie(const struct elf_file *f);

#endif
