/* Prefetching: reading, while the target is stopped, everything a later
 * py_repr() will read, without formatting anything (formatting floats,
 * long ints and escaped strings costs far more than reading them, and it
 * can wait until the target runs again: py_locals_format).
 *
 * The common kinds (tuples, lists, dicts and their elements) are walked
 * here directly; every other kind runs its repr_<kind>() with o->prefetch
 * set, which makes it read what it would read and format nothing.  What
 * is read is a superset of what the repr reads: every element up to
 * max_items, whatever room the repr will have left for it.
 *
 * One system call per page would cost more than all the rest (4 us a page
 * here, against 0.5 us a page read in a batch), so with a caching memory
 * source the objects are read a level at a time: every read that would
 * need the target is only noted (memsrc peek), the object it was for is
 * queued to be tried again, and after each pass over the queue all noted
 * pages are read in one batch (memsrc fetch_wanted).  A few passes read
 * the locals, then their elements, then theirs.
 */
#include "py/repr.h"

#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

/* Passes over the queue before the rest is read the ordinary way. */
#define MAX_PASSES 24
/* Objects queued at most (beyond: read the ordinary way at once). */
#define MAX_QUEUE (1u << 20)

struct pf_item {
	uint64_t obj;
	unsigned depth;
};

/* One prefetch: the objects to try again after the next batch read. */
struct pf_run {
	struct py_objects *o;
	struct pf_item *next;
	size_t nnext, cap;
};

static void pf_obj(struct pf_run *run, uint64_t obj);

/* A read of obj's own missed the cache: try obj again next pass. */
static bool missed(struct pf_run *run, uint64_t obj)
{
	struct py_objects *o = run->o;

	if (!o->pf_missed)
		return false;
	o->pf_missed = false;
	if (run->nnext < MAX_QUEUE) {
		XGROW(run->next, run->cap, run->nnext + 1);
		run->next[run->nnext].obj = obj;
		run->next[run->nnext++].depth = o->depth;
	}
	return true;
}

/* Bytes read from the start of every object: its header and, for the
 * small ones, all of it. */
#define HEAD 64

static uint64_t head_u64(const uint8_t *h, size_t got, int32_t off)
{
	uint64_t v = 0;

	if (off != OFF_NONE && (size_t)off + 8 <= got)
		memcpy(&v, h + off, 8);
	return v;
}

/* A container already read at this depth or shallower (so with at least
 * as much below it) is not read again. */
static bool pf_seen(struct py_objects *o, uint64_t obj)
{
	uintptr_t seen = (uintptr_t)addrmap_get(&o->prefetched, obj);

	return seen && seen - 1 <= o->depth;
}

static void pf_done(struct py_objects *o, uint64_t obj)
{
	addrmap_put(&o->prefetched, obj, (void *)(uintptr_t)(o->depth + 1));
}

/* false when a read of the container's own missed. */
static bool pf_sequence(struct pf_run *run, uint64_t obj, bool tuple,
			const uint8_t *h, size_t got)
{
	struct py_objects *o = run->o;
	uint64_t items, ptrs[64];
	int64_t n;
	size_t show;

	n = (int64_t)head_u64(h, got, o->l->object_ob_size);
	if (n < 0)
		return true;
	if (tuple)
		items = obj + (uint64_t)o->l->tuple_ob_item;
	else if ((items = head_u64(h, got, o->l->list_ob_item)) == 0 && n)
		return true;
	show = (uint64_t)n < o->max_items ? (size_t)n : o->max_items;
	for (size_t done = 0; done < show;) {
		size_t k = show - done < 64 ? show - done : 64;

		if (obj_read(o, items + 8 * done, ptrs, k * 8))
			return !o->pf_missed;
		for (size_t i = 0; i < k; i++)
			pf_obj(run, ptrs[i]);
		done += k;
	}
	return true;
}

static bool pf_dict(struct pf_run *run, uint64_t obj)
{
	struct py_objects *o = run->o;
	struct py_dict_iter it;
	uint64_t k, v;
	int rc;

	if (py_dict_iter_init(o, &it, obj, &o->scratch))
		return !o->pf_missed;
	for (size_t i = 0; i < o->max_items; i++) {
		rc = py_dict_iter_next(o, &it, &k, &v, &o->scratch);
		if (rc != 1)
			return !(rc < 0 && o->pf_missed);
		pf_obj(run, k);
		pf_obj(run, v);
	}
	return true;
}

/* Bring [addr, addr + len) into the page cache unless it lies within the
 * page of `obj`, just read. */
static void pf_range(struct py_objects *o, uint64_t obj, uint64_t addr,
		     uint64_t len)
{
	uint64_t page = obj & ~4095ull;

	if (!len || ((addr & ~4095ull) == page &&
		     ((addr + len - 1) & ~4095ull) == page))
		return;
	obj_touch(o, addr, (size_t)len);
}

/* Ints, floats, strs and bytes from their header, one read; false when
 * the kind is not one of those or the header does not say enough. */
static bool pf_leaf(struct py_objects *o, uint64_t obj,
		    const struct py_type *t, const uint8_t *h, size_t got)
{
	const struct py_layout *l = o->l;
	uint64_t lim = (uint64_t)o->max_repr + 8, n, kind, data;
	int64_t size = (int64_t)head_u64(h, got, l->object_ob_size);
	uint32_t state;

	switch (t->kind) {
	case PY_K_NONE:
	case PY_K_ELLIPSIS:
	case PY_K_NOTIMPLEMENTED:
		return true;
	case PY_K_FLOAT:
		pf_range(o, obj, obj, (uint64_t)l->float_ob_fval + 8);
		return l->float_ob_fval != OFF_NONE;
	case PY_K_BOOL:
	case PY_K_INT:
	case PY_K_LONG2:
		if (is_py2(o) && t->kind != PY_K_LONG2) {
			pf_range(o, obj, obj, (uint64_t)l->int_ob_ival + 8);
			return l->int_ob_ival != OFF_NONE;
		}
		if (l->long_ob_digit == OFF_NONE)
			return false;
		n = l->long_lv_tag != OFF_NONE ?
		    head_u64(h, got, l->long_lv_tag) >> 3 :
		    (uint64_t)(size < 0 ? -(size + 1) + 1 : size);
		if (n > 4096)
			return false;
		pf_range(o, obj, obj, (uint64_t)l->long_ob_digit + 4 * n);
		return true;
	case PY_K_BYTES:
		if (size < 0 || l->bytes_ob_sval == OFF_NONE)
			return false;
		data = obj + (uint64_t)l->bytes_ob_sval;
		n = (uint64_t)size;
		break;
	case PY_K_STR:
		if (l->unicode_state == OFF_NONE ||
		    (size_t)l->unicode_state + 4 > got ||
		    l->unicode_compact_data == OFF_NONE)
			return false;
		memcpy(&state, h + l->unicode_state, 4);
		if (l->free_threaded)
			return false;
		kind = (state >> 2) & 7;
		n = head_u64(h, got, l->unicode_length);
		if ((kind != 1 && kind != 2 && kind != 4) || n >> 40)
			return false;
		if (!((state >> 5) & 1))
			return false;            /* legacy: the slow way */
		data = obj + (uint64_t)((state >> 6) & 1 ? l->unicode_ascii_data :
					l->unicode_compact_data);
		pf_range(o, obj, data, kind * (n <= 2 * lim ? n : lim));
		if (n > 2 * lim)
			pf_range(o, obj, data + kind * (n - lim), kind * lim);
		return true;
	default:
		return false;
	}
	pf_range(o, obj, obj, data - obj + (n <= 2 * lim ? n : lim));
	if (n > 2 * lim)
		pf_range(o, obj, data + n - lim, lim);
	return true;
}

static void pf_obj(struct pf_run *run, uint64_t obj)
{
	struct py_objects *o = run->o;
	const struct py_type *ct;
	struct py_type *t;
	uint64_t *leaf = &o->pf_leaves[(obj >> 4) % PY_PREFETCH_LEAVES];
	uint8_t h[HEAD];
	size_t got = 4096 - (size_t)(obj & 4095);
	bool ok;

	o->pf_missed = false;
	if (*leaf == obj || !obj_plausible(obj) || !repr_take(o))
		return;
	/* The header, without crossing into the next page. */
	if (got > HEAD)
		got = HEAD;
	if (got < 16 || obj_read(o, obj, h, got) ||
	    py_type_get(o, head_u64(h, got, o->l->object_ob_type), &ct,
			&o->scratch)) {
		missed(run, obj);
		return;
	}
	t = (struct py_type *)ct;
	if (pf_leaf(o, obj, t, h, got)) {
		if (!missed(run, obj))
			*leaf = obj;
		return;
	}
	switch (t->kind) {
	case PY_K_TUPLE:
	case PY_K_LIST:
	case PY_K_DICT:
		if (pf_seen(o, obj) || !repr_enter(o, obj))
			return;
		if (t->kind == PY_K_DICT)
			ok = pf_dict(run, obj);
		else
			ok = pf_sequence(run, obj, t->kind == PY_K_TUPLE, h, got);
		repr_leave(o);
		if (ok)
			pf_done(o, obj);
		else
			missed(run, obj);
		return;
	case PY_K_SET:
	case PY_K_FROZENSET:
	case PY_K_METHOD:
	case PY_K_CELL:
		/* They have elements: read at every depth they are met. */
		o->pf_sb.len = 0;
		repr_dispatch(o, obj, t, &o->pf_sb);
		missed(run, obj);
		return;
	default:
		/* Nothing is appended in prefetch mode but separators and the
		 * like: one scratch buffer serves every call. */
		o->pf_sb.len = 0;
		ok = !repr_dispatch(o, obj, t, &o->pf_sb);
		if (!missed(run, obj) && ok)
			*leaf = obj;
		return;
	}
}

/* Ask for the page of every root at once, before any is looked at (most
 * share a page with the one before). */
static void seed(struct py_objects *o, const struct pf_item *items, size_t n)
{
	uint64_t recent[64] = { 0 };
	uint8_t byte;

	for (size_t i = 0; i < n; i++) {
		uint64_t page = items[i].obj & ~4095ull;
		uint64_t *slot = &recent[(page >> 12) % 64];

		if (*slot == page || !obj_plausible(items[i].obj))
			continue;
		*slot = page;
		memsrc_peek(o->r->p->mem, items[i].obj, &byte, 1);
	}
	memsrc_fetch_wanted(o->r->p->mem);
}

void py_prefetch(struct py_objects *o, const uint64_t *objs, size_t n)
{
	struct pf_run run = { .o = o };
	struct pf_item *items = xcalloc(n ? n : 1, sizeof(*items));
	size_t nitems = 0;

	for (size_t i = 0; i < n; i++)
		if (objs[i])
			items[nitems++].obj = objs[i];
	o->prefetch = true;
	if (o->r->p->mem->ops->peek)
		seed(o, items, nitems);
	for (int pass = 0; nitems && pass < MAX_PASSES; pass++) {
		/* The last pass reads the ordinary way. */
		o->pf_collect = pass < MAX_PASSES - 1 && o->r->p->mem->ops->peek;
		run.nnext = 0;
		for (size_t i = 0; i < nitems; i++) {
			o->depth = items[i].depth < PY_REPR_MAX_DEPTH ?
				   items[i].depth : PY_REPR_MAX_DEPTH;
			memset(o->active, 0, sizeof(o->active));
			o->budget = PY_PREFETCH_BUDGET;
			pf_obj(&run, items[i].obj);
		}
		memsrc_fetch_wanted(o->r->p->mem);
		free(items);
		items = run.next;
		nitems = run.nnext;
		run.next = NULL;
		run.cap = run.nnext = 0;
	}
	free(items);
	free(run.next);
	o->prefetch = false;
	o->pf_collect = false;
	o->pf_missed = false;
}
