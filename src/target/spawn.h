/* Starting a command under ptrace supervision: fork, attach to the child
 * with PTRACE_SEIZE before it runs anything, then let it exec.
 *
 * The child is seized (not PTRACE_TRACEME) so that its threads can later
 * be stopped with PTRACE_INTERRUPT and its group-stops kept with
 * PTRACE_LISTEN.  A failed exec is reported back through a close-on-exec
 * pipe, so the caller can print the shell's message and exit 127 or 126.
 */
#ifndef SS_TARGET_SPAWN_H
#define SS_TARGET_SPAWN_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "util/err.h"

/* The ptrace options of a supervised child: follow threads, forks,
 * vforks and execs; with kill_on_exit the kernel kills every tracee when
 * snakescope exits (PTRACE_O_EXITKILL), else they run on untraced. */
long spawn_ptrace_options(bool kill_on_exit);

/* Fork and exec argv[0] (searched in PATH) under ptrace, with the signal
 * mask child_mask (the one the caller had before blocking the signals it
 * reads through a signalfd).  On success *pid
 * is the child, running, and *exec_errno 0.  When the exec failed the
 * child has exited (reaped here) and *exec_errno says why; the return
 * value is still 0.  A failure to fork or attach is SS_EIO. */
int spawn_traced(char *const argv[], bool kill_on_exit,
		 const sigset_t *child_mask, pid_t *pid, int *exec_errno,
		 struct err *e);

#endif
