/* top's counters.  Every sample touches one entry per distinct line and
 * per distinct function on its path, found through an open-addressing
 * map; the window is a ring of per-second counts beside each entry, so
 * moving the window on is one pass that empties a bucket. */
#include "stack/top_agg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

void top_agg_init(struct top_agg *a, unsigned window)
{
	memset(a, 0, sizeof(*a));
	if (window < 1)
		window = 1;
	if (window > TOP_WINDOW_MAX)
		window = TOP_WINDOW_MAX;
	a->window = window;
}

void top_agg_release(struct top_agg *a)
{
	free(a->entries);
	free(a->ring);
	addrmap_release(&a->index);
	free(a->funcs);
	addrmap_release(&a->func_index);
	free(a->frame_func);
	free(a->threads);
	free(a->thread_ring);
	memset(a, 0, sizeof(*a));
}

uint32_t top_agg_thread(struct top_agg *a, int64_t pid, uint64_t key,
			int64_t tid, const char *name)
{
	struct top_thread *t;
	size_t i;

	for (i = 0; i < a->nthreads; i++)
		if (a->threads[i].pid == pid && a->threads[i].key == key)
			break;
	if (i == a->nthreads) {
		XGROW(a->threads, a->threads_cap, i + 1);
		XGROW(a->thread_ring, a->thread_ring_cap, (i + 1) * a->window);
		memset(&a->thread_ring[i * a->window], 0,
		       a->window * sizeof(*a->thread_ring));
		t = &a->threads[a->nthreads++];
		memset(t, 0, sizeof(*t));
		t->pid = pid;
		t->key = key;
		t->tid = -1;
	}
	t = &a->threads[i];
	if (tid > 0)
		t->tid = tid;
	if (name)
		snprintf(t->name, sizeof(t->name), "%s", name);
	return (uint32_t)i;
}

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return x;
}

/* The function of profile frame id. */
static uint32_t func_of(struct top_agg *a, const struct profile *prof,
			uint32_t id)
{
	const struct pframe *f = &prof->frames[id];
	uintptr_t v = 0;
	uint64_t k;

	if (id < a->frame_func_cap && a->frame_func[id])
		return a->frame_func[id] - 1;
	/* Names and files are interned: equal pointers, equal text.  A hash
	 * collision moves on to the next key. */
	for (k = mix((uintptr_t)f->function * 31 + (uintptr_t)f->file);; k++) {
		if (!k)
			continue;
		v = (uintptr_t)addrmap_get(&a->func_index, k);
		if (!v) {
			XGROW(a->funcs, a->funcs_cap, a->nfuncs + 1);
			a->funcs[a->nfuncs] = (struct top_func){ f->function,
								 f->file };
			v = ++a->nfuncs;
			addrmap_put(&a->func_index, k, (void *)v);
			break;
		}
		if (a->funcs[v - 1].function == f->function &&
		    a->funcs[v - 1].file == f->file)
			break;
	}
	if (id >= a->frame_func_cap) {
		size_t old = a->frame_func_cap;

		XGROW(a->frame_func, a->frame_func_cap, (size_t)id + 1);
		memset(a->frame_func + old, 0,
		       (a->frame_func_cap - old) * sizeof(*a->frame_func));
	}
	a->frame_func[id] = (uint32_t)v;
	return (uint32_t)v - 1;
}

static struct top_entry *entry_of(struct top_agg *a, bool func, uint32_t id,
				  uint32_t thread)
{
	uint64_t key = ((uint64_t)func << 63 | (uint64_t)thread << 32 | id) + 1;
	uintptr_t v = (uintptr_t)addrmap_get(&a->index, key);
	struct top_entry *e;

	if (v)
		return &a->entries[v - 1];
	XGROW(a->entries, a->entries_cap, a->nentries + 1);
	XGROW(a->ring, a->ring_cap, (a->nentries + 1) * a->window);
	memset(&a->ring[a->nentries * a->window], 0,
	       a->window * sizeof(*a->ring));
	e = &a->entries[a->nentries++];
	*e = (struct top_entry){ .id = id, .thread = thread, .func = func };
	addrmap_put(&a->index, key, (void *)(uintptr_t)a->nentries);
	return e;
}

static void count(struct top_agg *a, struct top_entry *e, bool leaf)
{
	struct top_counts *w = &a->ring[(size_t)(e - a->entries) * a->window +
					 a->bucket];

	if (leaf) {
		e->all.own++;
		w->own++;
	}
	if (e->seen != a->seq) {
		/* Once per sample: recursion does not inflate the total. */
		e->seen = a->seq;
		e->all.total++;
		w->total++;
	}
}

void top_agg_add(struct top_agg *a, const struct profile *prof,
		 uint32_t thread, const uint32_t *path, size_t n)
{
	if (!n || thread >= a->nthreads)
		return;
	a->seq++;
	a->threads[thread].samples++;
	a->thread_ring[thread * a->window + a->bucket]++;
	for (size_t i = 0; i < n; i++) {
		bool leaf = i == n - 1;
		uint32_t fn = func_of(a, prof, path[i]);

		/* entry_of may move the entries: one at a time. */
		count(a, entry_of(a, false, path[i], thread), leaf);
		count(a, entry_of(a, true, fn, thread), leaf);
	}
}

void top_agg_advance(struct top_agg *a)
{
	a->bucket = (a->bucket + 1) % a->window;
	for (size_t i = 0; i < a->nentries; i++)
		a->ring[i * a->window + a->bucket] = (struct top_counts){ 0 };
	for (size_t i = 0; i < a->nthreads; i++)
		a->thread_ring[i * a->window + a->bucket] = 0;
}

struct top_counts top_agg_window(const struct top_agg *a, size_t entry)
{
	struct top_counts c = { 0 };

	for (unsigned b = 0; b < a->window; b++) {
		c.own += a->ring[entry * a->window + b].own;
		c.total += a->ring[entry * a->window + b].total;
	}
	return c;
}

uint64_t top_agg_thread_window(const struct top_agg *a, uint32_t thread)
{
	uint64_t n = 0;

	for (unsigned b = 0; b < a->window; b++)
		n += a->thread_ring[thread * a->window + b];
	return n;
}
