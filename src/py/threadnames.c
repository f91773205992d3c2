/* Thread names from the target's own threading module, per interpreter:
 * interp->modules (sys.modules) ['threading'] -> module dict ->
 *   _active: {ident: Thread} for running threads (the main thread's
 *            _MainThread, named "MainThread", among them),
 *   _limbo:  {Thread: Thread} for threads between start() and running,
 * and each Thread's instance attributes _name and _ident (2.7 spells them
 * __name and __ident, mangled to _Thread__name and _Thread__ident).  An
 * interpreter that never imported threading has no names to give. */
#include "py/locals.h"

#include <stdlib.h>

#include "py/repr.h"
#include "util/xalloc.h"

/* Thread objects looked at in _active and _limbo together. */
#define MAX_THREAD_OBJECTS 100000

struct names {
	struct py_objects *o;
	struct dump *d;
	const uint64_t *interps;  /* per thread of d: its interpreter */
	uint64_t interp;          /* the one being named */
	const char *name_attr, *ident_attr;
	size_t left;              /* threads of interp still unnamed */
};

static void assign(struct names *n, uint64_t ident, uint64_t thread)
{
	struct err *e = &n->o->scratch;
	uint64_t name_obj;
	const char *name;

	for (size_t i = 0; i < n->d->nthreads && n->left; i++) {
		struct thread_stack *t = &n->d->threads[i];

		if (n->interps[i] != n->interp || t->ident != ident || t->name)
			continue;
		if (py_instance_attr(n->o, thread, n->name_attr, &name_obj, e) ||
		    !name_obj || py_reader_str(n->o->r, name_obj, &name, e))
			return;
		t->name = name;
		n->left--;
	}
}

/* _active: {ident: Thread}; _limbo: {Thread: Thread} (ident attribute). */
static void scan(struct names *n, uint64_t dict, bool limbo, size_t *budget)
{
	struct err *e = &n->o->scratch;
	struct py_dict_iter it;
	uint64_t k, v, id_obj;

	if (!dict || py_dict_iter_init(n->o, &it, dict, e))
		return;
	while (n->left && *budget &&
	       py_dict_iter_next(n->o, &it, &k, &v, e) == 1) {
		int64_t ident;

		(*budget)--;
		id_obj = k;
		if (limbo && (py_instance_attr(n->o, v, n->ident_attr, &id_obj,
					       e) || !id_obj))
			continue;
		if (py_int_value(n->o, id_obj, &ident, e))
			continue;
		assign(n, (uint64_t)ident, v);
	}
}

static void name_interp(struct names *n)
{
	const struct py_layout *l = n->o->l;
	struct py_objects *o = n->o;
	uint64_t modules, threading, dict, active = 0, limbo = 0;
	size_t budget = MAX_THREAD_OBJECTS;

	if (l->interp_modules == OFF_NONE || l->module_md_dict == OFF_NONE ||
	    obj_read_ptr(o, n->interp + (uint64_t)l->interp_modules, &modules) ||
	    !modules ||
	    py_dict_get_str(o, modules, "threading", &threading, &o->scratch) ||
	    !threading ||
	    obj_read_ptr(o, threading + (uint64_t)l->module_md_dict, &dict) ||
	    !dict)
		return;
	py_dict_get_str(o, dict, "_active", &active, &o->scratch);
	py_dict_get_str(o, dict, "_limbo", &limbo, &o->scratch);
	scan(n, active, false, &budget);
	scan(n, limbo, true, &budget);
}

void py_thread_names(struct py_reader *r, struct dump *d)
{
	struct py_objects o;
	struct names n = { .o = &o, .d = d };
	struct addrmap done = { 0 };
	uint64_t *interps;
	bool py2 = PY_MAJOR(r->p->layout.version) == 2;

	if (!d->nthreads || r->p->layout.tstate_interp == OFF_NONE)
		return;
	py_objects_init(&o, r, 0, 0);
	n.name_attr = py2 ? "_Thread__name" : "_name";
	n.ident_attr = py2 ? "_Thread__ident" : "_ident";
	interps = xcalloc(d->nthreads, sizeof(*interps));
	for (size_t i = 0; i < d->nthreads; i++)
		if (d->threads[i].tstate)
			py_read_ptr(r->p, d->threads[i].tstate +
				    (uint64_t)r->p->layout.tstate_interp,
				    &interps[i]);
	n.interps = interps;
	for (size_t i = 0; i < d->nthreads; i++) {
		if (!interps[i] || addrmap_has(&done, interps[i]))
			continue;
		addrmap_put(&done, interps[i], (void *)1);
		n.interp = interps[i];
		n.left = 0;
		for (size_t k = i; k < d->nthreads; k++)
			n.left += interps[k] == n.interp && !d->threads[k].name;
		name_interp(&n);
	}
	free(interps);
	addrmap_release(&done);
	py_objects_release(&o);
}
