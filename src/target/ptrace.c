/* Stopping and releasing every thread of a process with ptrace.
 *
 * Safety comes first here: whatever happens (errors, signals, threads that
 * never stop, snakescope crashing), the target must end up running as if
 * nothing had happened.  The rules that give that:
 *
 *  - PTRACE_SEIZE with no options, then PTRACE_INTERRUPT: the stop is a
 *    ptrace event, no signal is sent, and a thread blocked in a
 *    restartable system call has it restarted on detach (sleep, select,
 *    poll, read see no EINTR; epoll_wait and sigtimedwait do, as after
 *    any stop: see ptrace.h).
 *  - all ptrace calls are made by a helper thread that lives exactly as
 *    long as the set is held.  Attachments belong to the tracing thread,
 *    and when it exits the kernel detaches whatever is still attached,
 *    including threads that never reached their stop and so cannot be
 *    detached with PTRACE_DETACH (ESRCH until stopped).  The same happens
 *    if snakescope dies.
 *  - a signal the kernel handed us in a signal-delivery-stop is handed
 *    back on detach, so the target loses nothing.
 *  - Ctrl-C and friends are blocked while the set is held and delivered
 *    after release.
 */
#include "target/ptrace.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "target/perm.h"
#include "target/procfs.h"
#include "util/clock.h"

#define STOP_TIMEOUT_NS 1000000000LL /* for all threads together */
/* A thread the OS shows runnable takes its stop as soon as it gets a CPU:
 * on a loaded machine that can take longer than STOP_TIMEOUT_NS, and
 * giving up then ("try again later") helps nobody.  A thread in any other
 * state that has not stopped by then (D: waiting in the kernel, e.g. on a
 * dead NFS server) may never stop. */
#define STOP_TIMEOUT_RUNNABLE_NS 5000000000LL
#define STOP_MAX_ROUNDS 100
#define NAP_MIN_NS 20000L  /* first pause while polling for stops */
#define NAP_MAX_NS 200000L

/* Signals that must not kill snakescope while the target is held. */
static const int held_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
static const char *const held_names[] = { "SIGINT", "SIGTERM", "SIGHUP",
					  "SIGQUIT" };
#define NHELD (sizeof(held_signals) / sizeof(held_signals[0]))

enum th_state {
	TH_SEIZED,  /* attached, stop not reported yet */
	TH_STOPPED, /* stopped and reported: can be inspected and detached */
	TH_GONE,    /* never attached, exited, or left to the kernel */
};

struct th {
	pid_t tid;
	enum th_state state;
	int sig; /* signal to hand back on detach, 0 if none */
	uint64_t fs_base;
	bool in_syscall;
	struct cpu_regs regs;
};

enum phase {
	PH_STOPPING, /* helper is stopping the threads */
	PH_HOLDING,  /* all stopped; helper waits for PH_RELEASE or a job */
	PH_RELEASE,  /* caller asks the helper to let go and exit */
	PH_DONE,     /* helper failed, released everything and exits */
};

struct stopset_tracer {
	pid_t pid;
	pid_t only; /* nonzero: hold this one thread, not the whole process */
	struct err *e;
	sigset_t watch; /* held signals the caller had not blocked itself */
	struct th *th;
	size_t n, cap;
	int rc;
	enum phase phase;
	/* a job for the helper while holding (stopset_run) */
	int (*job)(void *arg);
	void *job_arg;
	int job_rc;
	bool job_done;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
};

static const char *state_name(char c)
{
	switch (c) {
	case 'D':
		return "uninterruptible sleep, usually disk or network "
		       "file system I/O";
	case 'R':
		return "running";
	case 'S':
		return "sleeping";
	case 'T':
		return "stopped";
	case 't':
		return "traced";
	case 'Z':
		return "zombie";
	default:
		return "unknown state";
	}
}

static struct th *find_th(struct stopset_tracer *t, pid_t tid)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->th[i].tid == tid)
			return &t->th[i];
	return NULL;
}

static struct th *add_th(struct stopset_tracer *t, pid_t tid)
{
	if (t->n == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 16;
		struct th *v = realloc(t->th, ncap * sizeof(*v));

		if (!v)
			return NULL;
		t->th = v;
		t->cap = ncap;
	}
	t->th[t->n] = (struct th){ .tid = tid, .state = TH_GONE };
	return &t->th[t->n++];
}

/* SS_EINTR if one of the signals we hold back is pending.  Only signals
 * the caller had not blocked itself count: those are the ones that would
 * have interrupted snakescope had we not blocked them. */
static int check_signals(struct stopset_tracer *t)
{
	sigset_t pend;

	if (sigpending(&pend) < 0)
		return 0;
	for (size_t i = 0; i < NHELD; i++)
		if (sigismember(&t->watch, held_signals[i]) &&
		    sigismember(&pend, held_signals[i]))
			return err_set(t->e, SS_EINTR,
				       "interrupted by %s while stopping "
				       "process %d", held_names[i],
				       (int)t->pid);
	return 0;
}

/* Attach to one thread and ask it to stop. */
static int seize_one(struct stopset_tracer *t, struct th *th)
{
	char st;
	int rc;

	if (ptrace(PTRACE_SEIZE, th->tid, NULL, NULL) < 0) {
		if (errno == ESRCH) /* exited since it was listed */
			return 0;
		if (errno != EPERM)
			return err_set(t->e, SS_EIO,
				       "cannot attach to thread %d of process "
				       "%d: %s", (int)th->tid, (int)t->pid,
				       strerror(errno));
		/* Exiting threads and zombies refuse with EPERM too; a
		 * zombie leader stays listed while other threads run. */
		rc = procfs_thread_state(t->pid, th->tid, &st);
		if (rc == SS_EGONE || (rc == 0 && (st == 'Z' || st == 'X')))
			return 0;
		return perm_error(t->e, t->pid, th->tid, "attach to");
	}
	th->state = TH_SEIZED;
	/* ESRCH: it is exiting; waitpid() will report the exit. */
	if (ptrace(PTRACE_INTERRUPT, th->tid, NULL, NULL) < 0 &&
	    errno != ESRCH)
		return err_set(t->e, SS_EIO,
			       "cannot interrupt thread %d of process %d: %s",
			       (int)th->tid, (int)t->pid, strerror(errno));
	return 0;
}

/* Collect the stop (or exit) of a seized thread, if it has one to report.
 * Waiting per tid, never for -1, keeps us from reaping children of the
 * caller's that are none of our business. */
static void poll_one(struct th *th)
{
	int status;
	pid_t r;

	do
		r = waitpid(th->tid, &status, __WALL | WNOHANG);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return;
	if (r < 0 || !WIFSTOPPED(status)) {
		/* exited and reaped, or (ECHILD) no longer ours */
		th->state = TH_GONE;
		return;
	}
	th->state = TH_STOPPED;
	/* No event in the high bits means a signal-delivery-stop: the
	 * thread dequeued a real signal and the kernel handed it to us to
	 * decide on; give it back on detach.  PTRACE_EVENT_STOP (our
	 * interrupt, or a group-stop of an already stopped process, which
	 * the kernel re-establishes on detach) carries nothing to give
	 * back. */
	th->sig = (status >> 16) == 0 ? WSTOPSIG(status) : 0;
}

long long stopset_stop_patience_ns(char state)
{
	return state == 'R' ? STOP_TIMEOUT_RUNNABLE_NS : STOP_TIMEOUT_NS;
}

/* For a thread that shows a tracing stop we were never told of: whether
 * we hold it (its stop report went missing) or another tracer does. */
static const char *traced_how(const struct stopset_tracer *t, pid_t tid,
			      char st)
{
	pid_t tracer = 0;

	if (st != 't' || procfs_tracer_pid(t->pid, tid, &tracer) || tracer <= 0)
		return "";
	return tracer == gettid() ?
	       " by snakescope, which was not told of the stop" :
	       " by another process";
}

/* Past the deadline, `waited` ns after the stops were asked for: threads
 * that are dying are no obstacle (the kernel cleans them up when the
 * helper exits), runnable ones are waited for a while longer; any other
 * is an error. */
static int stop_timeout(struct stopset_tracer *t, long long waited)
{
	for (size_t i = 0; i < t->n; i++) {
		struct th *th = &t->th[i];
		char st = '?';
		int rc;

		if (th->state != TH_SEIZED)
			continue;
		rc = procfs_thread_state(t->pid, th->tid, &st);
		if (rc == SS_EGONE || (rc == 0 && (st == 'Z' || st == 'X'))) {
			th->state = TH_GONE;
			continue;
		}
		if (waited < stopset_stop_patience_ns(st))
			continue;
		return err_set(t->e, SS_EIO,
			       "thread %d of process %d did not stop within "
			       "%lld s (state %c: %s%s); try again later",
			       (int)th->tid, (int)t->pid,
			       stopset_stop_patience_ns(st) / 1000000000LL, st,
			       state_name(st), traced_how(t, th->tid, st));
	}
	return 0;
}

/* Wait until every seized thread reported its stop or exit.  Polling with
 * short naps rather than blocking in waitpid() keeps the wait bounded and
 * lets us notice Ctrl-C. */
static int wait_stops(struct stopset_tracer *t, long long deadline)
{
	long nap = 0;

	for (;;) {
		size_t pending = 0;
		int rc;

		for (size_t i = 0; i < t->n; i++) {
			if (t->th[i].state != TH_SEIZED)
				continue;
			poll_one(&t->th[i]);
			pending += t->th[i].state == TH_SEIZED;
		}
		if (!pending)
			return 0;
		rc = check_signals(t);
		if (rc)
			return rc;
		if (monotonic_ns() > deadline) {
			rc = stop_timeout(t, monotonic_ns() - (deadline - STOP_TIMEOUT_NS));
			if (rc)
				return rc;
		}
		if (nap) {
			struct timespec ts = { 0, nap };

			nanosleep(&ts, NULL);
			nap = nap * 2 > NAP_MAX_NS ? NAP_MAX_NS : nap * 2;
		} else {
			nap = NAP_MIN_NS; /* first re-check without a pause */
		}
	}
}

/* The thread pointer of a stopped thread, where we know how to get it, and
 * whether it was stopped inside a system call (orig_rax is -1 in user
 * space): a thread waiting in read/futex/select is idle even if the OS had
 * briefly made it runnable to restart that call. */
static int read_regs(struct th *th)
{
#if defined(__x86_64__)
	struct user_regs_struct regs;

	if (ptrace(PTRACE_GETREGS, th->tid, NULL, &regs) < 0)
		return -errno;
	th->fs_base = regs.fs_base;
	th->in_syscall = (long long)regs.orig_rax >= 0;
	/* Kept whole for native unwinding: only the tracer may ask. */
	regs_from_user(&th->regs, (const uint64_t *)&regs,
		       sizeof(regs) / sizeof(uint64_t));
#else
	th->fs_base = 0;
	th->in_syscall = false;
	memset(&th->regs, 0, sizeof(th->regs));
#endif
	return 0;
}

static int cmp_th(const void *a, const void *b)
{
	pid_t x = ((const struct th *)a)->tid, y = ((const struct th *)b)->tid;

	return (x > y) - (x < y);
}

/* Stop everything; on error the caller releases what was taken. */
static int stop_threads(struct stopset_tracer *t)
{
	long long deadline = monotonic_ns() + STOP_TIMEOUT_NS;
	size_t nstopped = 0;
	int round, rc;

	for (round = 0;; round++) {
		pid_t *tids;
		size_t n, added = 0;

		if (round == STOP_MAX_ROUNDS)
			return err_set(t->e, SS_EIO,
				       "threads of process %d kept appearing "
				       "while stopping it; try again later",
				       (int)t->pid);
		rc = check_signals(t);
		if (rc)
			return rc;
		if (t->only) {
			/* one thread, one round: it creates no other */
			if (round)
				break;
			tids = malloc(sizeof(*tids));
			if (!tids)
				return err_set(t->e, SS_ENOMEM,
					       "out of memory");
			tids[0] = t->only;
			n = 1;
			rc = 0;
		} else {
			rc = procfs_list_tids(t->pid, &tids, &n, t->e);
		}
		if (rc == SS_EGONE && round > 0)
			return err_set(t->e, SS_EGONE, "process %d exited",
				       (int)t->pid);
		if (rc)
			return rc;
		for (size_t i = 0; i < n && !rc; i++) {
			struct th *th;

			/* Known tids, stopped or dropped, are not seized
			 * again; a dropped zombie stays listed. */
			if (find_th(t, tids[i]))
				continue;
			th = add_th(t, tids[i]);
			if (!th)
				rc = err_set(t->e, SS_ENOMEM, "out of memory");
			else
				rc = seize_one(t, th);
			added++;
		}
		free(tids);
		if (!rc)
			rc = wait_stops(t, deadline);
		if (rc)
			return rc;
		/* Stopped threads cannot create threads, and a thread being
		 * created is listed before clone() returns in its creator:
		 * a listing with nothing new means we have them all. */
		if (!added)
			break;
	}
	for (size_t i = 0; i < t->n; i++) {
		struct th *th = &t->th[i];

		if (th->state != TH_STOPPED)
			continue;
		rc = read_regs(th);
		if (rc == -ESRCH) /* SIGKILLed while held */
			th->state = TH_GONE;
		else if (rc)
			return err_set(t->e, SS_EIO,
				       "cannot read registers of thread %d "
				       "of process %d: %s", (int)th->tid,
				       (int)t->pid, strerror(-rc));
		else
			nstopped++;
	}
	if (!nstopped)
		return err_set(t->e, SS_EGONE, "process %d exited",
			       (int)t->pid);
	qsort(t->th, t->n, sizeof(*t->th), cmp_th);
	return 0;
}

/* Let go of every thread we can; the kernel does the rest when the helper
 * thread exits. */
static void detach_all(struct stopset_tracer *t)
{
	for (size_t i = 0; i < t->n; i++) {
		struct th *th = &t->th[i];

		/* It may have stopped meanwhile, possibly with a signal
		 * that must be handed back: collect that first. */
		if (th->state == TH_SEIZED)
			poll_one(th);
		if (th->state != TH_STOPPED)
			continue;
		/* ESRCH: killed while held; nothing left to resume. */
		ptrace(PTRACE_DETACH, th->tid, NULL,
		       (void *)(long)th->sig);
		th->state = TH_GONE;
	}
}

static void *tracer_main(void *arg)
{
	struct stopset_tracer *t = arg;
	int rc = stop_threads(t);

	if (rc)
		detach_all(t);
	pthread_mutex_lock(&t->lock);
	t->rc = rc;
	t->phase = rc ? PH_DONE : PH_HOLDING;
	pthread_cond_broadcast(&t->cond);
	while (!rc && t->phase != PH_RELEASE) {
		if (t->job && !t->job_done) {
			/* Jobs make ptrace requests, which only the tracing
			 * thread may; run them unlocked. */
			int (*job)(void *) = t->job;
			void *job_arg = t->job_arg;

			pthread_mutex_unlock(&t->lock);
			rc = job(job_arg);
			pthread_mutex_lock(&t->lock);
			t->job_rc = rc;
			t->job_done = true;
			rc = 0;
			pthread_cond_broadcast(&t->cond);
			continue;
		}
		pthread_cond_wait(&t->cond, &t->lock);
	}
	pthread_mutex_unlock(&t->lock);
	if (!rc)
		detach_all(t);
	return NULL;
}

static void tracer_free(struct stopset_tracer *t)
{
	pthread_cond_destroy(&t->cond);
	pthread_mutex_destroy(&t->lock);
	free(t->th);
	free(t);
}

/* Start the helper with every signal blocked, so no handler of the
 * caller's ever runs on it and process-directed signals stay pending for
 * the caller's own thread. */
static int tracer_start(struct stopset_tracer *t, struct err *e)
{
	sigset_t all, cur;
	int rc;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &cur);
	rc = pthread_create(&t->thread, NULL, tracer_main, t);
	pthread_sigmask(SIG_SETMASK, &cur, NULL);
	if (rc)
		return err_set(e, rc == EAGAIN ? SS_ENOMEM : SS_EIO,
			       "cannot start the tracing thread: %s",
			       strerror(rc));
	return 0;
}

static void restore_mask(struct stopset *s)
{
	if (s->mask_saved)
		pthread_sigmask(SIG_SETMASK, &s->oldmask, NULL);
	s->mask_saved = false;
}

/* Copy the stopped threads out of the helper's table. */
static int publish(struct stopset *s, const struct stopset_tracer *t,
		   struct err *e)
{
	size_t i, k = 0;
	size_t cap = t->n ? t->n : 1;

	s->tids = malloc(cap * sizeof(*s->tids));
	s->fs_base = malloc(cap * sizeof(*s->fs_base));
	s->in_syscall = malloc(cap * sizeof(*s->in_syscall));
	s->regs = malloc(cap * sizeof(*s->regs));
	s->sig = malloc(cap * sizeof(*s->sig));
	if (!s->tids || !s->fs_base || !s->in_syscall || !s->sig || !s->regs)
		return err_set(e, SS_ENOMEM, "out of memory");
	for (i = 0; i < t->n; i++) {
		if (t->th[i].state != TH_STOPPED)
			continue;
		s->tids[k] = t->th[i].tid;
		s->fs_base[k] = t->th[i].fs_base;
		s->in_syscall[k] = t->th[i].in_syscall;
		s->regs[k] = t->th[i].regs;
		s->sig[k] = t->th[i].sig;
		k++;
	}
	s->n = k;
	return 0;
}

static int stop_set(struct stopset *s, pid_t pid, pid_t only,
		    struct err *e);

int stopset_stop_all(struct stopset *s, pid_t pid, struct err *e)
{
	return stop_set(s, pid, 0, e);
}

int stopset_stop_thread(struct stopset *s, pid_t pid, pid_t tid,
			struct err *e)
{
	return stop_set(s, pid, tid, e);
}

static int stop_set(struct stopset *s, pid_t pid, pid_t only,
		    struct err *e)
{
	struct stopset_tracer *t;
	sigset_t held;
	int rc;

	memset(s, 0, sizeof(*s));
	s->pid = pid;
	if (pid <= 0)
		return err_set(e, SS_EUSAGE, "invalid pid %d", (int)pid);
	if (pid == getpid())
		return err_set(e, SS_EUSAGE,
			       "cannot stop snakescope's own process %d",
			       (int)pid);
	t = calloc(1, sizeof(*t));
	if (!t)
		return err_set(e, SS_ENOMEM, "out of memory");
	t->pid = pid;
	t->only = only;
	t->e = e;
	t->phase = PH_STOPPING;
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->cond, NULL);

	sigemptyset(&held);
	for (size_t i = 0; i < NHELD; i++)
		sigaddset(&held, held_signals[i]);
	pthread_sigmask(SIG_BLOCK, &held, &s->oldmask);
	s->mask_saved = true;
	sigemptyset(&t->watch);
	for (size_t i = 0; i < NHELD; i++)
		if (!sigismember(&s->oldmask, held_signals[i]))
			sigaddset(&t->watch, held_signals[i]);

	rc = tracer_start(t, e);
	if (rc) {
		tracer_free(t);
		restore_mask(s);
		return rc;
	}
	s->tracer = t;
	pthread_mutex_lock(&t->lock);
	while (t->phase == PH_STOPPING)
		pthread_cond_wait(&t->cond, &t->lock);
	rc = t->rc;
	pthread_mutex_unlock(&t->lock);
	if (!rc)
		rc = publish(s, t, e);
	if (rc)
		stopset_release(s);
	return rc;
}

static ssize_t index_of(const struct stopset *s, pid_t tid)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->tids[mid] == tid)
			return (ssize_t)mid;
		if (s->tids[mid] < tid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

uint64_t stopset_fs_base(const struct stopset *s, pid_t tid)
{
	ssize_t i = index_of(s, tid);

	return i < 0 ? 0 : s->fs_base[i];
}

int stopset_in_syscall(const struct stopset *s, pid_t tid)
{
	ssize_t i = index_of(s, tid);

	return i < 0 ? -1 : s->in_syscall[i];
}

const struct cpu_regs *stopset_regs(const struct stopset *s, pid_t tid)
{
	ssize_t i = index_of(s, tid);

	return i < 0 || !s->regs[i].valid ? NULL : &s->regs[i];
}

int stopset_pending_signal(const struct stopset *s, pid_t tid)
{
	ssize_t i = index_of(s, tid);

	return i < 0 ? -1 : s->sig[i];
}

void stopset_keep_signal(struct stopset *s, pid_t tid, int sig)
{
	struct th *th = s->tracer ? find_th(s->tracer, tid) : NULL;

	if (th && !th->sig)
		th->sig = sig;
}

int stopset_run(struct stopset *s, int (*fn)(void *arg), void *arg)
{
	struct stopset_tracer *t = s->tracer;
	int rc;

	if (!t)
		return SS_EGONE;
	pthread_mutex_lock(&t->lock);
	t->job = fn;
	t->job_arg = arg;
	t->job_done = false;
	pthread_cond_broadcast(&t->cond);
	while (!t->job_done)
		pthread_cond_wait(&t->cond, &t->lock);
	rc = t->job_rc;
	t->job = NULL;
	pthread_mutex_unlock(&t->lock);
	return rc;
}

void stopset_release(struct stopset *s)
{
	struct stopset_tracer *t = s->tracer;

	if (t) {
		pthread_mutex_lock(&t->lock);
		if (t->phase == PH_HOLDING)
			t->phase = PH_RELEASE;
		pthread_cond_broadcast(&t->cond);
		pthread_mutex_unlock(&t->lock);
		pthread_join(t->thread, NULL);
		tracer_free(t);
		s->tracer = NULL;
	}
	free(s->tids);
	free(s->fs_base);
	free(s->in_syscall);
	free(s->regs);
	s->regs = NULL;
	free(s->sig);
	s->sig = NULL;
	s->tids = NULL;
	s->fs_base = NULL;
	s->in_syscall = NULL;
	s->n = 0;
	/* Last: a Ctrl-C that arrived meanwhile kills us only now, with
	 * the target already running again. */
	restore_mask(s);
}
