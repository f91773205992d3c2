/* One sampled process for `record`: its live handle, a reader whose caches
 * (code objects, strings) persist across samples, and the open
 * /proc/PID/task/TID/stat files the running/idle check re-reads. */
#ifndef SS_CMD_SAMPLER_H
#define SS_CMD_SAMPLER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "cmd/live.h"
#include "target/mem_cache.h"
#include "util/addrmap.h"

/* Pages a sample fetches up front in one batch: those the previous one
 * used. */
#define SAMPLER_PREFETCH_MAX 1024   /* one process_vm_readv (IOV_MAX) */

struct sampler {
	struct live lv;
	/* Where the memory source records read failures: must live as long
	 * as the sampler (so the sampler must not move once opened). */
	struct err mem_err;
	struct py_reader r;
	/* The target is in our PID namespace: samples skip live_capture's
	 * /proc scan and read through the page prefetch. */
	bool fast;
	/* Its thread states carry native thread ids (3.11+); before that
	 * each thread's is learnt once by live_capture and kept by ident. */
	bool native_tids;
	struct addrmap ident_tids; /* ident -> tid (<= 3.10) */
	struct addrmap stat_fds;  /* tid -> struct thread_stat */
	/* The process's CPU clock, its last value and when (CLOCK_MONOTONIC)
	 * it last changed: a process whose clock stood still for a while has
	 * no running thread, whatever the OS state says (runnable but waiting
	 * for a CPU). */
	clockid_t cpu_clock;
	bool has_cpu_clock;
	uint64_t last_cpu_ns;
	int64_t cpu_changed_at, cpu_clock_stale_ns;
	int64_t cpu_looked_at;    /* when the clock was last read */
	bool cpu_ran;             /* and what it said */
	struct mem_page_use prefetch[SAMPLER_PREFETCH_MAX];
};

/* live_open() and the reader; errors as live_open's. */
int sampler_open(struct sampler *s, pid_t pid, struct err *e);
void sampler_close(struct sampler *s);

/* Drop the reader's caches (code objects, strings, types): a code object
 * freed and another allocated at its address would otherwise keep the old
 * name.  The strings the reader handed out are freed. */
void sampler_flush_caches(struct sampler *s);

/* Check that the cached code objects are still the ones decoded (one
 * batched read of a few fields of each) and forget those that are not.
 * True when the caches had to start over instead (too many strings kept
 * alive): the strings handed out before are then freed, as with
 * sampler_flush_caches(). */
bool sampler_revalidate(struct sampler *s);

/* Read every thread's stack into d (the page cache is reset first).  With
 * os_state, thread_stack.status says whether the thread is running: the OS
 * shows it running or runnable and the process used CPU time since the
 * previous sample (so a thread waiting for a CPU on a loaded machine is
 * not sampled over and over at the same spot).  With stop, threads are held stopped for the read (slow path:
 * live_capture).  SS_EGONE when the process has exited. */
int sampler_sample(struct sampler *s, bool stop, bool os_state,
		   const struct walk_opts *o, struct dump *d, struct err *e);

#endif
