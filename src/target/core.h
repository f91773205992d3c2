/* An ELF core file: its memory segments and what its notes say (threads,
 * signal, mapped files).  Parsed with libelf; the file is mapped, never
 * read whole, so memory use does not grow with the core's size.
 *
 * A core is untrusted input: every count and offset in it is validated
 * against the file's size before use, and a core cut short (a truncated
 * download, a full disk) is opened with the segments it still holds.
 */
#ifndef SS_TARGET_CORE_H
#define SS_TARGET_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "target/procfs.h"
#include "target/regs.h"
#include "util/err.h"

/* One PT_LOAD segment: [vaddr, vaddr + memsz) of the process, of which
 * the first filesz bytes are in the core at offset.  filesz is clipped
 * to what the file holds; memsz beyond it was not dumped (read-only
 * file-backed pages, or lost to truncation). */
struct core_load {
	uint64_t vaddr, memsz;
	uint64_t offset, filesz;
};

/* One thread of the dumped process (an NT_PRSTATUS note). */
struct core_thread {
	pid_t tid;
	int cursig;          /* the signal being delivered, 0 when none */
	uint64_t fs_base;    /* the thread pointer: pthread_t on glibc */
	struct cpu_regs regs;
};

struct core {
	int fd;
	const uint8_t *map;  /* the whole file, PROT_READ */
	size_t size;
	struct core_load *loads; /* ascending by vaddr, not overlapping */
	size_t nloads;
	/* NT_FILE: the file-backed mappings (path as recorded, offset in
	 * bytes); perms are unknown and left "r--p". */
	struct maps files;
	struct core_thread *threads; /* the first is the one that dumped */
	size_t nthreads;
	pid_t pid;
	char comm[17];       /* NT_PRPSINFO pr_fname */
	char args[81];       /* NT_PRPSINFO pr_psargs */
	int signo;           /* what killed it (NT_SIGINFO, else the first
	                      * thread's cursig); 0 when unknown (gcore) */
	int si_code;
	bool has_addr;       /* fault_addr is meaningful (SIGSEGV, SIGBUS...) */
	uint64_t fault_addr;
	uint64_t at_entry;   /* NT_AUXV AT_ENTRY: in the main executable */
	bool truncated;      /* some segment extends past the end of file */
};

/* Open the core in fd (taken over: closed by core_close() or here on
 * failure); display names it in messages.  Not an ELF core, not x86-64,
 * or notes that break their format -> SS_ECORRUPT with one message. */
int core_open_fd(struct core *c, int fd, const char *display, struct err *e);
void core_close(struct core *c);

/* A pointer to len bytes of the process's memory at addr when all of
 * them are in the core, else NULL. */
const void *core_ptr(const struct core *c, uint64_t addr, size_t len);

/* The PT_LOAD segment holding addr (dumped or not), or NULL. */
const struct core_load *core_load_at(const struct core *c, uint64_t addr);

/* The NT_FILE mapping holding addr, or NULL. */
const struct mapping *core_file_at(const struct core *c, uint64_t addr);

/* Parse an NT_FILE descriptor into files (exposed for the fuzzer and unit
 * tests).  SS_ECORRUPT with a message when it breaks the format. */
int core_parse_nt_file(const uint8_t *desc, size_t len, struct maps *files,
		       struct err *e);

#endif
