/* /proc parsing against this process and small children of it. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "target/procfs.h"

static long long mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
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

static const struct mapping *find_addr(const struct maps *m, uint64_t a)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].start <= a && a < m->v[i].end)
			return &m->v[i];
	return NULL;
}

static void test_maps_self(void **state)
{
	struct maps m;
	struct err e = { 0 };
	const struct mapping *code, *anon;
	char exe[PATH_MAX];
	ssize_t n;
	void *region;
	bool stack = false;

	(void)state;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	assert_true(n > 0);
	exe[n] = '\0';
	region = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(region != MAP_FAILED);
	/* keep it from merging with a neighbour of the same protection */
	assert_int_equal(mprotect(region, 4096, PROT_READ), 0);

	assert_int_equal(procfs_read_maps(getpid(), &m, &e), 0);
	assert_true(m.n > 5);
	for (size_t i = 1; i < m.n; i++)
		assert_true(m.v[i - 1].end <= m.v[i].start);

	code = find_addr(&m, (uintptr_t)&test_maps_self);
	assert_non_null(code);
	assert_string_equal(code->path, exe);
	assert_int_equal(code->perms[2], 'x');
	assert_false(code->deleted);
	assert_true(code->inode != 0);

	anon = find_addr(&m, (uintptr_t)region);
	assert_non_null(anon);
	assert_null(anon->path);
	assert_string_equal(anon->perms, "r--p");
	assert_int_equal(anon->inode, 0);

	for (size_t i = 0; i < m.n; i++)
		if (m.v[i].path && strcmp(m.v[i].path, "[stack]") == 0)
			stack = true;
	assert_true(stack);
	maps_release(&m);
	maps_release(&m);
	assert_int_equal(m.n, 0);
	munmap(region, 4096);
}

/* A file name with blanks, mapped and then deleted. */
static void test_maps_deleted(void **state)
{
	char path[] = "/tmp/ss maps (x) test XXXXXX";
	struct maps m;
	struct err e = { 0 };
	const struct mapping *f;
	void *p;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 4096), 0);
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	assert_true(p != MAP_FAILED);
	close(fd);

	assert_int_equal(procfs_read_maps(getpid(), &m, &e), 0);
	f = find_addr(&m, (uintptr_t)p);
	assert_non_null(f);
	assert_string_equal(f->path, path);
	assert_false(f->deleted);
	assert_string_equal(f->perms, "r--s");
	maps_release(&m);

	unlink(path);
	assert_int_equal(procfs_read_maps(getpid(), &m, &e), 0);
	f = find_addr(&m, (uintptr_t)p);
	assert_non_null(f);
	assert_string_equal(f->path, path);
	assert_true(f->deleted);
	maps_release(&m);
	munmap(p, 4096);
}

static void test_gone(void **state)
{
	struct maps m;
	struct err e = { 0 };
	pid_t *tids;
	size_t n;
	char buf[64], st;
	pid_t t;

	(void)state;
	assert_int_equal(procfs_read_maps(0x3ffffff0, &m, &e), SS_EGONE);
	assert_string_equal(e.msg, "no process with pid 1073741808");
	assert_int_equal(m.n, 0);
	assert_int_equal(procfs_list_tids(0x3ffffff0, &tids, &n, &e),
			 SS_EGONE);
	assert_int_equal(procfs_thread_state(0x3ffffff0, 0x3ffffff0, &st),
			 SS_EGONE);
	assert_int_equal(procfs_ns_tid(0x3ffffff0, 0x3ffffff0, &t), SS_EGONE);
	assert_int_equal(procfs_comm(0x3ffffff0, buf, sizeof(buf)), SS_EGONE);
	assert_int_equal(procfs_exe(0x3ffffff0, buf, sizeof(buf)), SS_EGONE);
	assert_int_equal(procfs_pid_exists(0x3ffffff0), 0);
	assert_int_equal(procfs_pid_exists(0), 0);
	assert_int_equal(procfs_pid_exists(getpid()), 1);
}

struct blocked {
	int fd;
	pid_t tid;
	pid_t ns_tid;
	int rc;
};

static void *blocked_main(void *arg)
{
	struct blocked *b = arg;
	char c;

	__atomic_store_n(&b->tid, gettid(), __ATOMIC_SEQ_CST);
	b->rc = procfs_ns_tid(getpid(), gettid(), &b->ns_tid);
	if (read(b->fd, &c, 1) < 0)
		b->rc = -1;
	return NULL;
}

static void test_threads_self(void **state)
{
	struct blocked b[2];
	pthread_t th[2];
	struct err e = { 0 };
	pid_t *tids, ns, tracer = -1;
	size_t n, found = 0;
	int p[2];
	char st;

	(void)state;
	assert_int_equal(pipe(p), 0);
	for (int i = 0; i < 2; i++) {
		b[i] = (struct blocked){ .fd = p[0] };
		assert_int_equal(pthread_create(&th[i], NULL, blocked_main,
						&b[i]), 0);
		while (!__atomic_load_n(&b[i].tid, __ATOMIC_SEQ_CST))
			sched_yield();
	}
	assert_int_equal(procfs_list_tids(getpid(), &tids, &n, &e), 0);
	assert_int_equal(n, 3);
	for (size_t i = 0; i < n; i++) {
		if (i)
			assert_true(tids[i - 1] < tids[i]);
		found += tids[i] == getpid() || tids[i] == b[0].tid ||
			 tids[i] == b[1].tid;
	}
	assert_int_equal(found, 3);
	free(tids);

	assert_int_equal(procfs_ns_tid(getpid(), getpid(), &ns), 0);
	assert_int_equal(ns, getpid());
	assert_true(wait_state(getpid(), b[0].tid, 'S', 2000));
	assert_int_equal(procfs_thread_state(getpid(), gettid(), &st), 0);
	assert_int_equal(st, 'R');
	assert_int_equal(procfs_tracer_pid(getpid(), gettid(), &tracer), 0);
	assert_int_equal(tracer, 0);
	assert_int_equal(write(p[1], "xy", 2), 2);
	for (int i = 0; i < 2; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(b[i].rc, 0);
		assert_int_equal(b[i].ns_tid, b[i].tid);
	}
	close(p[0]);
	close(p[1]);
}

/* comm may hold ')' and blanks; the state after it must still parse. */
static void test_state_of_stopped_child(void **state)
{
	const char *name = "a) b) (c";
	char comm[32], st;
	int p[2], ws;
	pid_t c, tracer = 0;

	(void)state;
	assert_int_equal(pipe(p), 0);
	c = fork();
	assert_true(c >= 0);
	if (c == 0) {
		char ch;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		prctl(PR_SET_NAME, name);
		close(p[1]);
		while (read(p[0], &ch, 1) > 0)
			;
		_exit(0);
	}
	close(p[0]);
	/* the name is set before the child blocks */
	assert_true(wait_state(c, c, 'S', 2000));
	assert_int_equal(procfs_comm(c, comm, sizeof(comm)), 0);
	assert_string_equal(comm, name);
	assert_int_equal(procfs_comm(c, comm, 4), 0);
	assert_string_equal(comm, "a) ");

	assert_int_equal(ptrace(PTRACE_SEIZE, c, NULL, NULL), 0);
	assert_int_equal(ptrace(PTRACE_INTERRUPT, c, NULL, NULL), 0);
	assert_int_equal(waitpid(c, &ws, __WALL), c);
	assert_true(WIFSTOPPED(ws));
	assert_int_equal(procfs_thread_state(c, c, &st), 0);
	assert_int_equal(st, 't');
	assert_int_equal(procfs_tracer_pid(c, c, &tracer), 0);
	assert_int_equal(tracer, getpid());
	assert_int_equal(ptrace(PTRACE_DETACH, c, NULL, NULL), 0);
	assert_int_equal(procfs_tracer_pid(c, c, &tracer), 0);
	assert_int_equal(tracer, 0);

	kill(c, SIGSTOP);
	assert_int_equal(waitpid(c, &ws, WUNTRACED), c);
	assert_int_equal(procfs_thread_state(c, c, &st), 0);
	assert_int_equal(st, 'T');
	kill(c, SIGCONT);
	close(p[1]);
	assert_int_equal(waitpid(c, &ws, 0), c);
	assert_true(WIFEXITED(ws));
}

/* An executable deleted after exec: the link says " (deleted)". */
static void test_exe(void **state)
{
	char self[PATH_MAX], buf[PATH_MAX], copy[] = "/tmp/ss-exe-XXXXXX";
	char small[8];
	int in, out, p[2], q[2], ws;
	ssize_t n;
	pid_t c;

	(void)state;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	assert_true(n > 0);
	self[n] = '\0';
	assert_int_equal(procfs_exe(getpid(), buf, sizeof(buf)), 0);
	assert_string_equal(buf, self);
	assert_int_equal(procfs_exe(getpid(), small, sizeof(small)), SS_EIO);

	/* copy /bin/sh and run it, so there is an exe we may delete */
	in = open("/bin/sh", O_RDONLY);
	assert_true(in >= 0);
	out = mkstemp(copy);
	assert_true(out >= 0);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		assert_int_equal(write(out, buf, (size_t)n), n);
	close(in);
	assert_int_equal(fchmod(out, 0700), 0);
	close(out);
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(pipe2(q, O_CLOEXEC), 0);
	c = fork();
	assert_true(c >= 0);
	if (c == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(p[0]);
		/* the shell waits on a pipe we hold */
		if (dup2(q[0], 0) < 0)
			_exit(126);
		execl(copy, "sh", "-c", "read x", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	close(q[0]);
	/* EOF once the exec closed the write end */
	assert_int_equal(read(p[0], buf, 1), 0);
	close(p[0]);
	unlink(copy);
	assert_int_equal(procfs_exe(c, buf, sizeof(buf)), 0);
	assert_string_equal(buf, copy);
	close(q[1]);
	assert_int_equal(waitpid(c, &ws, 0), c);
}

static void test_root_path(void **state)
{
	char buf[64], want[64];

	(void)state;
	assert_int_equal(procfs_root_path(getpid(), "/etc/passwd", buf,
					  sizeof(buf)), 0);
	snprintf(want, sizeof(want), "/proc/%d/root/etc/passwd",
		 (int)getpid());
	assert_string_equal(buf, want);
	assert_int_equal(access(buf, R_OK), 0);
	assert_int_equal(procfs_root_path(getpid(), "etc/passwd", buf,
					  sizeof(buf)), 0);
	assert_string_equal(buf, want);
	assert_int_equal(procfs_root_path(getpid(), "/etc/passwd", buf, 12),
			 SS_EIO);
	assert_int_equal(procfs_yama_ptrace_scope() >= -1, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_maps_self),
		cmocka_unit_test(test_maps_deleted),
		cmocka_unit_test(test_gone),
		cmocka_unit_test(test_threads_self),
		cmocka_unit_test(test_state_of_stopped_child),
		cmocka_unit_test(test_exe),
		cmocka_unit_test(test_root_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
