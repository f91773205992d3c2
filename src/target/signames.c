#include "target/signames.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

struct code_name {
	int sig;           /* 0: any signal */
	int code;
	const char *name, *what;
};

static const struct code_name codes[] = {
	{ SIGSEGV, SEGV_MAPERR, "SEGV_MAPERR", "address not mapped to object" },
	{ SIGSEGV, SEGV_ACCERR, "SEGV_ACCERR", "invalid permissions for mapped object" },
	{ SIGSEGV, 3, "SEGV_BNDERR", "failed address bound checks" },
	{ SIGSEGV, 4, "SEGV_PKUERR", "access denied by protection keys" },
	{ SIGBUS, BUS_ADRALN, "BUS_ADRALN", "invalid address alignment" },
	{ SIGBUS, BUS_ADRERR, "BUS_ADRERR", "nonexistent physical address" },
	{ SIGBUS, BUS_OBJERR, "BUS_OBJERR", "object-specific hardware error" },
	{ SIGBUS, 4, "BUS_MCEERR_AR", "hardware memory error consumed" },
	{ SIGILL, ILL_ILLOPC, "ILL_ILLOPC", "illegal opcode" },
	{ SIGILL, ILL_ILLOPN, "ILL_ILLOPN", "illegal operand" },
	{ SIGILL, ILL_ILLADR, "ILL_ILLADR", "illegal addressing mode" },
	{ SIGILL, ILL_ILLTRP, "ILL_ILLTRP", "illegal trap" },
	{ SIGILL, ILL_PRVOPC, "ILL_PRVOPC", "privileged opcode" },
	{ SIGILL, ILL_PRVREG, "ILL_PRVREG", "privileged register" },
	{ SIGILL, ILL_COPROC, "ILL_COPROC", "coprocessor error" },
	{ SIGILL, ILL_BADSTK, "ILL_BADSTK", "internal stack error" },
	{ SIGFPE, FPE_INTDIV, "FPE_INTDIV", "integer divide by zero" },
	{ SIGFPE, FPE_INTOVF, "FPE_INTOVF", "integer overflow" },
	{ SIGFPE, FPE_FLTDIV, "FPE_FLTDIV", "floating-point divide by zero" },
	{ SIGFPE, FPE_FLTOVF, "FPE_FLTOVF", "floating-point overflow" },
	{ SIGFPE, FPE_FLTUND, "FPE_FLTUND", "floating-point underflow" },
	{ SIGFPE, FPE_FLTRES, "FPE_FLTRES", "floating-point inexact result" },
	{ SIGFPE, FPE_FLTINV, "FPE_FLTINV", "invalid floating-point operation" },
	{ SIGFPE, FPE_FLTSUB, "FPE_FLTSUB", "subscript out of range" },
	{ SIGTRAP, TRAP_BRKPT, "TRAP_BRKPT", "process breakpoint" },
	{ SIGTRAP, TRAP_TRACE, "TRAP_TRACE", "process trace trap" },
	{ SIGSYS, 1, "SYS_SECCOMP", "system call refused by seccomp" },
	{ 0, SI_USER, "SI_USER", "sent by kill()" },
	{ 0, SI_KERNEL, "SI_KERNEL", "sent by the kernel" },
	{ 0, SI_QUEUE, "SI_QUEUE", "sent by sigqueue()" },
	{ 0, SI_TKILL, "SI_TKILL", "sent by tkill() or tgkill(): abort(), raise()" },
};

const char *signal_name(int sig, char *buf, unsigned long len)
{
	const char *abbrev = sigabbrev_np(sig);

	if (abbrev)
		snprintf(buf, len, "SIG%s", abbrev);
	else
		snprintf(buf, len, "signal %d", sig);
	return buf;
}

void si_code_name(int sig, int code, const char **name, const char **what)
{
	*name = *what = "?";
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		/* Positive codes mean something per signal; the others
		 * (who sent it) are shared by all. */
		if (codes[i].code != code ||
		    (code > 0 && code != SI_KERNEL && codes[i].sig != sig))
			continue;
		*name = codes[i].name;
		*what = codes[i].what;
		return;
	}
}

int signal_has_addr(int sig, int code)
{
	if (code <= 0 || code == SI_KERNEL)
		return 0;
	return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL ||
	       sig == SIGFPE || sig == SIGTRAP;
}
