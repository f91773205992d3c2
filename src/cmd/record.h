/* The sampling session behind `record` and `top`: options, and hooks that
 * let a command other than record watch the samples as they are taken
 * (record alone writes a profile file when sampling ends). */
#ifndef SS_CMD_RECORD_H
#define SS_CMD_RECORD_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cmd/cmd.h"
#include "stack/profile.h"
#include "stack/sample.h"

struct py_proc;

struct record_opts {
	int pid;
	char **argv;              /* spawn mode: the command, else NULL */
	unsigned rate;
	double duration;          /* seconds, 0: until exit or Ctrl-C */
	bool idle, gil, threads, subprocesses, blocking, function;
	unsigned format;          /* record's formats[] index */
	const char *output;
};

/* The session as hooks see it. */
struct record_view {
	const struct profile *prof; /* frame ids in hooks index prof->frames */
	int64_t t0, now;          /* CLOCK_MONOTONIC ns */
	uint64_t ticks, stacks, errors, late;
	pid_t pid;                /* the first process */
	const struct py_proc *py; /* its interpreter */
	bool gone;                /* it has exited */
	/* SIGINT or SIGTERM arrived (the handler sets it, nothing else). */
	const volatile sig_atomic_t *interrupted;
};

/* Every hook is optional.  Sampling runs in the caller's thread: hooks
 * should be quick, and wait() is where they may spend time. */
struct record_hooks {
	void *arg;
	/* The first process is open; sampling starts when this returns 0. */
	int (*begin)(void *arg, const struct record_view *v);
	/* One sample of one process, every thread before --idle/--gil. */
	void (*sample)(void *arg, pid_t pid, const struct dump *d);
	/* One stack kept: path[0..n) frame ids, outermost first (the
	 * synthetic process and thread roots left out). */
	void (*stack)(void *arg, pid_t pid, const struct thread_stack *t,
		      const uint32_t *path, size_t n);
	/* After each tick: return by the monotonic time until (the loop then
	 * sleeps whatever is left); nonzero ends sampling. */
	int (*wait)(void *arg, const struct record_view *v, int64_t until);
	/* Sampling has ended (duration, exit, a signal or wait()). */
	void (*end)(void *arg, const struct record_view *v);
};

/* The session's clock (record_view's times): CLOCK_MONOTONIC in ns. */
int64_t record_now_ns(void);

/* Sample o->pid or start o->argv and sample it, as `record` does; with
 * hooks no profile file is written.  Returns 0, a negative SS_E* or, in
 * spawn mode, CMD_EXIT_BASE + the command's exit status. */
int record_run(const struct record_opts *o, const struct record_hooks *h,
	       struct ctx *ctx);

#endif
