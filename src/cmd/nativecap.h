/* dump --native: every thread's native stack merged with its Python stack
 * in a struct dump, for a live target (live.h) or a core (corecap.h).
 * The live sequence is open (before stopping), unwind each thread (while
 * held), finish (after resuming: names, merge), close. */
#ifndef SS_CMD_NATIVECAP_H
#define SS_CMD_NATIVECAP_H

#include <stdbool.h>
#include <sys/types.h>

#include "elf/unwind.h"
#include "py/proc.h"
#include "stack/sample.h"
#include "target/regs.h"

enum native_mode {
	NATIVE_OFF,
	NATIVE_MERGED,            /* --native */
	NATIVE_ALL,               /* --native-all: interpreter C frames too */
};

struct nativecap {
	struct native *n;
	struct native_stack *stacks; /* by thread index in the dump */
	size_t nstacks;
	struct py_files files;
	pid_t pid;                   /* files' context for a live target */
	char root[64];               /* "/proc/PID/root" */
};

/* Open a session over a live process's mappings (files through
 * /proc/PID/root) or a core's NT_FILE mappings (through files, which
 * the caller keeps alive, debug files under sysroot when given). */
int nativecap_open_live(struct nativecap *nc, pid_t pid,
			struct memsrc *mem, const struct maps *maps,
			const struct py_proc *py, struct err *e);
int nativecap_open_core(struct nativecap *nc, pid_t pid, struct memsrc *mem,
			const struct maps *maps, const struct py_files *files,
			const char *sysroot, const struct py_proc *py,
			struct err *e);

/* Unwind the thread at index i of the dump, OS thread tid with regs
 * (NULL when unknown). */
void nativecap_unwind(struct nativecap *nc, size_t i, pid_t tid,
		      const struct cpu_regs *regs);

/* Name the frames and merge them into d's threads. */
void nativecap_finish(struct nativecap *nc, struct dump *d,
		      enum native_mode mode);

void nativecap_close(struct nativecap *nc);

#endif
