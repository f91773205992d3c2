/* tuple, list, dict, set and frozenset: at most max_items elements are read
 * and shown, then ", ..." as reprlib does ([0, 1, ...], {'a': 1, ...});
 * a container already being printed (a recursive one) or nested too deep
 * prints as CPython prints a recursive one: [...], (...), {...}, set(...).
 *
 * Sets: 3.x {1, 2}, set(), frozenset({1}), frozenset(), and a subclass
 * with the inherited repr as Name({1}) / Name(); 2.7 set([1, 2]),
 * frozenset([]).  Elements come in table order, skipping empty slots and
 * deleted ones (3.x: hash -1; 2.7: the "<dummy key>" str).
 */
#include "py/repr.h"

#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

/* Largest table (mask + 1) scanned for set elements. */
#define SET_SCAN_MAX (1u << 22)
/* An element gets at least this many code points, else "..." ends. */
#define MIN_ROOM 4
/* ", ..." */
#define MORE_WIDTH 5

/* Writing elements within the length the container's repr may take: each
 * element gets the room left after what is written, the separator, the
 * closing text and, when more elements follow, ", ..."; when too little is
 * left, "..." stands for the rest (as reprlib's fill value). */
struct items {
	struct py_objects *o;
	struct strbuf *sb;
	size_t start;             /* where the container's repr starts */
	unsigned limit;
	size_t close_width;
	size_t shown;
	bool full;                /* "..." written: no more elements */
};

static void items_init(struct items *it, struct py_objects *o,
		       struct strbuf *sb, size_t start, size_t close_width)
{
	memset(it, 0, sizeof(*it));
	it->o = o;
	it->sb = sb;
	it->start = start;
	it->limit = o->limit ? o->limit : o->max_repr;
	it->close_width = close_width;
}

static void add_sep(struct strbuf *sb, size_t i)
{
	if (i)
		strbuf_addstr(sb, ", ");
}

/* Room for the next element (its separator written), or 0 with "..."
 * written instead. */
static unsigned items_next(struct items *it, bool more_after)
{
	size_t used;

	if (it->full)
		return 0;
	add_sep(it->sb, it->shown);
	/* Prefetching reads every element the repr might show. */
	if (it->o->prefetch) {
		it->shown++;
		return it->limit;
	}
	/* The separator is written already. */
	used = repr_width(it->sb, it->start) + it->close_width +
	       (more_after ? MORE_WIDTH : 0);
	if (used + MIN_ROOM > it->limit) {
		strbuf_addstr(it->sb, "...");
		it->full = true;
		return 0;
	}
	it->shown++;
	return (unsigned)(it->limit - used);
}

/* After the last element shown: ", ..." when there were more. */
static void items_end(struct items *it, bool more)
{
	if (more && !it->full) {
		add_sep(it->sb, it->shown);
		strbuf_addstr(it->sb, "...");
	}
}

int repr_sequence(struct py_objects *o, uint64_t obj, const struct py_type *t,
		  struct strbuf *sb)
{
	bool tuple = t->kind == PY_K_TUPLE;
	const char *open = tuple ? "(" : "[", *close = tuple ? ")" : "]";
	uint64_t items, *ptrs, small[16];
	int64_t n;
	size_t show;
	int rc = obj_read_size(o, obj, &n);

	if (rc)
		return rc;
	if (n < 0 || (tuple ? o->l->tuple_ob_item : o->l->list_ob_item) ==
		     OFF_NONE)
		return SS_ECORRUPT;
	if (tuple) {
		items = obj + (uint64_t)o->l->tuple_ob_item;
	} else {
		rc = obj_read_ptr(o, obj + (uint64_t)o->l->list_ob_item, &items);
		if (rc)
			return rc;
		if (n && !obj_plausible(items))
			return SS_ECORRUPT;
	}
	if (!repr_enter(o, obj)) {
		strbuf_addstr(sb, tuple ? "(...)" : "[...]");
		return 0;
	}
	show = (uint64_t)n < o->max_items ? (size_t)n : o->max_items;
	ptrs = show <= 16 ? small : xcalloc(show, sizeof(*ptrs));
	rc = show ? obj_read(o, items, ptrs, show * sizeof(*ptrs)) : 0;
	if (!rc) {
		struct items it;

		items_init(&it, o, sb, sb->len, tuple && n == 1 ? 2 : 1);
		strbuf_addstr(sb, open);
		for (size_t i = 0; i < show; i++) {
			unsigned room = items_next(&it, i + 1 < (uint64_t)n);

			if (!room)
				break;
			repr_element_max(o, ptrs[i], sb, room);
		}
		items_end(&it, (uint64_t)n > show);
		if (tuple && n == 1)
			strbuf_addch(sb, ',');
		strbuf_addstr(sb, close);
	}
	if (ptrs != small)
		free(ptrs);
	repr_leave(o);
	return rc;
}

int repr_dict(struct py_objects *o, uint64_t obj, const struct py_type *t,
	      struct strbuf *sb)
{
	struct py_dict_iter it;
	struct items out;
	uint64_t k, v;
	size_t i = 0;
	int rc = py_dict_iter_init(o, &it, obj, &o->scratch);

	(void)t;
	if (rc)
		return rc;
	if (!repr_enter(o, obj)) {
		strbuf_addstr(sb, "{...}");
		return 0;
	}
	items_init(&out, o, sb, sb->len, 1);
	strbuf_addch(sb, '{');
	while (i < o->max_items &&
	       (rc = py_dict_iter_next(o, &it, &k, &v, &o->scratch)) == 1) {
		unsigned room = items_next(&out, i + 1 < it.used);
		size_t at = sb->len;

		i++;
		if (!room)
			break;
		/* "key: value" is one element, cut as a whole. */
		repr_element_max(o, k, sb, room);
		strbuf_addstr(sb, ": ");
		repr_element_max(o, v, sb, room);
		if (!o->prefetch)
			repr_cut(sb, at, room);
	}
	if (rc < 0 && !i) {
		repr_leave(o);
		return rc;
	}
	/* More than shown, or the rest unreadable. */
	items_end(&out, rc < 0 || it.used > i);
	strbuf_addch(sb, '}');
	repr_leave(o);
	return 0;
}

/* Whether key is 2.7's dummy, the str "<dummy key>" deleted slots hold. */
static bool py2_dummy(struct py_objects *o, uint64_t key)
{
	const struct py_type *kt;

	return !py_type_of(o, key, &kt, &o->scratch) && kt->kind == PY_K_BYTES &&
	       py_str_equals(o, key, "<dummy key>", &o->scratch) == 1;
}

struct set_table {
	uint64_t table, slots;
	int64_t used;
};

static int read_set(struct py_objects *o, uint64_t obj, struct set_table *s)
{
	const struct py_layout *l = o->l;
	int64_t mask;
	int rc;

	if (l->set_used == OFF_NONE || l->set_mask == OFF_NONE ||
	    l->set_table == OFF_NONE || l->setentry_size == OFF_NONE ||
	    l->setentry_size > 64)
		return SS_ECORRUPT;
	rc = obj_read_i64(o, obj + (uint64_t)l->set_used, &s->used);
	if (!rc)
		rc = obj_read_i64(o, obj + (uint64_t)l->set_mask, &mask);
	if (!rc)
		rc = obj_read_ptr(o, obj + (uint64_t)l->set_table, &s->table);
	if (rc)
		return rc;
	if (mask < 7 || ((mask + 1) & mask) || s->used < 0 ||
	    s->used > mask + 1 || !obj_plausible(s->table))
		return SS_ECORRUPT;
	s->slots = (uint64_t)mask + 1 < SET_SCAN_MAX ? (uint64_t)mask + 1 :
						      SET_SCAN_MAX;
	return 0;
}

static void add_set_items(struct py_objects *o, const struct set_table *s,
			  struct strbuf *sb, size_t start, size_t close_width)
{
	const struct py_layout *l = o->l;
	size_t shown = 0;
	bool more = false;
	struct items it;

	items_init(&it, o, sb, start, close_width);

	for (uint64_t i = 0; i < s->slots; i++) {
		uint8_t entry[64];
		uint64_t key;
		int64_t hash;
		unsigned room;

		if (obj_read(o, s->table + i * (uint64_t)l->setentry_size, entry,
			     (size_t)l->setentry_size)) {
			more = true;
			break;
		}
		memcpy(&key, entry + l->setentry_key, 8);
		memcpy(&hash, entry + l->setentry_hash, 8);
		if (!key || (!is_py2(o) && hash == -1) ||
		    (is_py2(o) && py2_dummy(o, key)))
			continue;
		if (shown == o->max_items) {
			more = true;
			break;
		}
		room = items_next(&it, shown + 1 < (uint64_t)s->used);
		shown++;
		if (!room)
			break;
		repr_element_max(o, key, sb, room);
	}
	items_end(&it, more || (uint64_t)s->used > shown);
}

int repr_set(struct py_objects *o, uint64_t obj, const struct py_type *t,
	     struct strbuf *sb)
{
	bool frozen = t->kind == PY_K_FROZENSET;
	const char *name = t->exact ? (frozen ? "frozenset" : "set") : t->name;
	struct set_table s;
	size_t start = sb->len;
	int rc = read_set(o, obj, &s);

	if (rc)
		return rc;
	if (!repr_enter(o, obj)) {
		strbuf_addf(sb, "%s(...)", name);
		return 0;
	}
	if (is_py2(o)) {
		strbuf_addf(sb, "%s([", name);
		add_set_items(o, &s, sb, start, 2);
		strbuf_addstr(sb, "])");
	} else if (!s.used) {
		strbuf_addf(sb, "%s()", name);
	} else {
		bool bare = t->exact && !frozen;

		if (!bare)
			strbuf_addf(sb, "%s(", name);
		strbuf_addch(sb, '{');
		add_set_items(o, &s, sb, start, bare ? 1 : 2);
		strbuf_addch(sb, '}');
		if (!bare)
			strbuf_addch(sb, ')');
	}
	repr_leave(o);
	return 0;
}
