/* The stop set: every thread of a process held still while its memory is
 * read, and let go again with nothing visible to the target.
 *
 * Threads are held with PTRACE_SEIZE + PTRACE_INTERRUPT, never SIGSTOP: no
 * signal is queued, the target's parent sees no job-control change, the
 * kernel undoes it by itself if snakescope dies, and system calls that
 * restart after a signal without handler are restarted transparently
 * (nanosleep, select, poll, read, futex, waitpid...).  The exceptions are
 * the calls the kernel never restarts after any stop: epoll_wait and
 * sigtimedwait return EINTR, exactly as after SIGSTOP/SIGCONT or any
 * debugger attach (CPython retries them, PEP 475).  Tracing is done
 * by a short-lived helper thread that exists only while the set is held:
 * ptrace attachments belong to the tracing thread and the kernel detaches
 * them all when it exits, which is the only way to let go of a thread
 * that never reported its stop (stuck in D state).
 *
 * While a set is held, SIGINT, SIGTERM, SIGHUP and SIGQUIT are blocked, so
 * that Ctrl-C, kill and a closed terminal take effect only once the target
 * runs again.
 */
#ifndef SS_TARGET_PTRACE_H
#define SS_TARGET_PTRACE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "target/regs.h"
#include "util/err.h"

struct stopset_tracer;

struct stopset {
	pid_t pid;
	pid_t *tids;       /* the stopped threads, ascending */
	size_t n;
	/* per tid: the thread pointer (x86-64 fs_base), which on glibc is
	 * the thread's pthread_t; 0 where unknown or on other machines */
	uint64_t *fs_base;
	/* per tid: stopped inside a system call (waiting, not computing) */
	bool *in_syscall;
	/* per tid: the registers at the stop (for native unwinding) */
	struct cpu_regs *regs;
	/* per tid: a signal the thread dequeued and will get back on
	 * release, 0 if none */
	int *sig;

	/* private */
	struct stopset_tracer *tracer; /* NULL when nothing is held */
	sigset_t oldmask;              /* signal mask to restore */
	bool mask_saved;
};

/* Stop every thread of pid: seize and interrupt each thread listed in
 * /proc/PID/task, wait for each to report its stop, then list again and
 * repeat for threads created meanwhile until the set is stable (at most
 * 100 rounds); then read each thread's fs_base.  Threads that exit
 * meanwhile are dropped.  s need not be initialised.
 *
 * On failure everything is released again and *s is empty:
 *   SS_EGONE   no such process, or it exited (or is a zombie)
 *   SS_EPERM   not allowed to trace it; the message names the reason
 *              (Yama ptrace_scope, another tracer) and the remedy
 *   SS_EIO     a thread did not stop within 1 s (named with its state,
 *              typically D; 5 s for a runnable one, which is waiting for
 *              a CPU), or threads kept appearing
 *   SS_EINTR   SIGINT/SIGTERM/SIGHUP/SIGQUIT arrived while waiting; it is
 *              delivered when this returns
 *   SS_EUSAGE  pid is snakescope itself or invalid
 *
 * While a set is held, do not wait for "any child" (waitpid(-1), wait()):
 * the kernel reports tracees to every thread of the tracing process, so
 * such a wait could take a held thread's exit away from the helper.  Call
 * stopset_release() from the thread that called stopset_stop_all(): the
 * signal mask it restores is per thread. */
int stopset_stop_all(struct stopset *s, pid_t pid, struct err *e);

/* How long a thread in OS state `state` (the letter of /proc's stat) is
 * waited for to take its stop before the stop fails. */
long long stopset_stop_patience_ns(char state);

/* The same for the one thread tid of pid, the others left running (for a
 * job that concerns that thread alone). */
int stopset_stop_thread(struct stopset *s, pid_t pid, pid_t tid,
			struct err *e);

/* The fs_base of thread tid in the set, 0 if unknown. */
uint64_t stopset_fs_base(const struct stopset *s, pid_t tid);

/* 1 if tid was stopped inside a system call, 0 if in user space, -1 if
 * tid is not in the set. */
int stopset_in_syscall(const struct stopset *s, pid_t tid);

/* The registers of thread tid at its stop, or NULL if unknown.  Valid
 * until stopset_release(). */
const struct cpu_regs *stopset_regs(const struct stopset *s, pid_t tid);
/* The signal tid will get back on release (0 if none), -1 if tid is not
 * in the set. */
int stopset_pending_signal(const struct stopset *s, pid_t tid);

/* Run fn(arg) on the tracing thread while the set is held and return what
 * it returns: ptrace requests on the held threads (code injection) are
 * only allowed from there.  fn may resume a held thread and wait for it
 * with waitpid(tid, __WALL), but must leave it stopped again. */
int stopset_run(struct stopset *s, int (*fn)(void *arg), void *arg);

/* From inside a stopset_run() job: tid stopped for signal sig while the
 * job ran it; hand it back on release (one signal per thread is kept). */
void stopset_keep_signal(struct stopset *s, pid_t tid, int sig);

/* Resume and detach every thread, handing back any signal that arrived
 * while it was held, then restore the signal mask (so a pending SIGINT is
 * delivered only now).  Safe to call twice, and on a zeroed or failed
 * set. */
void stopset_release(struct stopset *s);

#endif
