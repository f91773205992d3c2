/* PTRACE_INTERRUPT every thread of a process we trace, wait for each by
 * tid, and resume each with what it had stopped for. */
#include "target/hold.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>

#include "target/procfs.h"
#include "util/xalloc.h"
#include "util/clock.h"

#define HOLD_TIMEOUT_NS 1000000000LL
#define HOLD_MAX_ROUNDS 100
#define NAP_NS 50000L

enum { TS_ASKED, TS_STOPPED, TS_GONE };

struct pending {
	pid_t tid;
	int state;
	struct held_thread th;
};

struct holding {
	struct hold *h;
	struct pending *v;
	size_t n, cap;
};

static struct pending *find(struct holding *g, pid_t tid)
{
	for (size_t i = 0; i < g->n; i++)
		if (g->v[i].tid == tid)
			return &g->v[i];
	return NULL;
}

static struct pending *add(struct holding *g, pid_t tid, int state)
{
	XGROW(g->v, g->cap, g->n + 1);
	g->v[g->n] = (struct pending){ .tid = tid, .state = state };
	g->v[g->n].th.tid = tid;
	return &g->v[g->n++];
}

static bool is_stop_signal(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN ||
	       sig == SIGTTOU;
}

/* What a reported stop means for letting the thread go: a signal the
 * kernel is about to deliver is delivered; a group-stop is kept; an
 * interrupt or an event (clone, fork, exec) carries nothing. */
static void note_stop(struct pending *p, int status)
{
	int event = status >> 16, sig = WSTOPSIG(status);

	p->state = TS_STOPPED;
	if (event == 0)
		p->th.resume_sig = sig;
	else if (event == PTRACE_EVENT_STOP && is_stop_signal(sig))
		p->th.listen = true;
}

static void poll_one(struct holding *g, struct pending *p)
{
	int status;
	pid_t r;

	do
		r = waitpid(p->tid, &status, __WALL | WNOHANG);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return;
	if (r < 0) {
		p->state = TS_GONE;
		return;
	}
	if (WIFSTOPPED(status)) {
		note_stop(p, status);
		return;
	}
	p->state = TS_GONE;
	if (p->tid == g->h->pid) {
		g->h->exited = true;
		g->h->exit_status = status;
	}
}

/* A zombie (a leader whose thread has exited while others run) reports
 * no stop until the whole process exits: it is not waited for. */
static void interrupt(struct holding *g, pid_t tid)
{
	struct pending *p = add(g, tid, TS_ASKED);
	char st = '?';

	if (procfs_thread_state(g->h->pid, tid, &st) == 0 &&
	    (st == 'Z' || st == 'X'))
		p->state = TS_GONE;
	else if (ptrace(PTRACE_INTERRUPT, tid, NULL, NULL) < 0 &&
		 errno == ESRCH)
		p->state = TS_GONE;
}

/* One round: interrupt the threads not seen before; false when there were
 * none (stopped threads create none, so the set is complete). */
static bool interrupt_new(struct holding *g, struct err *e)
{
	pid_t *tids = NULL;
	size_t n = 0;
	bool added = false;

	if (procfs_list_tids(g->h->pid, &tids, &n, e))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (find(g, tids[i]))
			continue;
		interrupt(g, tids[i]);
		added = true;
	}
	free(tids);
	return added;
}

static void wait_asked(struct holding *g, long long deadline)
{
	for (;;) {
		size_t asked = 0;
		struct timespec nap = { 0, NAP_NS };

		for (size_t i = 0; i < g->n; i++) {
			if (g->v[i].state != TS_ASKED)
				continue;
			poll_one(g, &g->v[i]);
			asked += g->v[i].state == TS_ASKED;
		}
		if (!asked || monotonic_ns() > deadline)
			return;
		nanosleep(&nap, NULL);
	}
}

static void read_regs(struct pending *p)
{
	if (ptrace(PTRACE_GETREGS, p->tid, NULL, &p->th.regs) < 0) {
		p->state = TS_GONE; /* killed while held */
		return;
	}
	p->th.in_syscall = (long long)p->th.regs.orig_rax >= 0;
}

static int cmp_held(const void *a, const void *b)
{
	pid_t x = ((const struct held_thread *)a)->tid;
	pid_t y = ((const struct held_thread *)b)->tid;

	return (x > y) - (x < y);
}

static void publish(struct holding *g)
{
	struct hold *h = g->h;

	h->v = xcalloc(g->n ? g->n : 1, sizeof(*h->v));
	for (size_t i = 0; i < g->n; i++) {
		if (g->v[i].state == TS_STOPPED)
			read_regs(&g->v[i]);
		if (g->v[i].state == TS_STOPPED)
			h->v[h->n++] = g->v[i].th;
	}
	qsort(h->v, h->n, sizeof(*h->v), cmp_held);
}

int hold_process(struct hold *h, pid_t pid, pid_t stopped_tid,
		 int stopped_sig, struct err *e)
{
	struct holding g = { .h = h };
	long long deadline = monotonic_ns() + HOLD_TIMEOUT_NS;
	struct err ignored = { 0 };
	int round;

	memset(h, 0, sizeof(*h));
	h->pid = pid;
	if (stopped_tid > 0) {
		struct pending *p = add(&g, stopped_tid, TS_STOPPED);

		p->th.resume_sig = stopped_sig;
		p->th.callers = true;
	}
	for (round = 0; round < HOLD_MAX_ROUNDS && !h->exited; round++) {
		if (!interrupt_new(&g, &ignored))
			break;
		wait_asked(&g, deadline);
	}
	/* Threads still on their way to the stop are left to the
	 * supervisor: the interrupt stays pending and it resumes them. */
	publish(&g);
	free(g.v);
	if (!h->n)
		return err_set(e, SS_EGONE, "process %d exited", (int)pid);
	return 0;
}

const struct held_thread *hold_thread(const struct hold *h, pid_t tid)
{
	for (size_t i = 0; i < h->n; i++)
		if (h->v[i].tid == tid)
			return &h->v[i];
	return NULL;
}

static void let_go(struct hold *h, bool detach)
{
	for (size_t i = 0; i < h->n; i++) {
		const struct held_thread *t = &h->v[i];

		if (t->callers)
			continue;
		if (detach)
			ptrace(PTRACE_DETACH, t->tid, NULL,
			       (void *)(long)(t->listen ? 0 : t->resume_sig));
		else if (t->listen)
			ptrace(PTRACE_LISTEN, t->tid, NULL, NULL);
		else
			ptrace(PTRACE_CONT, t->tid, NULL,
			       (void *)(long)t->resume_sig);
	}
	free(h->v);
	h->v = NULL;
	h->n = 0;
}

void hold_release(struct hold *h)
{
	let_go(h, false);
}

void hold_detach(struct hold *h)
{
	let_go(h, true);
}

void hold_as_stopset(const struct hold *h, struct stopset *s)
{
	size_t n = h->n ? h->n : 1;

	memset(s, 0, sizeof(*s));
	s->pid = h->pid;
	s->tids = xcalloc(n, sizeof(*s->tids));
	s->fs_base = xcalloc(n, sizeof(*s->fs_base));
	s->in_syscall = xcalloc(n, sizeof(*s->in_syscall));
	for (size_t i = 0; i < h->n; i++) {
		s->tids[i] = h->v[i].tid;
		s->fs_base[i] = h->v[i].regs.fs_base;
		s->in_syscall[i] = h->v[i].in_syscall;
	}
	s->n = h->n;
}
