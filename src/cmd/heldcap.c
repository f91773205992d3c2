#include "cmd/heldcap.h"

#include <string.h>

#include "py/locals.h"
#include "target/mem_cache.h"
#include "target/mem_live.h"
#include "target/regs.h"

static bool held_regs(const struct hold *h, pid_t tid, struct cpu_regs *r)
{
	const struct held_thread *t = hold_thread(h, tid);

	if (!t)
		return false;
	regs_from_user(r, (const uint64_t *)&t->regs,
		       sizeof(t->regs) / sizeof(uint64_t));
	return r->valid;
}

static void unwind_one(struct nativecap *nc, size_t i, const struct hold *h,
		       pid_t tid)
{
	struct cpu_regs r;

	nativecap_unwind(nc, i, tid, held_regs(h, tid, &r) ? &r : NULL);
}

static struct thread_stack *thread_of(struct dump *d, pid_t tid)
{
	struct thread_stack *t;

	for (size_t i = 0; i < d->nthreads; i++)
		if (d->threads[i].tid == tid)
			return &d->threads[i];
	/* A thread that never ran Python (a C library's own thread). */
	t = dump_add_thread(d);
	t->tid = tid;
	return t;
}

/* Unwind (while held) and merge the native stacks asked for. */
static int add_native(struct heldcap *hc, const struct hold *h,
		      const struct heldcap_opts *o, struct dump *d,
		      struct err *e)
{
	struct nativecap nc;
	int rc = nativecap_open_live(&nc, h->pid, hc->lv.mem, &hc->lv.maps,
				     &hc->lv.py, e);

	if (rc)
		return rc;
	if (o->native_tid > 0) {
		/* Only the crashing thread: a dump of its own, sharing the
		 * thread's record. */
		struct dump one = *d;

		one.threads = thread_of(d, o->native_tid);
		one.nthreads = 1;
		unwind_one(&nc, 0, h, o->native_tid);
		nativecap_finish(&nc, &one, o->native);
	} else {
		for (size_t i = 0; i < d->nthreads; i++)
			unwind_one(&nc, i, h, (pid_t)d->threads[i].tid);
		nativecap_finish(&nc, d, o->native);
	}
	nativecap_close(&nc);
	return 0;
}

int heldcap_capture(struct heldcap *hc, const struct hold *h,
		    const struct heldcap_opts *o, struct dump *d,
		    struct err *e)
{
	struct walk_opts w = { WALK_DEFAULT_MAX_FRAMES,
			       WALK_DEFAULT_MAX_THREADS,
			       WALK_DEFAULT_MAX_INTERPS };
	struct stopset s;
	struct err ne = { 0 };
	int rc;

	memset(hc, 0, sizeof(*hc));
	rc = live_open(&hc->lv, h->pid, e);
	if (rc)
		return rc;
	hc->open = true;
	py_reader_init(&hc->r, &hc->lv.py);
	py_objects_init(&hc->objs, &hc->r, o->max_repr, o->max_items);
	if (o->locals)
		w.locals = &hc->objs;
	hold_as_stopset(h, &s);
	rc = live_capture_held(&hc->lv, &s, &w, &hc->r, d, e);
	stopset_release(&s);
	if (!rc && o->locals)
		py_locals_format(&hc->objs, d);
	/* Without native frames the Python stacks still say much. */
	if (!rc && o->native != NATIVE_OFF && add_native(hc, h, o, d, &ne) &&
	    (o->native_tid > 0 || d->nthreads))
		thread_set_error(o->native_tid > 0 ?
				 thread_of(d, o->native_tid) : &d->threads[0],
				 "no native stacks: %s", ne.msg);
	return rc;
}

void heldcap_release(struct heldcap *hc)
{
	if (!hc->open)
		return;
	py_objects_release(&hc->objs);
	py_reader_release(&hc->r);
	live_close(&hc->lv);
	hc->open = false;
}

int heldcap_native_only(const struct hold *h, pid_t tid, struct dump *d,
			struct err *e)
{
	static const struct py_proc none;
	struct memsrc *raw = NULL, *mem = NULL;
	struct maps maps = { 0 };
	struct nativecap nc;
	struct dump one;
	int rc;

	rc = procfs_read_maps(h->pid, &maps, e);
	if (!rc)
		rc = mem_live_open(&raw, h->pid, e);
	if (!rc) {
		mem = mem_cache_new(raw);
		rc = nativecap_open_live(&nc, h->pid, mem, &maps, &none, e);
	}
	if (!rc) {
		d->pid = h->pid;
		d->source = "live";
		one = *d;
		one.threads = thread_of(d, tid);
		one.nthreads = 1;
		unwind_one(&nc, 0, h, tid);
		nativecap_finish(&nc, &one, NATIVE_MERGED);
		nativecap_close(&nc);
	}
	if (mem)
		mem->ops->release(mem);
	if (raw)
		raw->ops->release(raw);
	maps_release(&maps);
	return rc;
}
