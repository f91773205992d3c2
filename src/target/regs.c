#include "target/regs.h"

#include <string.h>
#include <sys/reg.h>

void regs_from_user(struct cpu_regs *r, const uint64_t *u, unsigned nwords)
{
#if defined(__x86_64__)
	/* <sys/reg.h> word indexes, in DWARF register order. */
	static const unsigned char order[REGS_DWARF_N] = {
		RAX, RDX, RCX, RBX, RSI, RDI, RBP, RSP,
		R8, R9, R10, R11, R12, R13, R14, R15, RIP,
	};

	memset(r, 0, sizeof(*r));
	if (nwords <= RIP || nwords <= FS_BASE)
		return;
	for (unsigned i = 0; i < REGS_DWARF_N; i++)
		r->dwarf[i] = u[order[i]];
	r->valid = true;
#else
	(void)u;
	(void)nwords;
	memset(r, 0, sizeof(*r));
#endif
}
