/* Stop sets and live memory against real child processes.
 *
 * Children are forked from this process and synchronised through pipes;
 * where the thing to wait for is a kernel state change that nobody can
 * signal (a thread reaching a blocking call, a detach taking effect) the
 * test polls /proc with a deadline instead of sleeping.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/filter.h>
#include <linux/seccomp.h>

#include <cmocka.h>

#include "target/mem_live.h"
#include "target/procfs.h"
#include "target/ptrace.h"

#define ROUNDS 200
#define SLEEP_S 2

enum { T_MAIN, T_BUSY, T_SLEEP, T_READ, NT };

/* Shared with the child (MAP_SHARED), at the same address in both. */
struct shared {
	atomic_ulong counter;
	pid_t tid[NT];
	uint64_t self[NT];
	int sleep_rc, sleep_errno;
	long long slept_ns;
	ssize_t read_rc;
	int read_errno;
	atomic_int usr1;
	atomic_int rt;
};

struct child {
	pid_t pid;
	struct shared *sh;
	int report;  /* child -> us: 'R' ready, 'S' slept, 'D' read done */
	int sigs;    /* child -> us: one 'U' per SIGUSR1 handled */
	int data;    /* us -> reader thread */
	int ctl;     /* us -> child main thread; closing it ends the child */
	char *edge;  /* last readable byte + 1 before an unmapped page */
};

static struct shared *g_sh;
static int g_report_w, g_sigs_w, g_data_r, g_ctl_r;

static long long mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void put(int fd, char c)
{
	if (write(fd, &c, 1) != 1)
		_exit(90);
}

/* One byte from fd, or -1 after timeout_ms. */
static int get(int fd, int timeout_ms)
{
	struct pollfd p = { fd, POLLIN, 0 };
	char c;

	if (poll(&p, 1, timeout_ms) != 1 || read(fd, &c, 1) != 1)
		return -1;
	return (unsigned char)c;
}

/* Poll /proc until tid is in state want; false after timeout_ms. */
static bool wait_state(pid_t pid, pid_t tid, char want, long timeout_ms)
{
	long long end = mono_ns() + timeout_ms * 1000000LL;
	char st;

	do {
		if (procfs_thread_state(pid, tid, &st) == 0 && st == want)
			return true;
		sched_yield();
	} while (mono_ns() < end);
	return false;
}

/* Poll until nobody traces tid (or it is gone); false after timeout_ms. */
static bool wait_untraced(pid_t pid, pid_t tid, long timeout_ms)
{
	long long end = mono_ns() + timeout_ms * 1000000LL;
	pid_t tr;

	do {
		int rc = procfs_tracer_pid(pid, tid, &tr);

		if (rc == SS_EGONE || (rc == 0 && tr == 0))
			return true;
		sched_yield();
	} while (mono_ns() < end);
	return false;
}

static void on_usr1(int sig)
{
	(void)sig;
	atomic_fetch_add(&g_sh->usr1, 1);
	put(g_sigs_w, 'U');
}

static void on_rt(int sig)
{
	(void)sig;
	atomic_fetch_add(&g_sh->rt, 1);
}

static void hello(int k)
{
	g_sh->tid[k] = gettid();
	g_sh->self[k] = (uint64_t)pthread_self();
}

static void *busy_main(void *arg)
{
	sigset_t usr1;

	(void)arg;
	hello(T_BUSY);
	/* the only thread that takes SIGUSR1, so that no handler can
	 * interrupt the sleeper or the reader */
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigaddset(&usr1, SIGRTMIN);
	pthread_sigmask(SIG_UNBLOCK, &usr1, NULL);
	for (;;)
		atomic_fetch_add_explicit(&g_sh->counter, 1,
					  memory_order_relaxed);
	return NULL;
}

static void *sleep_main(void *arg)
{
	struct timespec req = { SLEEP_S, 0 }, rem;
	long long t0;

	(void)arg;
	hello(T_SLEEP);
	t0 = mono_ns();
	g_sh->sleep_rc = nanosleep(&req, &rem);
	g_sh->sleep_errno = g_sh->sleep_rc ? errno : 0;
	g_sh->slept_ns = mono_ns() - t0;
	put(g_report_w, 'S');
	/* stay, so that the thread count does not depend on how long the
	 * test takes */
	for (;;)
		pause();
	return NULL;
}

static void *read_main(void *arg)
{
	char c;

	(void)arg;
	hello(T_READ);
	g_sh->read_rc = read(g_data_r, &c, 1);
	g_sh->read_errno = g_sh->read_rc < 0 ? errno : 0;
	put(g_report_w, 'D');
	return NULL;
}

static void child_main(void)
{
	void *(*fn[NT])(void *) = { NULL, busy_main, sleep_main, read_main };
	struct sigaction sa;
	sigset_t usr1;
	pthread_t th;
	char c;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* no SA_RESTART: a stray signal would show as EINTR */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = on_rt;
	sigaction(SIGRTMIN, &sa, NULL);
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigaddset(&usr1, SIGRTMIN);
	pthread_sigmask(SIG_BLOCK, &usr1, NULL);
	hello(T_MAIN);
	for (int k = 1; k < NT; k++)
		if (pthread_create(&th, NULL, fn[k], NULL))
			_exit(91);
	for (int k = 1; k < NT; k++)
		while (!__atomic_load_n(&g_sh->tid[k], __ATOMIC_SEQ_CST))
			sched_yield();
	put(g_report_w, 'R');
	while (read(g_ctl_r, &c, 1) > 0)
		put(g_report_w, c); /* echo: proves the main thread runs */
	_exit(0);
}

static void child_start(struct child *c)
{
	int rep[2], sig[2], dat[2], ctl[2];
	long pg = sysconf(_SC_PAGESIZE);
	char *two;

	c->sh = mmap(NULL, sizeof(*c->sh), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(c->sh != MAP_FAILED);
	memset(c->sh, 0, sizeof(*c->sh));
	/* a readable page followed by a hole, for partial reads */
	two = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(two != MAP_FAILED);
	memset(two, 0x5a, pg);
	assert_int_equal(munmap(two + pg, pg), 0);
	c->edge = two + pg;
	assert_int_equal(pipe2(rep, O_CLOEXEC), 0);
	assert_int_equal(pipe2(sig, O_CLOEXEC), 0);
	assert_int_equal(pipe2(dat, O_CLOEXEC), 0);
	assert_int_equal(pipe2(ctl, O_CLOEXEC), 0);
	c->pid = fork();
	assert_true(c->pid >= 0);
	if (c->pid == 0) {
		g_sh = c->sh;
		g_report_w = rep[1];
		g_sigs_w = sig[1];
		g_data_r = dat[0];
		g_ctl_r = ctl[0];
		close(rep[0]);
		close(sig[0]);
		close(dat[1]);
		close(ctl[1]);
		child_main();
	}
	close(rep[1]);
	close(sig[1]);
	close(dat[0]);
	close(ctl[0]);
	c->report = rep[0];
	c->sigs = sig[0];
	c->data = dat[1];
	c->ctl = ctl[1];
	assert_int_equal(get(c->report, 5000), 'R');
}

static void child_kill(struct child *c)
{
	kill(c->pid, SIGKILL);
	waitpid(c->pid, NULL, 0);
	close(c->report);
	close(c->sigs);
	close(c->data);
	close(c->ctl);
	munmap(c->sh, sizeof(*c->sh));
	munmap(c->edge - sysconf(_SC_PAGESIZE), sysconf(_SC_PAGESIZE));
}

static int index_of(const struct child *c, pid_t tid)
{
	for (int k = 0; k < NT; k++)
		if (c->sh->tid[k] == tid)
			return k;
	return -1;
}

/* Every thread runs: the counter moves, nobody traces anything. */
static void assert_running(const struct child *c)
{
	unsigned long before = atomic_load(&c->sh->counter);
	long long end = mono_ns() + 2000000000LL;

	for (int k = 0; k < NT; k++)
		assert_true(wait_untraced(c->pid, c->sh->tid[k], 1000));
	while (atomic_load(&c->sh->counter) == before && mono_ns() < end)
		sched_yield();
	assert_true(atomic_load(&c->sh->counter) != before);
}

/* Attach, stop, detach and go away, as a debugger would.  Exit status 0,
 * else 10 + the step that failed. */
static int other_tracer(const pid_t *tids, size_t n)
{
	size_t k;

	for (k = 0; k < n; k++) {
		int st;

		if (ptrace(PTRACE_SEIZE, tids[k], NULL, NULL))
			return 10;
		if (ptrace(PTRACE_INTERRUPT, tids[k], NULL, NULL))
			return 11;
		if (waitpid(tids[k], &st, __WALL) != tids[k] ||
		    !WIFSTOPPED(st))
			return 12;
	}
	for (k = 0; k < n; k++)
		if (ptrace(PTRACE_DETACH, tids[k], NULL, NULL))
			return 13;
	return 0;
}

static void test_stop_release_loop(void **state)
{
	struct child c;
	struct err e = { 0 };
	long long t0;
	pid_t helper;
	int st;

	(void)state;
	child_start(&c);
	/* Wait until the blocking threads are really blocked. */
	assert_true(wait_state(c.pid, c.sh->tid[T_SLEEP], 'S', 2000));
	assert_true(wait_state(c.pid, c.sh->tid[T_READ], 'S', 2000));
	assert_true(wait_state(c.pid, c.sh->tid[T_MAIN], 'S', 2000));
	t0 = mono_ns();
	for (int i = 0; i < ROUNDS; i++) {
		struct stopset s;
		unsigned long c1, c2;

		/* A signal on its way while we seize: sometimes it reaches
		 * us as a signal-delivery-stop and must be handed back. */
		assert_int_equal(syscall(SYS_tgkill, c.pid, c.sh->tid[T_BUSY],
					 SIGUSR1), 0);
		assert_int_equal(stopset_stop_all(&s, c.pid, &e), 0);
		assert_int_equal(s.n, NT);
		c1 = atomic_load(&c.sh->counter);
		for (size_t k = 0; k < s.n; k++) {
			int idx = index_of(&c, s.tids[k]);
			char ts;

			assert_true(idx >= 0);
			if (k)
				assert_true(s.tids[k - 1] < s.tids[k]);
			assert_int_equal(procfs_thread_state(c.pid, s.tids[k],
							     &ts), 0);
			assert_int_equal(ts, 't');
			assert_true(s.fs_base[k] != 0);
			assert_true(s.fs_base[k] == c.sh->self[idx]);
			assert_true(stopset_fs_base(&s, s.tids[k]) ==
				    s.fs_base[k]);
			for (size_t j = 0; j < k; j++)
				assert_true(s.fs_base[j] != s.fs_base[k]);
		}
		assert_true(stopset_fs_base(&s, 1) == 0);
		c2 = atomic_load(&c.sh->counter);
		assert_true(c1 == c2); /* held still */
		stopset_release(&s);
		stopset_release(&s); /* twice is harmless */
		for (int k = 0; k < NT; k++) {
			pid_t tr = -1;

			assert_int_equal(procfs_tracer_pid(c.pid,
							   c.sh->tid[k], &tr),
					 0);
			assert_int_equal(tr, 0);
		}
		assert_int_equal(get(c.sigs, 2000), 'U'); /* nothing lost */
		assert_running(&c);
	}
	if (getenv("SS_TEST_VERBOSE"))
		fprintf(stderr, "%d rounds in %lld us\n", ROUNDS,
			(mono_ns() - t0) / 1000);
	assert_int_equal(atomic_load(&c.sh->usr1), ROUNDS);

	/* The reader and the sleeper went on as if nothing happened. */
	put(c.data, 'x');
	{
		int a = get(c.report, (SLEEP_S + 1) * 1000);
		int b = get(c.report, (SLEEP_S + 1) * 1000);

		/* either order: the sleeper is done early on a slow machine */
		assert_true((a == 'D' && b == 'S') || (a == 'S' && b == 'D'));
	}
	assert_int_equal(c.sh->read_rc, 1);
	assert_int_equal(c.sh->read_errno, 0);
	assert_int_equal(c.sh->sleep_rc, 0);
	assert_int_equal(c.sh->sleep_errno, 0);
	assert_true(c.sh->slept_ns >= SLEEP_S * 1000000000LL);

	/* Nothing is left attached: someone else can trace it now.  (Of
	 * the threads still alive: the reader may still be on its way
	 * out.) */
	helper = fork();
	assert_true(helper >= 0);
	if (helper == 0) {
		pid_t alive[] = { c.sh->tid[T_MAIN], c.sh->tid[T_BUSY],
				  c.sh->tid[T_SLEEP] };

		_exit(other_tracer(alive, 3));
	}
	assert_int_equal(waitpid(helper, &st, 0), helper);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_running(&c);
	put(c.ctl, 'e');
	assert_int_equal(get(c.report, 2000), 'e');
	child_kill(&c);
}

struct pelter {
	pid_t pid, tid;
	atomic_bool stop;
	int sent;
};

/* Queue real-time signals (they do not merge) at one thread as fast as
 * possible, so that some reach it between our seize and its stop. */
static void *pelt(void *arg)
{
	struct pelter *p = arg;

	while (!atomic_load(&p->stop))
		if (syscall(SYS_tgkill, p->pid, p->tid, SIGRTMIN) == 0)
			p->sent++;
	return NULL;
}

/* Signals that arrive while we stop the threads reach us as
 * signal-delivery-stops; handing them back on detach loses none. */
static void test_signals_handed_back(void **state)
{
	struct child c;
	struct err e = { 0 };
	struct pelter p = { 0 };
	long long end;
	pthread_t th;

	(void)state;
	child_start(&c);
	p.pid = c.pid;
	p.tid = c.sh->tid[T_BUSY];
	assert_int_equal(pthread_create(&th, NULL, pelt, &p), 0);
	for (int i = 0; i < ROUNDS / 2; i++) {
		struct stopset s;

		assert_int_equal(stopset_stop_all(&s, c.pid, &e), 0);
		assert_int_equal(s.n, NT);
		stopset_release(&s);
	}
	atomic_store(&p.stop, true);
	pthread_join(th, NULL);
	assert_true(p.sent > 0);
	if (getenv("SS_TEST_VERBOSE"))
		fprintf(stderr, "sent %d signals\n", p.sent);
	end = mono_ns() + 2000000000LL;
	while (atomic_load(&c.sh->rt) != p.sent && mono_ns() < end)
		sched_yield();
	assert_int_equal(atomic_load(&c.sh->rt), p.sent);
	assert_running(&c);
	child_kill(&c);
}

/* A job-control stop is the target's own state: it must survive us. */
static void test_group_stop_kept(void **state)
{
	struct child c;
	struct stopset s;
	struct err e = { 0 };
	int st;

	(void)state;
	child_start(&c);
	kill(c.pid, SIGSTOP);
	assert_int_equal(waitpid(c.pid, &st, WUNTRACED), c.pid);
	assert_true(WIFSTOPPED(st));
	assert_int_equal(stopset_stop_all(&s, c.pid, &e), 0);
	assert_int_equal(s.n, NT);
	stopset_release(&s);
	for (int k = 0; k < NT; k++) {
		assert_true(wait_untraced(c.pid, c.sh->tid[k], 1000));
		assert_true(wait_state(c.pid, c.sh->tid[k], 'T', 1000));
	}
	kill(c.pid, SIGCONT);
	assert_running(&c);
	put(c.ctl, 'e');
	assert_int_equal(get(c.report, 2000), 'e');
	child_kill(&c);
}

static void test_gone(void **state)
{
	struct stopset s;
	struct err e = { 0 };
	pid_t z;

	(void)state;
	assert_int_equal(stopset_stop_all(&s, 0x3ffffff0, &e), SS_EGONE);
	assert_non_null(strstr(e.msg, "no process with pid"));
	assert_int_equal(s.n, 0);
	stopset_release(&s);

	/* A zombie has nothing left to stop. */
	z = fork();
	assert_true(z >= 0);
	if (z == 0)
		_exit(0);
	assert_true(wait_state(z, z, 'Z', 2000));
	err_clear(&e);
	assert_int_equal(stopset_stop_all(&s, z, &e), SS_EGONE);
	assert_int_equal(waitpid(z, NULL, 0), z);

	err_clear(&e);
	assert_int_equal(stopset_stop_all(&s, getpid(), &e), SS_EUSAGE);
	memset(&s, 0, sizeof(s));
	stopset_release(&s); /* a zeroed set is fine too */
}

static atomic_int g_terms;

static void on_term(int sig)
{
	(void)sig;
	atomic_fetch_add(&g_terms, 1);
}

/* A process whose only thread waits for a vfork child: state D, and a
 * ptrace interrupt cannot stop it until the vfork child goes away. */
static pid_t start_vforker(int *go_w, int *done_r)
{
	int go[2], done[2];
	pid_t pid;

	assert_int_equal(pipe2(go, O_CLOEXEC), 0);
	assert_int_equal(pipe2(done, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char ch;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(go[1]);
		close(done[0]);
		if (vfork() == 0) {
			ssize_t r = read(go[0], &ch, 1);

			_exit(r == 1 ? 0 : 1);
		}
		put(done[1], 'V');
		while (read(go[0], &ch, 1) > 0)
			;
		_exit(0);
	}
	close(go[0]);
	close(done[1]);
	*go_w = go[1];
	*done_r = done[0];
	assert_true(wait_state(pid, pid, 'D', 2000));
	return pid;
}

static void test_unstoppable(void **state)
{
	struct sigaction sa, old;
	struct sigevent sev;
	struct itimerspec its = { { 0, 0 }, { 0, 100000000 } };
	struct stopset s;
	struct err e = { 0 };
	char want[64];
	timer_t timer;
	long long t0;
	int go, done;
	pid_t pid;

	(void)state;
	pid = start_vforker(&go, &done);

	/* Ctrl-C/SIGTERM while waiting: give up early, deliver it after. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, &old);
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = SIGTERM;
	assert_int_equal(timer_create(CLOCK_MONOTONIC, &sev, &timer), 0);
	assert_int_equal(timer_settime(timer, 0, &its, NULL), 0);
	t0 = mono_ns();
	assert_int_equal(stopset_stop_all(&s, pid, &e), SS_EINTR);
	assert_true(mono_ns() - t0 < 900000000LL);
	assert_non_null(strstr(e.msg, "SIGTERM"));
	assert_int_equal(atomic_load(&g_terms), 1); /* delivered on return */
	timer_delete(timer);
	sigaction(SIGTERM, &old, NULL);
	assert_true(wait_untraced(pid, pid, 1000));

	/* No signal: a bounded wait, then an error naming tid and state. */
	err_clear(&e);
	assert_int_equal(stopset_stop_all(&s, pid, &e), SS_EIO);
	snprintf(want, sizeof(want), "thread %d ", (int)pid);
	assert_non_null(strstr(e.msg, want));
	assert_non_null(strstr(e.msg, "state D"));
	assert_int_equal(s.n, 0);
	stopset_release(&s);
	assert_true(wait_untraced(pid, pid, 1000));

	/* Once the vfork child is gone the thread runs on, not stopped. */
	put(go, 'g');
	assert_int_equal(get(done, 2000), 'V');
	close(go);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	close(done);
}

static void test_mem_live(void **state)
{
	struct child c;
	struct memsrc *m;
	struct err e = { 0 };
	pid_t tids[NT];
	char buf[16];
	long pg = sysconf(_SC_PAGESIZE);

	(void)state;
	child_start(&c);
	assert_int_equal(mem_live_open(&m, c.pid, &e), 0);
	assert_string_equal(m->ops->name, "live");
	assert_int_equal(memsrc_read(m, (uintptr_t)c.sh->tid, tids,
				     sizeof(tids)), 0);
	assert_memory_equal(tids, c.sh->tid, sizeof(tids));
	assert_int_equal(memsrc_read(m, (uintptr_t)c.sh, buf, 0), 0);
	/* a whole page up to the hole reads fine */
	{
		char *page = malloc(pg);

		assert_int_equal(memsrc_read(m, (uintptr_t)(c.edge - pg),
					     page, pg), 0);
		assert_int_equal(page[0], 0x5a);
		assert_int_equal(page[pg - 1], 0x5a);
		free(page);
	}
	/* across the hole: an error, never half a result */
	assert_int_equal(memsrc_read(m, (uintptr_t)(c.edge - 8), buf,
				     sizeof(buf)), SS_EFAULT);
	assert_int_equal(e.code, SS_EFAULT);
	snprintf(buf, sizeof(buf), "%lx", (unsigned long)(uintptr_t)c.edge);
	assert_non_null(strstr(e.msg, buf));
	assert_int_equal(memsrc_read(m, 8, buf, 8), SS_EFAULT);
	assert_non_null(strstr(e.msg, "0x8 "));
	assert_int_equal(memsrc_read(m, UINT64_MAX - 4, buf, 8), SS_EFAULT);
	child_kill(&c);
	assert_int_equal(memsrc_read(m, (uintptr_t)c.sh, buf, 8), SS_EGONE);
	assert_non_null(strstr(e.msg, "exited"));
	m->ops->release(m);

	err_clear(&e);
	assert_int_equal(mem_live_open(&m, 0x3ffffff0, &e), SS_EGONE);
}

/* Make process_vm_readv fail with ENOSYS in this process, as on kernels
 * without it, so that mem_live falls back to /proc/PID/mem. */
static int deny_process_vm_readv(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_process_vm_readv, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

static int procmem_checks(pid_t pid, const struct shared *sh,
			  const char *edge)
{
	struct memsrc *m;
	struct err e = { 0 };
	pid_t tids[NT];
	char buf[16];

	if (deny_process_vm_readv())
		return 10;
	if (process_vm_readv(pid, NULL, 0, NULL, 0, 0) == 0 ||
	    errno != ENOSYS)
		return 11;
	if (mem_live_open(&m, pid, &e))
		return 12;
	if (memsrc_read(m, (uintptr_t)sh->tid, tids, sizeof(tids)) ||
	    memcmp(tids, sh->tid, sizeof(tids)))
		return 13;
	if (memsrc_read(m, (uintptr_t)(edge - 8), buf, sizeof(buf)) !=
	    SS_EFAULT)
		return 14;
	if (memsrc_read(m, 8, buf, 8) != SS_EFAULT)
		return 15;
	if (memsrc_read(m, UINT64_MAX - 4, buf, 8) != SS_EFAULT)
		return 16;
	m->ops->release(m);
	return 0;
}

static void test_mem_live_procmem(void **state)
{
	struct child c;
	pid_t p;
	int st;

	(void)state;
	child_start(&c);
	p = fork();
	assert_true(p >= 0);
	if (p == 0)
		_exit(procmem_checks(c.pid, c.sh, c.edge));
	assert_int_equal(waitpid(p, &st, 0), p);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	child_kill(&c);
}

/* A runnable thread that has not taken its stop is waiting for a CPU and
 * is waited for longer; one in the kernel (D) may never stop. */
static void test_stop_patience(void **state)
{
	(void)state;
	assert_true(stopset_stop_patience_ns('R') >= 5000000000LL);
	assert_int_equal(stopset_stop_patience_ns('D'), 1000000000LL);
	assert_int_equal(stopset_stop_patience_ns('S'), 1000000000LL);
	assert_int_equal(stopset_stop_patience_ns('?'), 1000000000LL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stop_patience),
		cmocka_unit_test(test_stop_release_loop),
		cmocka_unit_test(test_signals_handed_back),
		cmocka_unit_test(test_group_stop_kept),
		cmocka_unit_test(test_gone),
		cmocka_unit_test(test_unstoppable),
		cmocka_unit_test(test_mem_live),
		cmocka_unit_test(test_mem_live_procmem),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
