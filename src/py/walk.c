/* Interpreters -> thread states -> frames.  Every chain in target memory is
 * bounded and checked for cycles: a torn or corrupt chain ends the walk of
 * that thread with a reason, never a crash or a hang. */
#include "py/walk.h"

#include <stdlib.h>
#include <string.h>

#include "py/locals.h"
#include "util/xalloc.h"

/* _PyInterpreterFrame.owner values that are not Python frames (3.12+):
 * FRAME_OWNED_BY_CSTACK (3) and, from 3.14, FRAME_OWNED_BY_INTERPRETER (4). */
#define FRAME_OWNER_FIRST_NON_PYTHON 3
#define FRAME_OWNED_BY_GENERATOR 1
/* The C-stack frame each _PyEval_EvalFrameDefault call links in below the
 * frames it runs: FRAME_OWNED_BY_CSTACK in 3.12-3.13, renamed
 * FRAME_OWNED_BY_INTERPRETER (still 3) from 3.14. */
#define FRAME_OWNED_BY_EVAL_ENTRY 3

/* The largest struct prefix read in one go. */
#define STRUCT_BUF 4096

struct walk {
	struct py_reader *r;
	const struct py_layout *l;
	const struct walk_opts *o;
	struct addrmap *seen;     /* frame addresses of the current thread */
	uint64_t last_frame;      /* the address first_visit() saw last */
	bool exact;               /* every frame goes in seen */
	bool looped;              /* not exact: a frame came round again */
	unsigned eval_seq;        /* eval-loop calls entered so far, inward */
};

static uint64_t get_ptr(const uint8_t *buf, int32_t off)
{
	uint64_t v = 0;

	if (off != OFF_NONE)
		memcpy(&v, buf + off, sizeof(v));
	return v;
}

static int32_t get_i32(const uint8_t *buf, int32_t off)
{
	int32_t v = 0;

	if (off != OFF_NONE)
		memcpy(&v, buf + off, sizeof(v));
	return v;
}

static size_t span(const int32_t *offs, size_t n)
{
	int32_t m = 0;

	for (size_t i = 0; i < n; i++)
		if (offs[i] > m)
			m = offs[i];
	return (size_t)m + 8;
}

static int read_struct(struct walk *w, uint64_t addr, uint8_t *buf,
		       size_t size)
{
	if (size > STRUCT_BUF)
		return SS_ECORRUPT;
	return memsrc_read(w->r->p->mem, addr, buf, size);
}

/* Add the Python frame `frame` running code object `code` (decoded: ci) at
 * bytecode byte offset `offset` (negative: not started yet, reported at its
 * first line). */
static void add_code_frame(struct walk *w, struct thread_stack *t,
			   uint64_t frame, uint64_t code,
			   const struct code_info *ci, long offset)
{
	struct frame *f = thread_add_frame(t);

	f->kind = FRAME_PYTHON;
	f->eval_seq = w->eval_seq;
	f->function = ci->name;
	f->qualname = ci->qualname;
	f->file = ci->filename;
	f->line = offset < 0 ? ci->firstlineno :
		  py_code_line(w->r, ci, (int)offset);
	if (w->o->locals)
		py_frame_locals(w->o->locals, frame, code, f);
}

/* The same, decoding the code object first. */
static int add_frame(struct walk *w, struct thread_stack *t, uint64_t frame,
		     uint64_t code, long offset, struct err *e)
{
	const struct code_info *ci;
	int rc = py_reader_code(w->r, code, &ci, e);

	if (rc)
		return rc;
	add_code_frame(w, t, frame, code, ci, offset);
	return 0;
}

/* Not exact: a loop in the chain must step up (or stay) somewhere, so
 * only frames reached that way (and the first) go in the map: the common
 * chain, whose frames lie at falling addresses in a stack chunk, costs a
 * comparison a frame.  A loop is then found at its highest frame, within
 * two rounds, and the chain is walked again exactly (see
 * walk_thread_frames). */
static bool first_visit(struct walk *w, struct thread_stack *t, uint64_t addr)
{
	bool down = addr < w->last_frame;

	w->last_frame = addr;
	if ((down && !w->exact) || addrmap_add(w->seen, addr, (void *)1))
		return true;
	if (!w->exact) {
		w->looped = true;
		return false;
	}
	thread_set_error(t, "frame chain loops back to 0x%llx (the "
			 "stack changed while it was read, or is corrupt)",
			 (unsigned long long)addr);
	return false;
}

static bool frame_limit_reached(struct walk *w, struct thread_stack *t)
{
	if (t->nframes < w->o->max_frames)
		return false;
	thread_set_error(t, "stack truncated at %u frames (--max-frames)",
			 w->o->max_frames);
	return true;
}

/* <= 3.10: PyFrameObject.f_back chain. */
static void walk_frame_objects(struct walk *w, struct thread_stack *t,
			       uint64_t frame)
{
	const struct py_layout *l = w->l;
	const int32_t offs[] = { l->frame_f_back, l->frame_f_code,
				 l->frame_f_lasti };
	size_t size = span(offs, 3);
	bool wordcode_units = PY_MAJOR(l->version) == 3 &&
			      PY_MINOR(l->version) == 10;
	uint8_t buf[STRUCT_BUF];
	struct err e = { 0 };

	while (frame && !frame_limit_reached(w, t) && first_visit(w, t, frame)) {
		long lasti;
		int rc = read_struct(w, frame, buf, size);

		if (rc) {
			thread_set_error(t, "stack truncated: cannot read frame "
					 "at 0x%llx", (unsigned long long)frame);
			return;
		}
		lasti = get_i32(buf, l->frame_f_lasti);
		/* 3.10 counts f_lasti in 2-byte code units. */
		if (wordcode_units && lasti >= 0)
			lasti *= 2;
		if (add_frame(w, t, frame, get_ptr(buf, l->frame_f_code), lasti,
			      &e)) {
			thread_set_error(t, "stack truncated: %s", e.msg);
			return;
		}
		w->eval_seq++;            /* one eval-loop call per frame */
		frame = get_ptr(buf, l->frame_f_back);
	}
}

/* 3.12+: the entry frame ending an eval-loop call is a local of that
 * call's C frame: note its address on the call's Python frames, so that
 * dump --native can find the C frame by stack address where symbols do not
 * name the eval loop. */
static void end_eval_call(struct walk *w, struct thread_stack *t,
			  uint64_t entry)
{
	for (size_t k = t->nframes;
	     k-- > 0 && t->frames[k].eval_seq == w->eval_seq;)
		t->frames[k].eval_entry = entry;
	w->eval_seq++;
}

static bool is_code_object(struct walk *w, uint64_t obj)
{
	uint64_t type;

	/* Cached code objects were checked when they were decoded. */
	if (!w->r->p->code_type || addrmap_has(&w->r->codes, obj))
		return true;
	if (py_read_ptr(w->r->p, obj + (uint64_t)w->l->object_ob_type, &type))
		return false;
	return type == w->r->p->code_type;
}

/* 3.11+: _PyInterpreterFrame.previous chain.  Frames owned by the C stack
 * (entry shims, 3.12+) are not Python frames; 3.13+ keeps non-code
 * executables there too. */
static void walk_interp_frames(struct walk *w, struct thread_stack *t,
			       uint64_t frame)
{
	const struct py_layout *l = w->l;
	const int32_t offs[] = { l->iframe_previous, l->iframe_code,
				 l->iframe_instr, l->iframe_owner,
				 l->iframe_is_entry };
	size_t size = span(offs, 5);
	bool after_entry = false;
	bool tagged = PY_MINOR(l->version) >= 14;
	bool has_cstack_owner = PY_MINOR(l->version) >= 12;
	uint8_t buf[STRUCT_BUF];
	struct err e = { 0 };

	while (frame && !frame_limit_reached(w, t) && first_visit(w, t, frame)) {
		uint64_t code, instr, at = frame;
		const struct code_info *ci;
		uint8_t owner;
		long offset;
		int rc = read_struct(w, frame, buf, size);

		if (rc) {
			thread_set_error(t, "stack truncated: cannot read frame "
					 "at 0x%llx", (unsigned long long)frame);
			return;
		}
		/* 3.11: the frame an eval-loop call began with is the last
		 * one that call runs. */
		w->eval_seq += after_entry;
		after_entry = l->iframe_is_entry != OFF_NONE &&
			      buf[l->iframe_is_entry];
		code = get_ptr(buf, l->iframe_code);
		/* 3.14+ stores f_executable as a _PyStackRef whose low bits
		 * are tags; objects are at least 8-byte aligned. */
		if (tagged)
			code &= ~(uint64_t)7;
		owner = buf[l->iframe_owner];
		instr = get_ptr(buf, l->iframe_instr);
		frame = get_ptr(buf, l->iframe_previous);
		if (has_cstack_owner && owner >= FRAME_OWNER_FIRST_NON_PYTHON) {
			if (owner == FRAME_OWNED_BY_EVAL_ENTRY)
				end_eval_call(w, t, at);
			continue;
		}
		if (!code)
			continue;
		/* Cached code objects were checked when they were decoded. */
		ci = addrmap_get(&w->r->codes, code);
		if (!ci) {
			if (!is_code_object(w, code))
				continue;
			rc = py_reader_code(w->r, code, &ci, &e);
			if (rc) {
				thread_set_error(t, "stack truncated: %s", e.msg);
				return;
			}
		}
		offset = (long)(instr - ci->code_start);
		/* CPython's _PyFrame_IsIncomplete: a frame that has not run
		 * its first traceable instruction (and shims such as 3.13+'s
		 * __init__ cleanup frame, which never do) is not shown. */
		if (owner != FRAME_OWNED_BY_GENERATOR &&
		    offset < ci->first_traceable)
			continue;
		add_code_frame(w, t, at, code, ci, offset);
	}
}

static uint64_t current_iframe(struct walk *w, const uint8_t *tstate)
{
	const struct py_layout *l = w->l;
	uint64_t cframe, frame = 0;

	if (l->tstate_current_frame != OFF_NONE)
		return get_ptr(tstate, l->tstate_current_frame);
	cframe = get_ptr(tstate, l->tstate_cframe);
	if (cframe && py_read_ptr(w->r->p, cframe +
				  (uint64_t)l->cframe_current_frame, &frame))
		return 0;
	return frame;
}

static void walk_chain(struct walk *w, struct thread_stack *t,
		       const uint8_t *tstate)
{
	addrmap_clear(w->seen);
	w->last_frame = 0;
	w->eval_seq = 0;
	w->looped = false;
	if (py_layout_frame_model(w->l) == PY_FRAMES_OBJECT)
		walk_frame_objects(w, t, get_ptr(tstate, w->l->tstate_frame));
	else
		walk_interp_frames(w, t, current_iframe(w, tstate));
}

static void walk_thread_frames(struct walk *w, struct thread_stack *t,
			       const uint8_t *tstate)
{
	w->exact = false;
	walk_chain(w, t, tstate);
	if (!w->looped && t->nframes < w->o->max_frames)
		return;
	/* A loop (or the frame limit, which a loop found late could have
	 * reached first): again with every frame checked, so the walk stops
	 * at the first frame seen twice, as its error says. */
	thread_clear(t);
	w->exact = true;
	walk_chain(w, t, tstate);
}

/* The thread state holding the GIL, or 0 if none (or unknown). */
static uint64_t gil_holder(struct walk *w, uint64_t interp)
{
	const struct py_proc *p = w->r->p;
	const struct py_layout *l = w->l;
	uint64_t holder = 0, gil;
	int32_t locked = 0;

	if (l->free_threaded)
		return 0;
	if (!p->runtime) {
		if (p->tstate_current)
			py_read_ptr(p, p->tstate_current, &holder);
		return holder;
	}
	if (l->runtime_tstate_current != OFF_NONE) {
		py_read_ptr(p, p->runtime + (uint64_t)l->runtime_tstate_current,
			    &holder);
		return holder;
	}
	if (l->interp_gil == OFF_NONE ||
	    py_read_ptr(p, interp + (uint64_t)l->interp_gil, &gil))
		return 0;
	if (!gil || l->gil_locked == OFF_NONE || l->gil_last_holder == OFF_NONE)
		return 0;
	if (memsrc_read(p->mem, gil + (uint64_t)l->gil_locked, &locked,
			sizeof(locked)) || !locked)
		return 0;
	py_read_ptr(p, gil + (uint64_t)l->gil_last_holder, &holder);
	return holder;
}

static size_t tstate_span(const struct py_layout *l)
{
	const int32_t offs[] = {
		l->tstate_next, l->tstate_interp, l->tstate_frame,
		l->tstate_cframe, l->tstate_current_frame,
		l->tstate_thread_id, l->tstate_native_thread_id,
	};

	return span(offs, sizeof(offs) / sizeof(offs[0]));
}

static void reverse_threads(struct dump *d, size_t from)
{
	size_t i = from, j = d->nthreads;

	while (j > i + 1) {
		struct thread_stack tmp = d->threads[i];

		d->threads[i++] = d->threads[--j];
		d->threads[j] = tmp;
	}
}

/* PyInterpreterState is kilobytes long and its fields of interest are far
 * apart (3.13: next at 7264), so they are read one by one. */
static int walk_interp(struct walk *w, uint64_t interp, int64_t fallback_id,
		       struct dump *d, struct err *e)
{
	const struct py_layout *l = w->l;
	uint64_t holder = w->o->no_gil ? 0 : gil_holder(w, interp), ts;
	size_t size = tstate_span(l), first = d->nthreads;
	int64_t id = fallback_id;
	struct addrmap *seen = &w->r->seen_tstates;
	uint8_t buf[STRUCT_BUF];
	unsigned n = 0;
	int rc = 0;

	rc = py_read_ptr(w->r->p, interp + (uint64_t)l->interp_tstate_head, &ts);
	if (!rc && l->interp_id != OFF_NONE)
		rc = memsrc_read(w->r->p->mem, interp + (uint64_t)l->interp_id,
				 &id, sizeof(id));
	if (rc)
		return err_set(e, rc, "cannot read interpreter 0x%llx",
			       (unsigned long long)interp);
	addrmap_clear(seen);
	for (; ts && n < w->o->max_threads; n++) {
		struct thread_stack *t;

		if (addrmap_has(seen, ts)) {
			rc = err_set(e, SS_ECORRUPT, "thread list of "
				     "interpreter 0x%llx loops",
				     (unsigned long long)interp);
			break;
		}
		addrmap_put(seen, ts, (void *)1);
		rc = read_struct(w, ts, buf, size);
		if (rc) {
			rc = err_set(e, rc, "cannot read thread state 0x%llx",
				     (unsigned long long)ts);
			break;
		}
		t = dump_add_thread(d);
		t->tstate = ts;
		t->ident = get_ptr(buf, l->tstate_thread_id);
		if (l->tstate_native_thread_id != OFF_NONE)
			t->ns_tid = get_i32(buf, l->tstate_native_thread_id);
		t->interp_id = id;
		t->holds_gil = l->free_threaded || w->o->no_gil ? -1 :
			       holder == ts;
		walk_thread_frames(w, t, buf);
		ts = get_ptr(buf, l->tstate_next);
	}
	reverse_threads(d, first);
	return rc;
}

int py_walk(struct py_reader *r, const struct walk_opts *o, struct dump *d,
	    struct err *e)
{
	struct walk w = { .r = r, .l = &r->p->layout, .o = o,
			  .seen = &r->seen_frames };
	uint64_t interps[WALK_DEFAULT_MAX_INTERPS];
	size_t n = 0, total, max = o->max_interps;
	uint64_t interp;
	int rc;

	if (max > WALK_DEFAULT_MAX_INTERPS)
		max = WALK_DEFAULT_MAX_INTERPS;
	rc = py_proc_first_interp(r->p, &interp, e);
	if (rc)
		return rc;
	/* The list is newest first; collect it to report the main
	 * interpreter first. */
	while (interp && n < max) {
		for (size_t k = 0; k < n; k++)
			if (interps[k] == interp)
				return err_set(e, SS_ECORRUPT,
					       "interpreter list loops");
		interps[n++] = interp;
		rc = py_read_ptr(r->p, interp + (uint64_t)w.l->interp_next,
				 &interp);
		if (rc)
			return err_set(e, rc, "cannot read interpreter 0x%llx",
				       (unsigned long long)interps[n - 1]);
	}
	rc = 0;
	total = n;
	while (n-- > 0 && !rc)
		rc = walk_interp(&w, interps[n], (int64_t)(total - 1 - n), d, e);
	if (o->locals)
		py_locals_prefetch(o->locals, d);
	if (!o->no_thread_names)
		py_thread_names(r, d);
	return rc;
}
