/* A stopped thread's general-purpose registers, as an unwinder wants them:
 * numbered as the x86-64 psABI's DWARF register numbers (rax rdx rcx rbx
 * rsi rdi rbp rsp r8-r15, then rip as the return-address column 16).
 * Filled from PTRACE_GETREGS for a live thread and from NT_PRSTATUS for a
 * core's, which share the kernel's user_regs_struct layout. */
#ifndef SS_TARGET_REGS_H
#define SS_TARGET_REGS_H

#include <stdbool.h>
#include <stdint.h>

#define REGS_DWARF_N 17
#define REGS_DWARF_SP 7
#define REGS_DWARF_PC 16

struct cpu_regs {
	uint64_t dwarf[REGS_DWARF_N];
	bool valid;               /* false: not captured (other machines) */
};

/* From a user_regs_struct / elf_gregset_t image of nwords 64-bit words in
 * the kernel's x86-64 order; fewer than that leaves r invalid. */
void regs_from_user(struct cpu_regs *r, const uint64_t *user, unsigned nwords);

#endif
