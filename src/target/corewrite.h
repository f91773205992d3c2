/* Writing an ELF core file of a process snakescope holds stopped (run
 * --core-dir): what the kernel would have dumped, for users who do not
 * control core_pattern.  The notes are those dump --core and gdb read:
 * NT_PRSTATUS (and NT_FPREGSET) per thread, the crashing thread first,
 * NT_PRPSINFO, NT_SIGINFO, NT_AUXV and NT_FILE; one PT_LOAD per mapping,
 * with the bytes of every readable one. */
#ifndef SS_TARGET_COREWRITE_H
#define SS_TARGET_COREWRITE_H

#include <signal.h>
#include <stddef.h>

#include "target/hold.h"
#include "util/err.h"

/* Write dir/core.COMM.PID for the held process h, whose thread tid got
 * si; the path written goes to path.  SS_EIO with a message on failure
 * (nothing is left behind). */
int corewrite_process(const char *dir, const struct hold *h, pid_t tid,
		      const siginfo_t *si, char *path, size_t len,
		      struct err *e);

#endif
