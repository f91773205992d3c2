/* Fast locals of a frame.
 *
 * Up to 3.10 a PyFrameObject's f_localsplus holds co_nlocals locals (named
 * by co_varnames), then a cell per co_cellvars name and a cell per
 * co_freevars name.  From 3.11 a _PyInterpreterFrame's localsplus holds
 * co_nlocalsplus slots named by co_localsplusnames, each with a kind byte
 * in co_localspluskinds (CO_FAST_LOCAL 0x20, CO_FAST_CELL 0x40,
 * CO_FAST_FREE 0x80, 3.12+ CO_FAST_HIDDEN 0x10 for names of an inlined
 * comprehension, shown while bound as frame.f_locals does).  A cell slot
 * holds a cell object once MAKE_CELL ran and the value before, so a
 * cell-kind slot is dereferenced only when it does hold a cell.  From 3.14
 * slots are _PyStackRef: the low two bits are tags (3 marks a tagged int,
 * value >> 2; otherwise the pointer is the value without them; NULL is 0
 * or, with the refcount tag, 1).
 */
#include "py/locals.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "py/repr.h"
#include "util/xalloc.h"

#define CO_OPTIMIZED 0x1
#define CO_FAST_CELL 0x40
#define CO_FAST_FREE 0x80
#define STACKREF_TAG_MASK 3ull
#define STACKREF_INT_TAG 3ull

/* More slots than this: the code object is treated as corrupt. */
#define MAX_SLOTS 65536

struct codevars {
	uint32_t n;
	const char **names;       /* owned by the reader's string cache */
	uint8_t *kinds;
	bool optimized;
	char *error;              /* why the names could not be read */
};

void py_locals_cache_free(struct addrmap *m)
{
	for (size_t i = 0; i < m->cap; i++) {
		struct codevars *cv = m->vals[i];

		if (!m->keys[i])
			continue;
		free(cv->names);
		free(cv->kinds);
		free(cv->error);
		free(cv);
	}
}

/* Append the names of tuple `tuple` (of str) to cv, with kind `kind`. */
static int add_names(struct py_objects *o, uint64_t tuple, uint8_t kind,
		     struct codevars *cv, uint32_t cap)
{
	int64_t n;
	uint64_t *items;
	int rc;

	if (!tuple)
		return 0;
	rc = obj_read_size(o, tuple, &n);
	if (rc)
		return rc;
	if (n < 0 || (uint64_t)n > cap - cv->n)
		return SS_ECORRUPT;
	items = xcalloc((size_t)n + 1, sizeof(*items));
	rc = obj_read(o, tuple + (uint64_t)o->l->tuple_ob_item, items,
		      (size_t)n * sizeof(*items));
	for (int64_t i = 0; !rc && i < n; i++) {
		const char *s;

		rc = py_reader_str(o->r, items[i], &s, &o->scratch);
		cv->names[cv->n] = s;
		cv->kinds[cv->n++] = kind;
	}
	free(items);
	return rc;
}

static int read_kinds(struct py_objects *o, uint64_t bytes, uint8_t *kinds,
		      uint32_t n)
{
	int64_t size;
	int rc;

	if (!n)
		return 0;
	rc = obj_read_size(o, bytes, &size);
	if (rc)
		return rc;
	if (size != (int64_t)n)
		return SS_ECORRUPT;
	return obj_read(o, bytes + (uint64_t)o->l->bytes_ob_sval, kinds, n);
}

static int decode_vars(struct py_objects *o, uint64_t code,
		       struct codevars *cv)
{
	const struct py_layout *l = o->l;
	uint64_t t;
	int32_t flags;
	int rc;

	if (l->code_co_flags == OFF_NONE)
		return SS_ECORRUPT;
	rc = obj_read(o, code + (uint64_t)l->code_co_flags, &flags,
		      sizeof(flags));
	if (rc)
		return rc;
	cv->optimized = flags & CO_OPTIMIZED;
	if (l->code_co_localsplusnames != OFF_NONE) {
		int64_t n;
		uint64_t kinds;

		if (l->code_co_localspluskinds == OFF_NONE)
			return SS_ECORRUPT;
		rc = obj_read_ptr(o, code + (uint64_t)l->code_co_localsplusnames,
				  &t);
		if (!rc)
			rc = obj_read_ptr(o, code +
					  (uint64_t)l->code_co_localspluskinds,
					  &kinds);
		if (!rc)
			rc = obj_read_size(o, t, &n);
		if (rc)
			return rc;
		if (n < 0 || n > MAX_SLOTS)
			return SS_ECORRUPT;
		cv->names = xcalloc((size_t)n + 1, sizeof(*cv->names));
		cv->kinds = xcalloc((size_t)n + 1, 1);
		rc = add_names(o, t, 0, cv, (uint32_t)n);
		if (!rc)
			rc = read_kinds(o, kinds, cv->kinds, cv->n);
		return rc;
	}
	if (l->code_co_varnames == OFF_NONE || l->code_co_cellvars == OFF_NONE ||
	    l->code_co_freevars == OFF_NONE)
		return SS_ECORRUPT;
	{
		const int32_t offs[3] = { l->code_co_varnames,
					  l->code_co_cellvars,
					  l->code_co_freevars };
		const uint8_t kinds[3] = { 0, CO_FAST_CELL, CO_FAST_FREE };
		uint64_t tuples[3];
		int64_t total = 0;

		for (int k = 0; k < 3 && !rc; k++) {
			int64_t n = 0;

			rc = obj_read_ptr(o, code + (uint64_t)offs[k], &tuples[k]);
			if (!rc && tuples[k])
				rc = obj_read_size(o, tuples[k], &n);
			if (!rc && (n < 0 || n > MAX_SLOTS))
				rc = SS_ECORRUPT;
			total += n;
		}
		if (!rc && total > MAX_SLOTS)
			rc = SS_ECORRUPT;
		if (rc)
			return rc;
		cv->names = xcalloc((size_t)total + 1, sizeof(*cv->names));
		cv->kinds = xcalloc((size_t)total + 1, 1);
		for (int k = 0; k < 3 && !rc; k++)
			rc = add_names(o, tuples[k], kinds[k], cv, (uint32_t)total);
	}
	return rc;
}

static const struct codevars *codevars_get(struct py_objects *o,
					   uint64_t code)
{
	struct codevars *cv = addrmap_get(&o->codevars, code);
	int rc;

	if (cv)
		return cv;
	cv = xcalloc(1, sizeof(*cv));
	rc = decode_vars(o, code, cv);
	if (rc) {
		char buf[128];

		snprintf(buf, sizeof(buf), "cannot read the variable names of "
			 "code object 0x%" PRIx64, code);
		cv->error = xstrdup(buf);
		cv->n = 0;
	}
	addrmap_put(&o->codevars, code, cv);
	return cv;
}

/* The object in a slot, 0 when unbound; a 3.14+ tagged int is returned as
 * its repr in *tagged. */
static uint64_t slot_value(struct py_objects *o, uint64_t v, char **tagged)
{
	*tagged = NULL;
	if (py_minor(o) < 14 || is_py2(o))
		return v;
	if ((v & STACKREF_TAG_MASK) == STACKREF_INT_TAG) {
		char buf[32];

		snprintf(buf, sizeof(buf), "%" PRId64, (int64_t)v >> 2);
		*tagged = xstrdup(buf);
		return 0;
	}
	return v & ~STACKREF_TAG_MASK;
}

/* The content of a cell, or the value itself when it is not a cell. */
static uint64_t deref(struct py_objects *o, uint64_t v)
{
	const struct py_type *t;
	uint64_t ref;

	if (py_type_of(o, v, &t, &o->scratch) || t->kind != PY_K_CELL ||
	    o->l->cell_ob_ref == OFF_NONE)
		return v;
	if (obj_read_ptr(o, v + (uint64_t)o->l->cell_ob_ref, &ref))
		return v;
	return ref;
}

/* repr is set for a 3.14+ tagged int, else obj. */
static void set_local(struct frame *f, size_t *cap, const char *name,
		      uint64_t obj, char *repr, bool maybe_dup)
{
	struct local *l = NULL;

	if (maybe_dup) {
		for (size_t i = 0; i < f->nlocals && !l; i++)
			if (!strcmp(f->locals[i].name, name))
				l = &f->locals[i];
	}
	if (!l) {
		XGROW(f->locals, *cap, f->nlocals + 1);
		l = &f->locals[f->nlocals++];
		l->name = name;
	} else {
		free(l->repr);
	}
	l->obj = obj;
	l->repr = repr;
}

static void drop_local(struct frame *f, const char *name)
{
	for (size_t i = 0; i < f->nlocals; i++) {
		if (strcmp(f->locals[i].name, name))
			continue;
		free(f->locals[i].repr);
		memmove(&f->locals[i], &f->locals[i + 1],
			(f->nlocals - i - 1) * sizeof(f->locals[0]));
		f->nlocals--;
		return;
	}
}

void py_frame_locals(struct py_objects *o, uint64_t frame, uint64_t code,
		     struct frame *f)
{
	const struct py_layout *l = o->l;
	const struct codevars *cv = codevars_get(o, code);
	int32_t off = py_layout_frame_model(l) == PY_FRAMES_OBJECT ?
		      l->frame_f_localsplus : l->iframe_localsplus;
	bool old_cells = py_layout_frame_model(l) == PY_FRAMES_OBJECT;
	uint64_t *slots, small[64];
	size_t cap = 0;

	f->locals_read = true;
	if (cv->error) {
		f->locals_error = xstrdup(cv->error);
		return;
	}
	if (!cv->optimized || !cv->n)
		return;
	if (off == OFF_NONE) {
		f->locals_error = xstrdup("no frame layout for locals");
		return;
	}
	slots = cv->n <= 64 ? small : xcalloc(cv->n, sizeof(*slots));
	f->locals = xcalloc(cv->n, sizeof(*f->locals));
	cap = cv->n;
	if (obj_read(o, frame + (uint64_t)off, slots, cv->n * sizeof(*slots))) {
		char buf[128];

		snprintf(buf, sizeof(buf), "cannot read the locals of frame 0x%"
			 PRIx64, frame);
		f->locals_error = xstrdup(buf);
		if (slots != small)
			free(slots);
		return;
	}
	for (uint32_t i = 0; i < cv->n; i++) {
		bool cellish = cv->kinds[i] & (CO_FAST_CELL | CO_FAST_FREE);
		char *tagged;
		uint64_t v = slot_value(o, slots[i], &tagged);

		if (!cv->names[i]) {
			free(tagged);
			continue;
		}
		if (tagged) {
			set_local(f, &cap, cv->names[i], 0, tagged, cellish);
			continue;
		}
		if (v && cellish)
			v = deref(o, v);
		if (!v) {
			/* An empty cell unbinds the name (2.7 also kept the
			 * argument's own slot). */
			if (cellish && old_cells)
				drop_local(f, cv->names[i]);
			continue;
		}
		/* Only up to 3.10 can a name come twice (an argument that is
		 * also a cell variable). */
		set_local(f, &cap, cv->names[i], v, NULL, cellish && old_cells);
	}
	if (slots != small)
		free(slots);
}

void py_locals_prefetch(struct py_objects *o, struct dump *d)
{
	uint64_t *objs;
	size_t n = 0, total = 0;

	for (size_t i = 0; i < d->nthreads; i++)
		for (size_t k = 0; k < d->threads[i].nframes; k++)
			total += d->threads[i].frames[k].nlocals;
	objs = xcalloc(total ? total : 1, sizeof(*objs));
	for (size_t i = 0; i < d->nthreads; i++) {
		struct thread_stack *t = &d->threads[i];

		for (size_t k = 0; k < t->nframes; k++) {
			struct frame *f = &t->frames[k];

			for (size_t j = 0; j < f->nlocals; j++)
				if (!f->locals[j].repr)
					objs[n++] = f->locals[j].obj;
		}
	}
	py_prefetch(o, objs, n);
	free(objs);
}

void py_locals_format(struct py_objects *o, struct dump *d)
{
	for (size_t i = 0; i < d->nthreads; i++) {
		struct thread_stack *t = &d->threads[i];

		for (size_t k = 0; k < t->nframes; k++) {
			struct frame *f = &t->frames[k];

			for (size_t j = 0; j < f->nlocals; j++)
				if (!f->locals[j].repr)
					f->locals[j].repr =
						py_repr(o, f->locals[j].obj);
		}
	}
}
