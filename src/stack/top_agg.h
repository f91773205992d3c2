/* What `top` counts: for every function and every line, per thread, how
 * many samples ended there (own) and how many passed through it (total,
 * counted once per sample even when it recurses), over the whole run and
 * over a sliding window of the last few seconds (a ring of one-second
 * buckets).  Frames are the ids of a struct profile, whose interned
 * strings make a function's identity the pair of its name and file
 * pointers.  Pure: no target, no terminal. */
#ifndef SS_STACK_TOP_AGG_H
#define SS_STACK_TOP_AGG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stack/profile.h"
#include "util/addrmap.h"

#define TOP_WINDOW_MAX 60         /* seconds */

struct top_counts {
	uint64_t own, total;
};

/* A function: name and file as interned by the profile. */
struct top_func {
	const char *function, *file;
};

struct top_thread {
	int64_t pid, tid;         /* tid -1 when unknown */
	uint64_t key;             /* what tells threads apart */
	char name[64];            /* "" until known */
	uint64_t samples;         /* whole run */
};

/* One counted thing: a line (a profile frame) or a function, in a thread. */
struct top_entry {
	uint32_t id;              /* frame id (line) or function index */
	uint32_t thread;          /* index into threads */
	bool func;
	uint64_t seen;            /* the sample that last counted its total */
	struct top_counts all;
};

struct top_agg {
	unsigned window;          /* buckets in the ring (seconds) */
	unsigned bucket;          /* the current one */
	struct top_entry *entries;
	size_t nentries, entries_cap;
	/* entries' window counts: ring[entry * window + bucket] */
	struct top_counts *ring;
	size_t ring_cap;
	struct addrmap index;     /* (func, thread, id) + 1 -> entry + 1 */
	struct top_func *funcs;
	size_t nfuncs, funcs_cap;
	struct addrmap func_index; /* hash of (name, file) chain -> func + 1 */
	uint32_t *frame_func;     /* profile frame id -> function + 1 */
	size_t frame_func_cap;
	struct top_thread *threads;
	size_t nthreads, threads_cap;
	uint64_t *thread_ring;    /* threads' window samples: [thread * window + bucket] */
	size_t thread_ring_cap;
	uint64_t seq;             /* samples added */
};

/* window: seconds the window spans, 1..TOP_WINDOW_MAX. */
void top_agg_init(struct top_agg *a, unsigned window);
void top_agg_release(struct top_agg *a);

/* The index of thread (pid, key), added when new; name (may be NULL) and
 * tid refresh what is known of it. */
uint32_t top_agg_thread(struct top_agg *a, int64_t pid, uint64_t key,
			int64_t tid, const char *name);

/* One sample of thread: path[0..n) frame ids of prof, outermost first. */
void top_agg_add(struct top_agg *a, const struct profile *prof,
		 uint32_t thread, const uint32_t *path, size_t n);

/* A new second starts: the oldest bucket is emptied and becomes current. */
void top_agg_advance(struct top_agg *a);

/* e's counts over the window. */
struct top_counts top_agg_window(const struct top_agg *a, size_t entry);

/* Samples of thread over the window. */
uint64_t top_agg_thread_window(const struct top_agg *a, uint32_t thread);

#endif
