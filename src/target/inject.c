/* Remote system calls and memory writes on a held thread.  See inject.h. */
#include "target/inject.h"
#include "util/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* A single step over mmap, mprotect or munmap takes microseconds, but on
 * a loaded machine the thread may wait long for a CPU to run it.  Giving
 * up early is the one thing that must not happen: the thread would later
 * run on from the gadget with the registers set up for the call, not its
 * own (CI: SIGSEGV at abort()'s hlt after a munmap from libc's gadget). */
#define STEP_TIMEOUT_NS 60000000000LL
#define STEP_NAP_MAX_NS 1000000L
#define STEP_MAX_SIGNALS 16
#define GADGET_SCAN (1u << 20)
#define GADGET_SLICE 16384

int inject_get_regs(pid_t tid, arch_regs *r, struct err *e)
{
	if (ptrace(PTRACE_GETREGS, tid, NULL, r) == 0)
		return 0;
	if (errno == ESRCH)
		return err_set(e, SS_EGONE, "thread %d exited", (int)tid);
	return err_set(e, SS_EIO, "cannot read the registers of thread %d: "
		       "%s", (int)tid, strerror(errno));
}

int inject_set_regs(pid_t tid, const arch_regs *r, struct err *e)
{
	if (ptrace(PTRACE_SETREGS, tid, NULL, r) == 0)
		return 0;
	if (errno == ESRCH)
		return err_set(e, SS_EGONE, "thread %d exited", (int)tid);
	return err_set(e, SS_EIO, "cannot set the registers of thread %d: %s",
		       (int)tid, strerror(errno));
}

/* Wait (bounded) for tid's next stop after a resume.  0 with *sig the
 * stop signal, or SS_EGONE when it exited. */
static int wait_stop(pid_t tid, int *sig, struct err *e)
{
	long long deadline = monotonic_ns() + STEP_TIMEOUT_NS;
	long nap = 20000;
	int status;
	pid_t r;

	for (;;) {
		r = waitpid(tid, &status, __WALL | WNOHANG);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || (r > 0 && !WIFSTOPPED(status)))
			return err_set(e, SS_EGONE, "thread %d exited while "
				       "snakescope ran a system call in it",
				       (int)tid);
		if (r > 0) {
			*sig = WSTOPSIG(status);
			/* an event stop (our interrupt) carries no signal */
			if (status >> 16)
				*sig = 0;
			return 0;
		}
		if (monotonic_ns() > deadline)
			return err_set(e, SS_EIO, "thread %d did not come back "
				       "from a single step within %lld s",
				       (int)tid, STEP_TIMEOUT_NS / 1000000000LL);
		nanosleep(&(struct timespec){ 0, nap }, NULL);
		nap = nap * 2 > STEP_NAP_MAX_NS ? STEP_NAP_MAX_NS : nap * 2;
	}
}

/* Single-step tid over one instruction; a real signal that arrives
 * instead is kept for release and the step tried again. */
static int step(struct stopset *s, pid_t tid, struct err *e)
{
	for (int i = 0; i < STEP_MAX_SIGNALS; i++) {
		int sig = 0, rc;

		if (ptrace(PTRACE_SINGLESTEP, tid, NULL, NULL) < 0)
			return err_set(e, errno == ESRCH ? SS_EGONE : SS_EIO,
				       "cannot single-step thread %d: %s",
				       (int)tid, strerror(errno));
		rc = wait_stop(tid, &sig, e);
		if (rc)
			return rc;
		if (sig == SIGTRAP)
			return 0;
		if (sig)
			stopset_keep_signal(s, tid, sig);
	}
	return err_set(e, SS_EIO, "thread %d kept receiving signals",
		       (int)tid);
}

int inject_syscall(struct stopset *s, pid_t tid, uint64_t gadget, long nr,
		   const uint64_t a[6], int64_t *ret, struct err *e)
{
	arch_regs saved, r;
	int rc;

	rc = inject_get_regs(tid, &saved, e);
	if (rc)
		return rc;
	r = saved;
	arch_setup_syscall(&r, gadget, nr, a);
	rc = inject_set_regs(tid, &r, e);
	if (!rc)
		rc = step(s, tid, e);
	if (!rc)
		rc = inject_get_regs(tid, &r, e);
	if (!rc)
		*ret = arch_syscall_result(&r);
	/* Put everything back whatever happened, the interrupted call's
	 * restart state included. */
	if (inject_set_regs(tid, &saved, e) && !rc)
		rc = e->code;
	return rc;
}

int inject_mmap(struct stopset *s, pid_t tid, uint64_t gadget, size_t len,
		uint64_t *addr, struct err *e)
{
	const uint64_t a[6] = { 0, len, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, (uint64_t)-1, 0 };
	int64_t ret = 0;
	int rc = inject_syscall(s, tid, gadget, SYS_mmap, a, &ret, e);

	if (rc)
		return rc;
	if (ret < 0 && ret > -4096)
		return err_set(e, SS_EIO, "mmap in the target failed: %s",
			       strerror((int)-ret));
	*addr = (uint64_t)ret;
	return 0;
}

int inject_make_exec(struct stopset *s, pid_t tid, uint64_t gadget,
		     uint64_t addr, size_t len, struct err *e)
{
	const uint64_t a[6] = { addr, len, PROT_READ | PROT_EXEC, 0, 0, 0 };
	int64_t ret = 0;
	int rc = inject_syscall(s, tid, gadget, SYS_mprotect, a, &ret, e);

	if (!rc && ret < 0)
		rc = err_set(e, SS_EIO, "mprotect in the target failed: %s "
			     "(executable memory forbidden?)",
			     strerror((int)-ret));
	return rc;
}

int inject_munmap(struct stopset *s, pid_t tid, uint64_t gadget,
		  uint64_t addr, size_t len, struct err *e)
{
	const uint64_t a[6] = { addr, len, 0, 0, 0, 0 };
	int64_t ret = 0;
	int rc = inject_syscall(s, tid, gadget, SYS_munmap, a, &ret, e);

	if (!rc && ret < 0)
		rc = err_set(e, SS_EIO, "munmap in the target failed: %s",
			     strerror((int)-ret));
	return rc;
}

int inject_write(pid_t pid, uint64_t addr, const void *buf, size_t len,
		 struct err *e)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, errno == ENOENT ? SS_EGONE : SS_EIO,
			       "cannot open %s: %s", path, strerror(errno));
	n = pwrite(fd, buf, len, (off_t)addr);
	close(fd);
	if (n != (ssize_t)len)
		return err_set(e, SS_EIO, "cannot write %zu bytes at 0x%llx in "
			       "process %d: %s", len, (unsigned long long)addr,
			       (int)pid, n < 0 ? strerror(errno) : "short write");
	return 0;
}

static bool is_libc(const char *path)
{
	const char *b = strrchr(path, '/');

	b = b ? b + 1 : path;
	return strncmp(b, "libc.so", 7) == 0 || strncmp(b, "libc-", 5) == 0;
}

/* In slices, stopping at the first hit: libc's text has one within its
 * first pages, and reading a whole megabyte costs milliseconds. */
static int scan_mapping(struct memsrc *mem, const struct mapping *m,
			uint64_t *gadget)
{
	uint64_t end = m->end - m->start > GADGET_SCAN ?
		       m->start + GADGET_SCAN : m->end;
	uint8_t buf[GADGET_SLICE + 1];

	/* slices overlap by one byte: an instruction may straddle two */
	for (uint64_t at = m->start; at + 1 < end; at += GADGET_SLICE) {
		size_t len = end - at > sizeof(buf) ? sizeof(buf) : end - at;

		if (memsrc_read(mem, at, buf, len))
			return 0;
		for (size_t i = 0; i + 1 < len; i++) {
			if (!memcmp(buf + i, arch_syscall_insn, 2)) {
				*gadget = at + i;
				return 1;
			}
		}
	}
	return 0;
}

int inject_find_gadget(struct memsrc *mem, const struct maps *maps,
		       uint64_t *gadget, struct err *e)
{
	/* libc first: its system-call wrappers are sure to have one. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < maps->n; i++) {
			const struct mapping *m = &maps->v[i];

			if (m->perms[2] != 'x' || !m->path ||
			    (pass == 0 && !is_libc(m->path)))
				continue;
			if (scan_mapping(mem, m, gadget))
				return 0;
		}
	}
	return err_set(e, SS_ENOTPY, "no system-call instruction found in "
		       "the target's executable mappings");
}
