/* The supervisor of `snakescope run`: the long-lived tracer of a command
 * and of every thread and process it starts.
 *
 * Tracees stop only at clone, fork, vfork and exec events and at signals
 * (no PTRACE_SYSCALL), so a supervised program runs at full speed between
 * those.  Signals the supervisor itself receives are read from a signalfd
 * (handlers could only set flags, and a flag set just before a blocking
 * waitpid() would wait for the next event): one sent by another process
 * is passed on to the command; one from the terminal (Ctrl-C, Ctrl-\)
 * reached the command's process group already and is not sent twice,
 * nor is one another process sent to the whole group (kill -TERM -PGID,
 * systemd stopping a unit) that the command received itself.
 * Job control passes through: group-stops are kept with PTRACE_LISTEN.
 */
#ifndef SS_TARGET_SUPERVISE_H
#define SS_TARGET_SUPERVISE_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "util/err.h"

struct supervise_ops {
	void *ctx;
	/* A thread tid of process pid is in a signal-delivery-stop with a
	 * fatal signal described by si; every other thread still runs.
	 * Called before the signal is delivered; it is delivered unchanged
	 * when this returns, and the thread is no longer traced: the
	 * callback should detach the others too (hold_detach).  A dying
	 * process is let go because, traced, the init of a PID namespace
	 * would not die of a fault but fault again forever (the kernel
	 * keeps it unkillable while a tracer may want the signal). */
	void (*crash)(void *ctx, pid_t pid, pid_t tid, const siginfo_t *si);
	/* The dump signal arrived (all tracees running). */
	void (*dump)(void *ctx);
};

struct supervisor {
	pid_t child;
	int dump_sig;                 /* 0: none */
	struct supervise_ops ops;
	/* private */
	int sfd;
	sigset_t oldmask;
	bool child_done;
	int child_status;
	/* The last signal the command received (its signal-delivery-stop)
	 * of those passed on: a copy of one sent to us too is not sent. */
	struct {
		int sig;
		pid_t sender;
		long long at_ns;
	} received;
};

/* Block the signals to pass on (and dump_sig, and SIGCHLD) and open the
 * signalfd that reads them; *child_mask is the mask a command should
 * start with.  Call before spawning. */
int supervisor_init(struct supervisor *s, int dump_sig, sigset_t *child_mask,
		    struct err *e);

/* Run until s->child exits; *status is its wait status.  Other
 * supervised processes still alive then keep running, no longer traced. */
int supervisor_run(struct supervisor *s, int *status, struct err *e);

/* For the callbacks: they reaped process pid (its leader's wait status),
 * which the loop therefore will not see. */
void supervisor_reaped(struct supervisor *s, pid_t pid, int status);

/* Close the signalfd and restore the signal mask. */
void supervisor_release(struct supervisor *s);

/* Whether sig, delivered to a thread of process pid with si, is a crash
 * to report: SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGSYS, and
 * SIGTRAP unless another process sent it; never a kill() of itself (a
 * wrapper dying like its child). */
bool supervise_is_crash(int sig, const siginfo_t *si, pid_t pid);

#endif
