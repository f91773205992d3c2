/* Holding a supervised process still: every thread of a process that
 * snakescope already traces (snakescope run) stopped with PTRACE_INTERRUPT
 * and let go again, each with whatever it had stopped for.
 *
 * This is not the stop set of ptrace.h: there a short-lived helper thread
 * seizes a process it did not trace and detaches at the end; here the
 * caller is the long-lived tracer of every thread (the supervisor's main
 * thread) and keeps tracing them afterwards.  Every wait here is for one
 * tid of the held process, never for -1, so events of other processes
 * stay queued for the supervisor's loop.
 */
#ifndef SS_TARGET_HOLD_H
#define SS_TARGET_HOLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

#include "target/ptrace.h"
#include "util/err.h"

struct held_thread {
	pid_t tid;
	int resume_sig;       /* signal to deliver when let go, 0 if none */
	bool listen;          /* in a group-stop: let go with PTRACE_LISTEN */
	bool callers;         /* the caller's to let go, not hold_release's */
	bool in_syscall;
	struct user_regs_struct regs;
};

struct hold {
	pid_t pid;
	struct held_thread *v; /* ascending by tid */
	size_t n;
	/* The process exited while it was being held: its wait status
	 * (the leader's), for the supervisor, which did not see it. */
	bool exited;
	int exit_status;
};

/* Stop every thread of process pid.  stopped_tid (0: none) is a thread
 * the caller has already collected in a ptrace-stop and lets go itself;
 * it is listed with resume_sig stopped_sig but not resumed here.  Threads that do not stop within a second (D state) are
 * left out; they report their stop to the supervisor later.  SS_EGONE
 * when nothing could be held. */
int hold_process(struct hold *h, pid_t pid, pid_t stopped_tid,
		 int stopped_sig, struct err *e);

/* Let every held thread go (PTRACE_CONT with its signal, or
 * PTRACE_LISTEN); frees h.  Safe on a zeroed hold. */
void hold_release(struct hold *h);

/* Let every held thread go and stop tracing it (PTRACE_DETACH with its
 * signal); for a process that is dying of a crash.  Frees h. */
void hold_detach(struct hold *h);

/* The held thread tid, or NULL. */
const struct held_thread *hold_thread(const struct hold *h, pid_t tid);

/* A stop-set view of h for live_capture_held() (it owns copies of the
 * arrays; stopset_release() frees them and has nothing to detach). */
void hold_as_stopset(const struct hold *h, struct stopset *s);

#endif
