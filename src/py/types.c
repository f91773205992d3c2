/* Type objects: names, sizes, flags and how their instances print.
 *
 * Builtin types are recognised by tp_name among static (non-heap) types,
 * cross-checked with the tp_flags bits CPython sets on them.  A heap type
 * (a class) prints its instances like its nearest static ancestor when it
 * inherits that ancestor's tp_repr (class L(list): pass prints as a list);
 * otherwise it has its own __repr__, which cannot be run from outside, and
 * its instances print as object.__repr__ would. */
#include "py/repr.h"

#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

#define TPFLAGS_HEAPTYPE (1ul << 9)
#define TPFLAGS_INT_SUBCLASS (1ul << 23)      /* 2.7 */
#define TPFLAGS_LONG_SUBCLASS (1ul << 24)
#define TPFLAGS_LIST_SUBCLASS (1ul << 25)
#define TPFLAGS_TUPLE_SUBCLASS (1ul << 26)
#define TPFLAGS_BYTES_SUBCLASS (1ul << 27)    /* 2.7: str */
#define TPFLAGS_UNICODE_SUBCLASS (1ul << 28)
#define TPFLAGS_DICT_SUBCLASS (1ul << 29)
#define TPFLAGS_TYPE_SUBCLASS (1ul << 31)

/* Longest tp_base chain followed. */
#define MAX_BASES 64

struct builtin {
	const char *name;
	enum py_kind kind;
	unsigned long flag;       /* a tp_flags bit the type must have, or 0 */
	int major;                /* 2 or 3 only, 0 both */
};

static const struct builtin builtins[] = {
	{ "NoneType", PY_K_NONE, 0, 0 },
	{ "bool", PY_K_BOOL, 0, 0 },
	{ "int", PY_K_INT, TPFLAGS_LONG_SUBCLASS, 3 },
	{ "int", PY_K_INT, TPFLAGS_INT_SUBCLASS, 2 },
	{ "long", PY_K_LONG2, TPFLAGS_LONG_SUBCLASS, 2 },
	{ "float", PY_K_FLOAT, 0, 0 },
	{ "str", PY_K_STR, TPFLAGS_UNICODE_SUBCLASS, 3 },
	{ "str", PY_K_BYTES, TPFLAGS_BYTES_SUBCLASS, 2 },
	{ "bytes", PY_K_BYTES, TPFLAGS_BYTES_SUBCLASS, 3 },
	{ "unicode", PY_K_UNICODE2, TPFLAGS_UNICODE_SUBCLASS, 2 },
	{ "bytearray", PY_K_BYTEARRAY, 0, 0 },
	{ "tuple", PY_K_TUPLE, TPFLAGS_TUPLE_SUBCLASS, 0 },
	{ "list", PY_K_LIST, TPFLAGS_LIST_SUBCLASS, 0 },
	{ "dict", PY_K_DICT, TPFLAGS_DICT_SUBCLASS, 0 },
	{ "set", PY_K_SET, 0, 0 },
	{ "frozenset", PY_K_FROZENSET, 0, 0 },
	{ "type", PY_K_TYPE, TPFLAGS_TYPE_SUBCLASS, 0 },
	{ "module", PY_K_MODULE, 0, 0 },
	{ "function", PY_K_FUNCTION, 0, 0 },
	{ "code", PY_K_CODE, 0, 0 },
	{ "cell", PY_K_CELL, 0, 0 },
	{ "method", PY_K_METHOD, 0, 3 },
	{ "instancemethod", PY_K_METHOD, 0, 2 },
	{ "builtin_function_or_method", PY_K_CFUNCTION, 0, 0 },
	{ "ellipsis", PY_K_ELLIPSIS, 0, 0 },
	{ "NotImplementedType", PY_K_NOTIMPLEMENTED, 0, 0 },
	{ "classobj", PY_K_CLASSOBJ, 0, 2 },
	{ "instance", PY_K_INSTANCE, 0, 2 },
};

static enum py_kind builtin_kind(const struct py_objects *o, const char *name,
				 unsigned long flags)
{
	int major = is_py2(o) ? 2 : 3;

	for (size_t i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++) {
		const struct builtin *b = &builtins[i];

		if ((b->major && b->major != major) || strcmp(b->name, name))
			continue;
		if (b->flag && !(flags & b->flag))
			continue;
		return b->kind;
	}
	return PY_K_OTHER;
}

/* Fields read from every type object, in one read. */
struct type_head {
	uint64_t tp_name, tp_repr, tp_base, tp_dict;
	int64_t basicsize, itemsize, dictoffset;
	unsigned long flags;
};

static int32_t max_off(const int32_t *offs, size_t n)
{
	int32_t m = 0;

	for (size_t i = 0; i < n; i++)
		if (offs[i] > m)
			m = offs[i];
	return m;
}

static uint64_t get_u64(const uint8_t *buf, int32_t off)
{
	uint64_t v = 0;

	if (off != OFF_NONE)
		memcpy(&v, buf + off, sizeof(v));
	return v;
}

static int read_head(struct py_objects *o, uint64_t type, struct type_head *h)
{
	const struct py_layout *l = o->l;
	const int32_t offs[] = {
		l->type_tp_name, l->type_tp_flags, l->type_tp_repr,
		l->type_tp_base, l->type_tp_dict, l->type_tp_basicsize,
		l->type_tp_itemsize, l->type_tp_dictoffset,
	};
	uint8_t buf[1024];
	size_t size = (size_t)max_off(offs, sizeof(offs) / sizeof(offs[0])) + 8;
	int rc;

	if (l->type_tp_name == OFF_NONE || l->type_tp_flags == OFF_NONE ||
	    size > sizeof(buf))
		return SS_ECORRUPT;
	rc = obj_read(o, type, buf, size);
	if (rc)
		return rc;
	h->tp_name = get_u64(buf, l->type_tp_name);
	h->tp_repr = get_u64(buf, l->type_tp_repr);
	h->tp_base = get_u64(buf, l->type_tp_base);
	h->tp_dict = get_u64(buf, l->type_tp_dict);
	h->basicsize = (int64_t)get_u64(buf, l->type_tp_basicsize);
	h->itemsize = (int64_t)get_u64(buf, l->type_tp_itemsize);
	h->dictoffset = (int64_t)get_u64(buf, l->type_tp_dictoffset);
	h->flags = (unsigned long)get_u64(buf, l->type_tp_flags);
	return 0;
}

/* The nearest static ancestor of a heap type, or 0. */
static uint64_t static_ancestor(struct py_objects *o, uint64_t base)
{
	for (int i = 0; i < MAX_BASES && obj_plausible(base); i++) {
		struct type_head h;

		if (read_head(o, base, &h))
			return 0;
		if (!(h.flags & TPFLAGS_HEAPTYPE))
			return base;
		base = h.tp_base;
	}
	return 0;
}

static char *dup_str_at(struct py_objects *o, uint64_t str)
{
	const char *s;

	if (!str || py_reader_str(o->r, str, &s, &o->scratch))
		return NULL;
	return xstrdup(s);
}

static void fill_names(struct py_objects *o, struct py_type *t)
{
	const struct py_layout *l = o->l;
	const char *dot = strrchr(t->name, '.');
	int32_t qoff = l->heaptype_ht_qualname != OFF_NONE ?
		       l->heaptype_ht_qualname : l->heaptype_ht_name;
	uint64_t q;

	if (!t->heap) {
		t->qualname = xstrdup(dot ? dot + 1 : t->name);
		t->module = dot ? xstrndup(t->name, (size_t)(dot - t->name)) :
				  xstrdup(builtins_name(o));
		t->module_read = true;
		return;
	}
	if (qoff != OFF_NONE && !obj_read_ptr(o, t->addr + (uint64_t)qoff, &q))
		t->qualname = dup_str_at(o, q);
	if (!t->qualname)
		t->qualname = xstrdup(t->name);
	if (l->heaptype_ht_cached_keys != OFF_NONE)
		obj_read_ptr(o, t->addr + (uint64_t)l->heaptype_ht_cached_keys,
			     &t->cached_keys);
}

static int type_read(struct py_objects *o, uint64_t type,
		     const struct py_type **out, struct err *e);

int py_type_get(struct py_objects *o, uint64_t type, const struct py_type **out,
		struct err *e)
{
	struct py_type *t;
	bool collect = o->pf_collect;
	int rc;

	if (o->last_type && o->last_type->addr == type) {
		*out = o->last_type;
		return 0;
	}
	t = addrmap_get(&o->types, type);
	if (t) {
		o->last_type = t;
		*out = t;
		return 0;
	}
	/* Cached for good: read whole, never from a batched prefetch's
	 * partial view. */
	o->pf_collect = false;
	rc = type_read(o, type, out, e);
	o->pf_collect = collect;
	return rc;
}

static int type_read(struct py_objects *o, uint64_t type,
		     const struct py_type **out, struct err *e)
{
	struct py_type *t;
	struct type_head h;
	char name[PY_CSTR_MAX];
	int rc;

	if (!obj_plausible(type))
		return err_set(e, SS_ECORRUPT, "implausible type pointer 0x%llx",
			       (unsigned long long)type);
	rc = read_head(o, type, &h);
	if (!rc)
		rc = obj_read_cstr(o, h.tp_name, name, sizeof(name));
	if (rc)
		return err_set(e, rc, "cannot read type object 0x%llx",
			       (unsigned long long)type);
	t = xcalloc(1, sizeof(*t));
	t->addr = type;
	t->flags = h.flags;
	t->heap = h.flags & TPFLAGS_HEAPTYPE;
	t->name = xstrdup(name);
	t->basicsize = h.basicsize;
	t->itemsize = h.itemsize;
	t->dictoffset = h.dictoffset;
	t->tp_repr = h.tp_repr;
	t->tp_dict = h.tp_dict;
	if (!t->heap) {
		t->kind = builtin_kind(o, name, h.flags);
		t->exact = t->kind != PY_K_OTHER;
	} else {
		uint64_t anc = static_ancestor(o, h.tp_base);
		const struct py_type *a;

		/* Recursion ends: a static type has no heap ancestors. */
		if (anc && !py_type_get(o, anc, &a, &o->scratch) &&
		    a->tp_repr == t->tp_repr)
			t->kind = a->kind;
	}
	fill_names(o, t);
	addrmap_put(&o->types, type, t);
	*out = t;
	return 0;
}

int py_type_of(struct py_objects *o, uint64_t obj, const struct py_type **t,
	       struct err *e)
{
	uint64_t type;
	int rc;

	if (!obj_plausible(obj))
		return err_set(e, SS_ECORRUPT, "implausible object pointer "
			       "0x%llx", (unsigned long long)obj);
	rc = obj_read_ptr(o, obj + (uint64_t)o->l->object_ob_type, &type);
	if (rc)
		return err_set(e, rc, "cannot read object 0x%llx",
			       (unsigned long long)obj);
	return py_type_get(o, type, t, e);
}

const char *py_type_module(struct py_objects *o, struct py_type *t)
{
	uint64_t mod = 0;

	bool collect = o->pf_collect;

	if (t->module_read)
		return t->module;
	t->module_read = true;
	o->pf_collect = false;
	if (t->tp_dict &&
	    !py_dict_get_str(o, t->tp_dict, "__module__", &mod, &o->scratch) && mod)
		t->module = dup_str_at(o, mod);
	o->pf_collect = collect;
	return t->module;
}
