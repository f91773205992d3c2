/* The sampling hot path.  live_capture() lists /proc/PID/task and opens
 * every thread's stat file on each call; a profiler calls it thousands of
 * times a second, so for targets whose thread states carry their native
 * thread id (3.8+) in our PID namespace this keeps each thread's stat file
 * open and re-reads it with one pread(), and does nothing at all for the
 * OS state when it is not wanted.  Everything else is py_walk() over the
 * page cache, which fetches the pages the previous sample used in one
 * process_vm_readv. */
#include "cmd/sampler.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "target/mem_cache.h"
#include "util/clock.h"
#include "util/xalloc.h"

/* Start a sample: empty the page cache, then read the lines of the pages
 * the previous sample used in one batch (one process_vm_readv);
 * whatever this sample needs beyond them is read on demand. */
static int cmp_use(const void *a, const void *b)
{
	uint64_t x = ((const struct mem_page_use *)a)->page;
	uint64_t y = ((const struct mem_page_use *)b)->page;

	return (x > y) - (x < y);
}

static void prefetch(struct sampler *s)
{
	struct mem_page_use *u = s->prefetch;
	size_t n = mem_cache_used(s->lv.mem, u, SAMPLER_PREFETCH_MAX);
	size_t k = 0;

	/* In address order, neighbours become one range of the read (a
	 * handful of pages as a rule, mostly in order: no qsort for them). */
	if (n > 32) {
		qsort(u, n, sizeof(*u), cmp_use);
	} else {
		for (size_t i = 1; i < n; i++) {
			struct mem_page_use x = u[i];
			size_t j = i;

			for (; j > 0 && u[j - 1].page > x.page; j--)
				u[j] = u[j - 1];
			u[j] = x;
		}
	}
	/* A page used twice (it left the cache's front and came back) is
	 * fetched once with both its lines. */
	for (size_t i = 0; i < n; i++) {
		if (k && u[k - 1].page == u[i].page)
			u[k - 1].lines |= u[i].lines;
		else
			u[k++] = u[i];
	}
	mem_cache_reset(s->lv.mem);
	mem_cache_fetch_lines(s->lv.mem, u, k);
}

/* How long another process's CPU clock may stand still while it runs:
 * the kernel adds a running thread's time to its process's clock only at
 * a scheduler tick or a switch (the clock of another process is read
 * without bringing running threads up to date), so samples closer
 * together than a tick would see a thread that never makes a system call
 * idle.  A tick and a half: the tick is the resolution of the coarse
 * clocks (4 ms at HZ=250); what cannot be told is taken as 4 ms. */
static int64_t cpu_clock_stale_ns(void)
{
	struct timespec res;
	int64_t tick = 4000000;

	if (!clock_getres(CLOCK_MONOTONIC_COARSE, &res) && !res.tv_sec &&
	    res.tv_nsec >= 1000000 && res.tv_nsec <= 20000000)
		tick = res.tv_nsec;
	return tick + tick / 2;
}

int sampler_open(struct sampler *s, pid_t pid, struct err *e)
{
	int rc;

	memset(s, 0, sizeof(*s));
	rc = live_open(&s->lv, pid, &s->mem_err);
	if (rc) {
		*e = s->mem_err;
		return rc;
	}
	py_reader_init(&s->r, &s->lv.py);
	s->native_tids = s->lv.py.layout.tstate_native_thread_id != OFF_NONE;
	s->fast = procfs_same_pid_namespace(pid);
	s->has_cpu_clock = clock_getcpuclockid(pid, &s->cpu_clock) == 0;
	s->cpu_clock_stale_ns = cpu_clock_stale_ns();
	/* Page buffers set aside: sampling then allocates no pages. */
	mem_cache_reserve(s->lv.mem, SAMPLER_PREFETCH_MAX + 64);
	return 0;
}

/* A thread's stat file, kept open, and its state as last read. */
struct thread_stat {
	int fd;
	char state;
	int64_t read_at;
};

static void close_stat_fds(struct sampler *s)
{
	for (size_t i = 0; i < s->stat_fds.cap; i++) {
		struct thread_stat *ts = s->stat_fds.vals[i];

		if (!s->stat_fds.keys[i])
			continue;
		close(ts->fd);
		free(ts);
	}
	addrmap_release(&s->stat_fds);
}

void sampler_close(struct sampler *s)
{
	close_stat_fds(s);
	addrmap_release(&s->ident_tids);
	py_reader_release(&s->r);
	live_close(&s->lv);
}

void sampler_flush_caches(struct sampler *s)
{
	py_reader_release(&s->r);
	py_reader_init(&s->r, &s->lv.py);
}

/* Strings kept alive by revalidation before the caches start over (a
 * program that keeps creating code objects). */
#define RETIRED_MAX 65536

bool sampler_revalidate(struct sampler *s)
{
	py_reader_revalidate_codes(&s->r, s->lv.raw);
	if (s->r.nretired <= RETIRED_MAX)
		return false;
	sampler_flush_caches(s);
	return true;
}

/* The state letter of thread tid ('?' when it cannot be read), read
 * again when the one known is STATE_TTL_NS old: whether the process ran
 * is only known to a scheduler tick anyway, and at 100 kHz a pread of
 * every thread's stat file per sample would cost more than the sample. */
#define STATE_TTL_NS 1000000LL

static char thread_state(struct sampler *s, int64_t tid, int64_t now)
{
	struct thread_stat *ts = addrmap_get(&s->stat_fds, (uint64_t)tid);
	char buf[512], *p;
	ssize_t n;

	if (ts && now - ts->read_at < STATE_TTL_NS)
		return ts->state;
	if (!ts) {
		char path[64];
		int fd;

		/* A thread that exited leaves its fd behind until the map is
		 * rebuilt; bound how many can pile up. */
		if (s->stat_fds.n >= 4096)
			close_stat_fds(s);
		snprintf(path, sizeof(path), "/proc/%d/task/%lld/stat",
			 (int)s->lv.pid, (long long)tid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return '?';
		ts = xcalloc(1, sizeof(*ts));
		ts->fd = fd;
		addrmap_put(&s->stat_fds, (uint64_t)tid, ts);
	}
	ts->state = '?';
	ts->read_at = now;
	n = pread(ts->fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return '?';
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (p && p[1] == ' ')
		ts->state = p[2];
	return ts->state;
}

/* Whether the process may have run lately: its CPU clock moved since the
 * previous look or less than a tick and a half ago (true when that
 * cannot be told).  Looked at again after STATE_TTL_NS. */
static bool used_cpu(struct sampler *s, int64_t now)
{
	struct timespec ts;
	uint64_t ns;

	if (now - s->cpu_looked_at < STATE_TTL_NS)
		return s->cpu_ran;
	s->cpu_looked_at = now;
	if (!s->has_cpu_clock || clock_gettime(s->cpu_clock, &ts))
		return s->cpu_ran = true;
	ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	if (ns != s->last_cpu_ns) {
		s->last_cpu_ns = ns;
		s->cpu_changed_at = now;
		return s->cpu_ran = true;
	}
	return s->cpu_ran = now - s->cpu_changed_at < s->cpu_clock_stale_ns;
}

/* <= 3.10: the thread ids of d's threads from what live_capture found
 * for their idents (glibc's struct pthread, found once: a thread keeps
 * its ident).  Learnt again when a thread is new; false when that does not
 * tell every thread's id, and the slow path is then taken for good. */
static bool tids_by_ident(struct sampler *s, const struct walk_opts *o,
			  struct dump *d, struct err *e)
{
	struct walk_opts lo = *o;
	struct dump scratch = { 0 };
	bool all = true;

	for (size_t i = 0; i < d->nthreads && all; i++)
		all = addrmap_get(&s->ident_tids, d->threads[i].ident) != NULL;
	if (!all) {
		lo.no_thread_names = true;
		addrmap_clear(&s->ident_tids);
		if (!live_capture(&s->lv, false, &lo, &s->r, &scratch, e))
			for (size_t i = 0; i < scratch.nthreads; i++)
				if (scratch.threads[i].ident &&
				    scratch.threads[i].ns_tid > 0)
					addrmap_put(&s->ident_tids,
						    scratch.threads[i].ident,
						    (void *)(uintptr_t)
						    scratch.threads[i].ns_tid);
		dump_release(&scratch);
	}
	for (size_t i = 0; i < d->nthreads; i++) {
		uintptr_t tid = (uintptr_t)addrmap_get(&s->ident_tids,
						       d->threads[i].ident);

		if (!tid)
			return false;
		d->threads[i].ns_tid = (int64_t)tid;
	}
	return true;
}

static void mark_all_idle(struct dump *d)
{
	for (size_t i = 0; i < d->nthreads; i++)
		d->threads[i].status = THREAD_IDLE;
}

int sampler_sample(struct sampler *s, bool stop, bool os_state,
		   const struct walk_opts *o, struct dump *d, struct err *e)
{
	int64_t now = monotonic_ns();
	bool ran = os_state ? used_cpu(s, now) : true;
	int rc;

	if (stop || !s->fast) {
		rc = live_capture(&s->lv, stop, o, &s->r, d, e);
		if (!rc && !ran)
			mark_all_idle(d);
		return rc;
	}
	prefetch(s);
	rc = py_walk(&s->r, o, d, e);
	if (rc) {
		if (!procfs_pid_exists(s->lv.pid))
			rc = err_set(e, SS_EGONE, "process %d exited",
				     (int)s->lv.pid);
		return rc;
	}
	if (!s->native_tids && !tids_by_ident(s, o, d, e)) {
		s->fast = false;
		dump_reset(d);
		return sampler_sample(s, stop, os_state, o, d, e);
	}
	for (size_t i = 0; i < d->nthreads; i++) {
		struct thread_stack *t = &d->threads[i];
		char st;

		if (t->ns_tid <= 0)
			continue;
		t->tid = t->ns_tid;
		if (!os_state)
			continue;
		if (!ran) {
			t->status = THREAD_IDLE;
			continue;
		}
		st = thread_state(s, t->tid, now);
		/* A thread gone: its ident may come back with a new thread. */
		if (st == '?' && !s->native_tids)
			addrmap_clear(&s->ident_tids);
		if (st == 'Z' || st == 'X' || st == '?')
			t->status = THREAD_UNKNOWN;
		else
			t->status = st == 'R' ? THREAD_RUNNING : THREAD_IDLE;
	}
	return 0;
}
