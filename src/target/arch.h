/* Machine specifics of code injection (x86-64 only): the registers of a
 * stopped thread, the kernel's system-call restart rule, and the shim, a
 * few instructions that call into the interpreter on the thread's own
 * stack and then return to the interrupted code with every register, the
 * extended (FP/SIMD) state and errno as they were.
 *
 * The shim needs no debugger to finish: once a thread is pointed at it, it
 * runs to the end and resumes the interrupted code by itself, even if
 * snakescope is gone.  That is what makes injection safe to give up on
 * (a call that waits for the GIL forever costs nothing but the wait). */
#ifndef SS_TARGET_ARCH_H
#define SS_TARGET_ARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/user.h>

typedef struct user_regs_struct arch_regs;

/* The system call a thread was stopped in, or -1 in user space. */
long arch_syscall_nr(const arch_regs *r);
/* First argument of that call (the futex word of a futex wait). */
uint64_t arch_syscall_arg0(const arch_regs *r);
uint64_t arch_pc(const arch_regs *r);
uint64_t arch_sp(const arch_regs *r);

/* Registers that run system call nr(a[0..5]) at gadget (the address of a
 * `syscall` instruction) when the thread is single-stepped. */
void arch_setup_syscall(arch_regs *r, uint64_t gadget, long nr,
			const uint64_t a[6]);
/* The result of that call (a negative errno on failure). */
int64_t arch_syscall_result(const arch_regs *r);

/* Registers that start the shim at entry: a 16-byte aligned stack below
 * the red zone of the interrupted code, and no system call to restart. */
void arch_setup_shim_entry(arch_regs *r, uint64_t entry);

/* The bytes of a `syscall` instruction. */
extern const uint8_t arch_syscall_insn[2];

enum shim_kind {
	/* g = PyGILState_Ensure(); PyRun_SimpleStringFlags(code, NULL);
	 * PyGILState_Release(g) */
	SHIM_RUN,
	/* Py_AddPendingCall(stub, code), where the stub runs
	 * PyRun_SimpleStringFlags(code, NULL), frees the whole mapping
	 * and returns 0 */
	SHIM_PENDING,
};

struct shim_spec {
	enum shim_kind kind;
	uint64_t errno_location; /* __errno_location in the target's libc */
	uint64_t libc_syscall;   /* syscall() in the target's libc */
	uint64_t gil_ensure, gil_release, run_string, add_pending;
	const char *code;        /* the Python source to run */
	arch_regs saved;         /* the thread as it was stopped */
};

/* Size of the shim mapping for spec (code page + data pages). */
size_t arch_shim_size(const struct shim_spec *sp);
/* Offset of the page to make executable (the rest stays read-write) and
 * its length. */
#define ARCH_SHIM_CODE_LEN 4096
/* Offset in the mapping of the flag set to 1 when the shim of this kind
 * has returned from its last call (for SHIM_PENDING: when the pending
 * call's stub has, which then frees the mapping itself), after which only
 * a few instructions of it run.  Every shim puts back the signal mask
 * and errno the thread had when it entered. */
size_t arch_shim_done_offset(enum shim_kind kind);
/* Fill buf (arch_shim_size() bytes) with the shim for a mapping at base;
 * entry is base. */
void arch_build_shim(uint8_t *buf, uint64_t base, const struct shim_spec *sp);

#endif
