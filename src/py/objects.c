/* The object-reading context, reading helpers and repr() dispatch: from an
 * object's type to the repr_<kind>() that prints it, with the bounds that
 * hold for every kind (budget, nesting, recursion, length). */
#include "py/repr.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

/* Highest user-space address on x86-64 (47-bit virtual addresses). */
#define USER_ADDR_END (1ull << 47)

void py_objects_init(struct py_objects *o, struct py_reader *r,
		     unsigned max_repr, unsigned max_items)
{
	memset(o, 0, sizeof(*o));
	o->r = r;
	o->l = &r->p->layout;
	o->max_repr = max_repr ? max_repr : PY_REPR_DEFAULT_MAX;
	o->max_items = max_items ? max_items : PY_ITEMS_DEFAULT_MAX;
}

static void free_types(struct addrmap *m)
{
	for (size_t i = 0; i < m->cap; i++) {
		struct py_type *t = m->vals[i];

		if (!m->keys[i])
			continue;
		free(t->name);
		free(t->qualname);
		free(t->module);
		free(t);
	}
}

static void free_values(struct addrmap *m)
{
	for (size_t i = 0; i < m->cap; i++)
		if (m->keys[i])
			free(m->vals[i]);
}

void py_objects_reset(struct py_objects *o)
{
	free_types(&o->types);
	free_values(&o->leaves);
	py_locals_cache_free(&o->codevars);
	addrmap_clear(&o->types);
	o->last_type = NULL;
	addrmap_clear(&o->leaves);
	addrmap_clear(&o->codevars);
	addrmap_clear(&o->prefetched);
	memset(o->pf_leaves, 0, sizeof(o->pf_leaves));
}

void py_objects_release(struct py_objects *o)
{
	py_objects_reset(o);
	addrmap_release(&o->types);
	addrmap_release(&o->leaves);
	addrmap_release(&o->codevars);
	addrmap_release(&o->prefetched);
	strbuf_release(&o->pf_sb);
}

/* ---- reading ---------------------------------------------------------- */

int obj_read(struct py_objects *o, uint64_t addr, void *dst, size_t len)
{
	int rc;

	if (addr < 4096 || addr >= USER_ADDR_END || len > USER_ADDR_END - addr)
		return SS_EFAULT;
	if (!o->pf_collect)
		return memsrc_read(o->r->p->mem, addr, dst, len);
	rc = memsrc_peek(o->r->p->mem, addr, dst, len);
	if (rc == 1)
		return 0;
	if (!rc) {
		o->pf_missed = true;
		return SS_EFAULT;
	}
	return rc;
}

int obj_read_ptr(struct py_objects *o, uint64_t addr, uint64_t *v)
{
	return obj_read(o, addr, v, sizeof(*v));
}

int obj_read_i64(struct py_objects *o, uint64_t addr, int64_t *v)
{
	return obj_read(o, addr, v, sizeof(*v));
}

int obj_touch(struct py_objects *o, uint64_t addr, size_t len)
{
	uint8_t byte;
	uint64_t end;
	int rc = 0;

	if (!len || addr < 4096 || addr >= USER_ADDR_END ||
	    len > USER_ADDR_END - addr)
		return len ? SS_EFAULT : 0;
	end = addr + len;
	for (uint64_t a = addr; !rc && a < end; a = (a | 4095) + 1)
		rc = obj_read(o, a, &byte, 1);
	return rc;
}

int obj_read_size(struct py_objects *o, uint64_t obj, int64_t *size)
{
	if (o->l->object_ob_size == OFF_NONE)
		return SS_ECORRUPT;
	return obj_read_i64(o, obj + (uint64_t)o->l->object_ob_size, size);
}

/* Read up to the end of the page at most, so that a short string near the
 * end of a mapping still reads. */
int obj_read_cstr(struct py_objects *o, uint64_t addr, char *buf, size_t max)
{
	size_t got = 0;

	while (got + 1 < max) {
		uint64_t a = addr + got;
		size_t chunk = 4096 - (size_t)(a & 4095);
		char *nul;
		int rc;

		if (chunk > max - 1 - got)
			chunk = max - 1 - got;
		rc = obj_read(o, a, buf + got, chunk);
		if (rc)
			return rc;
		nul = memchr(buf + got, '\0', chunk);
		if (nul)
			return 0;
		got += chunk;
	}
	buf[max - 1] = '\0';
	return 0;
}

bool is_py2(const struct py_objects *o)
{
	return PY_MAJOR(o->l->version) == 2;
}

unsigned py_minor(const struct py_objects *o)
{
	return PY_MINOR(o->l->version);
}

const char *builtins_name(const struct py_objects *o)
{
	return is_py2(o) ? "__builtin__" : "builtins";
}

/* ---- bounds ----------------------------------------------------------- */

void repr_unreadable(struct strbuf *sb, uint64_t obj)
{
	strbuf_addf(sb, "<unreadable 0x%" PRIx64 ">", obj);
}

/* Byte offset of the code point after `count` code points from `from`. */
static size_t skip_code_points(const char *s, size_t from, size_t len,
			       size_t count)
{
	size_t i = from;

	while (i < len && count) {
		i++;
		while (i < len && ((unsigned char)s[i] & 0xc0) == 0x80)
			i++;
		count--;
	}
	return i;
}

static size_t count_code_points(const char *s, size_t from, size_t len)
{
	size_t n = 0;

	for (size_t i = from; i < len; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			n++;
	return n;
}

size_t repr_width(const struct strbuf *sb, size_t from)
{
	return count_code_points(sb->buf, from, sb->len);
}

/* reprlib.Repr.repr_instance: keep (max-3)//2 code points of the head and
 * the rest of max-3 of the tail around "...". */
void repr_cut(struct strbuf *sb, size_t from, unsigned max)
{
	size_t n;
	size_t keep_head, keep_tail, head_end, tail_start;
	char *tail;

	if (!sb->buf)
		return;
	n = count_code_points(sb->buf, from, sb->len);
	if (n <= max)
		return;
	keep_head = max >= 3 ? (max - 3) / 2 : 0;
	keep_tail = max >= 3 ? max - 3 - keep_head : 0;
	head_end = skip_code_points(sb->buf, from, sb->len, keep_head);
	tail_start = skip_code_points(sb->buf, from, sb->len, n - keep_tail);
	tail = xstrndup(sb->buf + tail_start, sb->len - tail_start);
	sb->len = head_end;
	sb->buf[sb->len] = '\0';
	strbuf_addstr(sb, "...");
	strbuf_addstr(sb, tail);
	free(tail);
}

bool repr_enter(struct py_objects *o, uint64_t obj)
{
	for (unsigned i = 0; i < o->depth; i++)
		if (o->active[i] == obj)
			return false;
	if (o->depth >= PY_REPR_MAX_DEPTH)
		return false;
	o->active[o->depth++] = obj;
	return true;
}

void repr_leave(struct py_objects *o)
{
	if (o->depth)
		o->depth--;
}


/* ---- dispatch --------------------------------------------------------- */

/* Kinds whose repr cannot change while the target is stopped and does not
 * depend on where it is printed: cached by address. */
static bool cacheable(enum py_kind k)
{
	switch (k) {
	case PY_K_NONE:
	case PY_K_BOOL:
	case PY_K_INT:
	case PY_K_LONG2:
	case PY_K_FLOAT:
	case PY_K_STR:
	case PY_K_BYTES:
	case PY_K_UNICODE2:
	case PY_K_CODE:
	case PY_K_FUNCTION:
	case PY_K_TYPE:
	case PY_K_MODULE:
		return true;
	default:
		return false;
	}
}

int repr_dispatch(struct py_objects *o, uint64_t obj, struct py_type *t,
		  struct strbuf *sb)
{
	switch (t->kind) {
	case PY_K_NONE:
	case PY_K_ELLIPSIS:
	case PY_K_NOTIMPLEMENTED:
		return repr_none_like(o, obj, t, sb);
	case PY_K_BOOL:
	case PY_K_INT:
	case PY_K_LONG2:
		return repr_int(o, obj, t, sb);
	case PY_K_FLOAT:
		return repr_float(o, obj, t, sb);
	case PY_K_STR:
	case PY_K_UNICODE2:
		return repr_str(o, obj, t, sb);
	case PY_K_BYTES:
		return repr_bytes(o, obj, t, sb);
	case PY_K_BYTEARRAY:
		return repr_bytearray(o, obj, t, sb);
	case PY_K_TUPLE:
	case PY_K_LIST:
		return repr_sequence(o, obj, t, sb);
	case PY_K_DICT:
		return repr_dict(o, obj, t, sb);
	case PY_K_SET:
	case PY_K_FROZENSET:
		return repr_set(o, obj, t, sb);
	case PY_K_TYPE:
		return repr_type(o, obj, t, sb);
	case PY_K_MODULE:
		return repr_module(o, obj, t, sb);
	case PY_K_FUNCTION:
		return repr_function(o, obj, t, sb);
	case PY_K_CODE:
		return repr_code(o, obj, t, sb);
	case PY_K_CELL:
		return repr_cell(o, obj, t, sb);
	case PY_K_METHOD:
		return repr_method(o, obj, t, sb);
	case PY_K_CFUNCTION:
		return repr_cfunction(o, obj, t, sb);
	case PY_K_CLASSOBJ:
		return repr_classobj(o, obj, t, sb);
	case PY_K_INSTANCE:
		return repr_instance(o, obj, t, sb);
	case PY_K_OTHER:
		break;
	}
	return repr_other(o, obj, t, sb);
}

void repr_element_max(struct py_objects *o, uint64_t obj, struct strbuf *sb,
		      unsigned limit)
{
	const struct py_type *ct;
	struct py_type *t;
	size_t start = sb->len;
	const char *cached;
	unsigned saved = o->limit;
	int rc;

	if (!obj) {
		strbuf_addstr(sb, "<NULL>");
		goto out;
	}
	cached = o->prefetch ? NULL : addrmap_get(&o->leaves, obj);
	if (cached) {
		strbuf_addstr(sb, cached);
		goto out;
	}
	if (!repr_take(o)) {
		strbuf_addstr(sb, "...");
		goto out;
	}
	if (!obj_plausible(obj) || py_type_of(o, obj, &ct, &o->scratch)) {
		repr_unreadable(sb, obj);
		goto out;
	}
	t = (struct py_type *)ct;
	if (o->prefetch && !cacheable(t->kind)) {
		uintptr_t seen = (uintptr_t)addrmap_get(&o->prefetched, obj);

		/* Read already, at this depth or shallower (so with at least
		 * as much below it). */
		if (seen && seen - 1 <= o->depth)
			return;
	}
	o->limit = limit;
	rc = repr_dispatch(o, obj, t, sb);
	o->limit = saved;
	/* Done, unless a batched prefetch must come back for it. */
	if (o->prefetch && !cacheable(t->kind) && !o->pf_missed)
		addrmap_put(&o->prefetched, obj, (void *)(uintptr_t)(o->depth + 1));
	if (rc) {
		if (sb->buf) {
			sb->len = start;
			sb->buf[start] = '\0';
		}
		repr_unreadable(sb, obj);
		goto out;
	}
	if (o->prefetch)
		return;
	/* Cached as cut to max_repr: cutting that again to a smaller limit
	 * gives what cutting the whole would (head of the head, tail of the
	 * tail). */
	repr_cut(sb, start, o->max_repr);
	if (cacheable(t->kind))
		addrmap_put(&o->leaves, obj, xstrdup(sb->buf + start));
out:
	if (!o->prefetch)
		repr_cut(sb, start, limit);
}

void repr_element(struct py_objects *o, uint64_t obj, struct strbuf *sb)
{
	repr_element_max(o, obj, sb, o->max_repr);
}

char *py_repr(struct py_objects *o, uint64_t obj)
{
	struct strbuf sb = STRBUF_INIT;

	o->depth = 0;
	o->budget = PY_REPR_BUDGET;
	repr_element(o, obj, &sb);
	return strbuf_detach(&sb);
}

/* None, Ellipsis, NotImplemented: singletons printed by name. */
int repr_none_like(struct py_objects *o, uint64_t obj,
		   const struct py_type *t, struct strbuf *sb)
{
	(void)o;
	(void)obj;
	strbuf_addstr(sb, t->kind == PY_K_NONE ? "None" :
			  t->kind == PY_K_ELLIPSIS ? "Ellipsis" :
			  "NotImplemented");
	return 0;
}
