/* Code injection into a held thread: remote system calls (single-stepped
 * over a `syscall` instruction of the target's own), writes into its
 * memory, and pointing a thread at a shim (arch.h) that runs on its own.
 *
 * Every inject_* call that takes a tid makes ptrace requests and must run
 * inside a stopset_run() job (on the tracing thread) while the thread is
 * held; each leaves it held again, with its registers as it found them
 * unless it says otherwise. */
#ifndef SS_TARGET_INJECT_H
#define SS_TARGET_INJECT_H

#include <stdint.h>
#include <sys/types.h>

#include "target/arch.h"
#include "target/memsrc.h"
#include "target/procfs.h"
#include "target/ptrace.h"
#include "util/err.h"

int inject_get_regs(pid_t tid, arch_regs *r, struct err *e);
int inject_set_regs(pid_t tid, const arch_regs *r, struct err *e);

/* Run system call nr(a) in held thread tid by single-stepping the
 * `syscall` instruction at gadget; *ret is its result (negative errno).
 * The thread's registers are restored afterwards, so a system call it was
 * stopped in is restarted as usual when it is released. */
int inject_syscall(struct stopset *s, pid_t tid, uint64_t gadget, long nr,
		   const uint64_t a[6], int64_t *ret, struct err *e);

/* Map len bytes of fresh anonymous memory read-write in the target
 * (through tid); *addr receives where. */
int inject_mmap(struct stopset *s, pid_t tid, uint64_t gadget, size_t len,
		uint64_t *addr, struct err *e);
/* mprotect(addr, len, PROT_READ | PROT_EXEC). */
int inject_make_exec(struct stopset *s, pid_t tid, uint64_t gadget,
		     uint64_t addr, size_t len, struct err *e);
int inject_munmap(struct stopset *s, pid_t tid, uint64_t gadget,
		  uint64_t addr, size_t len, struct err *e);

/* Write len bytes at addr of process pid (through /proc/PID/mem, which
 * may write any mapping, as a debugger does). */
int inject_write(pid_t pid, uint64_t addr, const void *buf, size_t len,
		 struct err *e);

/* The address of a `syscall` instruction in an executable mapping of the
 * target (its libc has many). */
int inject_find_gadget(struct memsrc *mem, const struct maps *maps,
		       uint64_t *gadget, struct err *e);

#endif
