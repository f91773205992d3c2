#include "cmd/live.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "target/mem_cache.h"
#include "target/mem_live.h"
#include "target/ptrace.h"
#include "util/xalloc.h"

/* What the OS says about one thread, gathered before stopping it (a
 * stopped thread's state would only say "traced"). */
struct os_thread {
	pid_t tid;
	pid_t ns_tid;
	char state;
	int in_syscall;           /* at the stop: 1, 0, or -1 not stopped */
};

struct os_threads {
	struct os_thread *v;
	size_t n;
};

/* Gone, or a zombie whose memory is already released: whatever failed, the
 * reason to report is that the process exited. */
/* PF_EXITING from the task's flags (field 9 of /proc/PID/stat): set at the
 * start of do_exit(), before the address space is torn down, so a failed
 * read of an exiting process can be told from a corrupt one. */
#define PF_EXITING 0x4u

static bool process_exiting(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long flags = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return true;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return true;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %lu", &flags) != 1)
		return false;
	return flags & PF_EXITING;
}

/* Gone, a zombie, or on its way out: whatever failed, the reason to report
 * is that the process exited. */
static bool process_gone(pid_t pid)
{
	char state = '?';

	if (!procfs_pid_exists(pid))
		return true;
	if (procfs_thread_state(pid, pid, &state) == 0 &&
	    (state == 'Z' || state == 'X'))
		return true;
	return process_exiting(pid);
}

static int exited(pid_t pid, const char *when, struct err *e)
{
	return err_set(e, SS_EGONE, "process %d exited%s", (int)pid, when);
}

int live_open(struct live *lv, pid_t pid, struct err *e)
{
	int rc;

	memset(lv, 0, sizeof(*lv));
	lv->pid = pid;
	if (!procfs_pid_exists(pid))
		return err_set(e, SS_EGONE, "no process with pid %d", (int)pid);
	rc = procfs_read_maps(pid, &lv->maps, e);
	if (!rc)
		rc = mem_live_open(&lv->raw, pid, e);
	if (!rc) {
		lv->mem = mem_cache_new(lv->raw);
		rc = py_proc_detect(&lv->py, pid, lv->mem, &lv->maps, e);
	}
	if (rc && process_gone(pid))
		rc = exited(pid, "", e);
	if (rc)
		live_close(lv);
	return rc;
}

void live_close(struct live *lv)
{
	if (lv->mem)
		lv->mem->ops->release(lv->mem);
	if (lv->raw)
		lv->raw->ops->release(lv->raw);
	lv->mem = lv->raw = NULL;
	maps_release(&lv->maps);
}

static int os_threads_read(pid_t pid, struct os_threads *ot, struct err *e)
{
	pid_t *tids = NULL;
	size_t n = 0, i;
	bool same_ns = procfs_same_pid_namespace(pid);
	int rc = procfs_list_tids(pid, &tids, &n, e);

	if (rc)
		return rc;
	ot->v = xcalloc(n ? n : 1, sizeof(*ot->v));
	ot->n = n;
	for (i = 0; i < n; i++) {
		ot->v[i].tid = tids[i];
		if (same_ns || procfs_ns_tid(pid, tids[i], &ot->v[i].ns_tid))
			ot->v[i].ns_tid = tids[i];
		if (procfs_thread_state(pid, tids[i], &ot->v[i].state))
			ot->v[i].state = '?';
		ot->v[i].in_syscall = -1;
	}
	free(tids);
	return 0;
}

static const struct os_thread *by_ns_tid(const struct os_threads *ot,
					 int64_t ns_tid)
{
	for (size_t i = 0; i < ot->n; i++)
		if (ot->v[i].ns_tid == ns_tid)
			return &ot->v[i];
	return NULL;
}

/* Up to 3.7 a thread state only knows its pthread_t.  On glibc x86-64 that
 * is the thread pointer, which ptrace reports as fs_base. */
static void tids_from_fs_base(const struct stopset *s, struct dump *d,
			      const struct os_threads *ot)
{
	for (size_t i = 0; i < d->nthreads; i++) {
		struct thread_stack *t = &d->threads[i];

		for (size_t k = 0; k < ot->n && t->ns_tid < 0; k++)
			if (stopset_fs_base(s, ot->v[k].tid) == t->ident)
				t->ns_tid = ot->v[k].ns_tid;
	}
}

/* Without ptrace there is no fs_base: look for the thread's own tid inside
 * glibc's struct pthread (the pthread_t points at it).  The offset is the
 * same for every thread of a process; take the one that maps every thread
 * state to a distinct live tid. */
#define PTHREAD_SCAN 0x800
static void tids_from_pthread_scan(struct live *lv, struct dump *d,
				   const struct os_threads *ot)
{
	uint8_t *bufs;
	size_t n = d->nthreads, off, i, k;

	if (!n)
		return;
	bufs = xcalloc(n, PTHREAD_SCAN);
	for (i = 0; i < n; i++)
		if (memsrc_read(lv->mem, d->threads[i].ident,
				bufs + i * PTHREAD_SCAN, PTHREAD_SCAN))
			goto out;
	for (off = 0; off + 4 <= PTHREAD_SCAN; off += 4) {
		for (i = 0; i < n; i++) {
			int32_t v;

			memcpy(&v, bufs + i * PTHREAD_SCAN + off, 4);
			if (v <= 0 || !by_ns_tid(ot, v))
				break;
			for (k = 0; k < i; k++)
				if (!memcmp(bufs + k * PTHREAD_SCAN + off, &v, 4))
					break;
			if (k < i)
				break;
		}
		if (i == n)
			break;
	}
	for (i = 0; off + 4 <= PTHREAD_SCAN && i < n; i++) {
		int32_t v;

		memcpy(&v, bufs + i * PTHREAD_SCAN + off, 4);
		d->threads[i].ns_tid = v;
	}
out:
	free(bufs);
}

static void apply_os_facts(struct dump *d, const struct os_threads *ot)
{
	for (size_t i = 0; i < d->nthreads; i++) {
		struct thread_stack *t = &d->threads[i];
		const struct os_thread *o = t->ns_tid >= 0 ?
			by_ns_tid(ot, t->ns_tid) : NULL;

		if (!o)
			continue;
		t->tid = o->tid;
		/* Held stopped, a thread waiting in a system call is idle
		 * even if the OS had just made it runnable to restart the
		 * call; otherwise the OS state before the read decides. */
		if (o->in_syscall >= 0)
			t->status = o->in_syscall ? THREAD_IDLE : THREAD_RUNNING;
		else
			t->status = o->state == 'R' ? THREAD_RUNNING : THREAD_IDLE;
	}
}

static int64_t elapsed_us(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (int64_t)(b.tv_sec - a->tv_sec) * 1000000 +
	       (b.tv_nsec - a->tv_nsec) / 1000;
}

/* While held: unwind every Python thread from the registers its OS thread
 * stopped with. */
static void unwind_native(struct nativecap *nc, const struct stopset *s,
			  const struct dump *d, const struct os_threads *ot)
{
	for (size_t i = 0; i < d->nthreads; i++) {
		const struct thread_stack *t = &d->threads[i];
		const struct os_thread *o = t->ns_tid >= 0 ?
			by_ns_tid(ot, t->ns_tid) : NULL;

		nativecap_unwind(nc, i, o ? o->tid : -1,
				 o ? stopset_regs(s, o->tid) : NULL);
	}
}

static void fill_python_info(struct live *lv, struct dump *d)
{
	d->pid = lv->pid;
	d->source = "live";
	py_proc_describe(&lv->py, &d->python);
}

/* Read the stacks while the threads in s are held (s NULL: not held),
 * and unwind their native stacks with nc (NULL: none). */
static int walk_held(struct live *lv, const struct stopset *s,
		     struct nativecap *nc, struct os_threads *ot,
		     const struct walk_opts *o, struct py_reader *r,
		     struct dump *d, struct err *e)
{
	int rc;

	/* Pages read before the stop (detection) may be stale. */
	mem_cache_reset(lv->mem);
	rc = py_walk(r, o, d, e);
	if (s && !rc && lv->py.layout.tstate_native_thread_id == OFF_NONE)
		tids_from_fs_base(s, d, ot);
	if (s && nc && !rc)
		unwind_native(nc, s, d, ot);
	for (size_t i = 0; s && i < ot->n; i++)
		ot->v[i].in_syscall = stopset_in_syscall(s, ot->v[i].tid);
	return rc;
}

static int capture_done(struct live *lv, bool held, int rc,
			struct os_threads *ot, struct nativecap *nc,
			struct dump *d, struct err *e)
{
	if (!rc && !held && lv->py.layout.tstate_native_thread_id == OFF_NONE)
		tids_from_pthread_scan(lv, d, ot);
	if (rc && process_gone(lv->pid))
		rc = exited(lv->pid, " during the dump", e);
	apply_os_facts(d, ot);
	if (nc && !rc)
		nativecap_finish(nc, d, lv->native);
	return rc;
}

int live_capture(struct live *lv, bool stop, const struct walk_opts *o,
		 struct py_reader *r, struct dump *d, struct err *e)
{
	struct os_threads ot = { 0 };
	struct nativecap nc = { 0 };
	bool native = stop && lv->native != NATIVE_OFF;
	struct stopset s;
	struct timespec t0;
	int rc = 0;

	memset(&s, 0, sizeof(s));
	fill_python_info(lv, d);
	d->pause_us = -1;
	/* The session first: it takes a while, and threads started
	 * meanwhile must still be in the OS listing. */
	if (native)
		rc = nativecap_open_live(&nc, lv->pid, lv->mem, &lv->maps,
					 &lv->py, e);
	if (!rc)
		rc = os_threads_read(lv->pid, &ot, e);
	if (rc)
		goto out;
	if (stop) {
		rc = stopset_stop_all(&s, lv->pid, e);
		if (rc)
			goto out;
		clock_gettime(CLOCK_MONOTONIC, &t0);
	}
	rc = walk_held(lv, stop ? &s : NULL, native ? &nc : NULL, &ot, o, r,
		       d, e);
	if (stop) {
		stopset_release(&s);
		d->pause_us = elapsed_us(&t0);
	}
	rc = capture_done(lv, stop, rc, &ot, native ? &nc : NULL, d, e);
out:
	if (native)
		nativecap_close(&nc);
	free(ot.v);
	return rc;
}

int live_capture_held(struct live *lv, const struct stopset *held,
		      const struct walk_opts *o, struct py_reader *r,
		      struct dump *d, struct err *e)
{
	struct os_threads ot = { 0 };
	int rc;

	fill_python_info(lv, d);
	d->pause_us = -1;
	rc = os_threads_read(lv->pid, &ot, e);
	if (rc)
		return rc;
	rc = walk_held(lv, held, NULL, &ot, o, r, d, e);
	rc = capture_done(lv, true, rc, &ot, NULL, d, e);
	free(ot.v);
	return rc;
}
