/* Reading Python objects of any type out of a target: their types, their
 * repr() as the target itself would print it (bounded), dict lookups and
 * instance attributes.  Used by `dump --locals` (src/py/locals.c) and for
 * thread names (src/py/threadnames.c).
 *
 * Everything read is untrusted: an object whose memory cannot be read or
 * does not make sense prints as <unreadable 0x...>, every loop is bounded
 * (at most max_items elements of a container are read, at most
 * PY_REPR_BUDGET objects for one repr, nesting to PY_REPR_MAX_DEPTH) and a
 * container met again while it is being printed prints as Python prints a
 * recursive one ([...], {...}, (...)).
 *
 * The caches (types, reprs of immutable objects, code objects' variable
 * names) are keyed by target address and only valid while the target does
 * not change: py_objects_reset() between captures.
 */
#ifndef SS_PY_OBJECTS_H
#define SS_PY_OBJECTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "py/reader.h"
#include "util/addrmap.h"
#include "util/err.h"
#include "util/strbuf.h"

#define PY_REPR_DEFAULT_MAX 80      /* --max-repr: characters of one repr */
#define PY_ITEMS_DEFAULT_MAX 10     /* --max-items: elements per container */
#define PY_REPR_MAX_DEPTH 8         /* deeper containers print as [...] */
#define PY_REPR_BUDGET 4096         /* objects read for one top-level repr */
#define PY_PREFETCH_BUDGET (4 * PY_REPR_BUDGET)
#define PY_PREFETCH_LEAVES 1024

/* How instances of a type are printed. */
enum py_kind {
	PY_K_OTHER = 0,      /* <module.Type object at 0x...> */
	PY_K_NONE,
	PY_K_BOOL,
	PY_K_INT,            /* 3.x int; 2.7 int (PyIntObject) */
	PY_K_LONG2,          /* 2.7 long */
	PY_K_FLOAT,
	PY_K_STR,            /* 3.x str */
	PY_K_BYTES,          /* 3.x bytes; 2.7 str */
	PY_K_UNICODE2,       /* 2.7 unicode */
	PY_K_BYTEARRAY,
	PY_K_TUPLE,
	PY_K_LIST,
	PY_K_DICT,
	PY_K_SET,
	PY_K_FROZENSET,
	PY_K_TYPE,
	PY_K_MODULE,
	PY_K_FUNCTION,
	PY_K_CODE,
	PY_K_CELL,
	PY_K_METHOD,         /* bound method (2.7: instancemethod) */
	PY_K_CFUNCTION,      /* builtin_function_or_method */
	PY_K_ELLIPSIS,
	PY_K_NOTIMPLEMENTED,
	PY_K_CLASSOBJ,       /* 2.7 classic class */
	PY_K_INSTANCE,       /* 2.7 classic instance */
};

struct py_type {
	uint64_t addr;
	enum py_kind kind;
	bool exact;               /* the builtin type itself, not a subclass */
	bool heap;                /* Py_TPFLAGS_HEAPTYPE */
	unsigned long flags;      /* tp_flags */
	char *name;               /* tp_name */
	char *qualname;           /* heap: __qualname__ (2.7: __name__);
				   * static: tp_name after its last dot */
	/* Heap types: __module__ from the type's dict, looked up on first
	 * use (module_read); static types: tp_name before its last dot, or
	 * "builtins" ("__builtin__" on 2.7).  NULL when unknown. */
	char *module;
	bool module_read;
	int64_t basicsize, itemsize, dictoffset;
	uint64_t tp_repr, tp_dict, cached_keys;
};

struct py_objects {
	struct py_reader *r;
	const struct py_layout *l;
	unsigned max_repr;        /* characters (code points) per repr */
	unsigned max_items;       /* elements shown per container */
	struct addrmap types;     /* type address -> struct py_type * */
	struct py_type *last_type; /* the last one looked up */
	struct addrmap leaves;    /* immutable object -> its repr (char *) */
	struct addrmap codevars;  /* code address -> locals.c's names */
	/* The repr in progress: containers being printed, objects left. */
	uint64_t active[PY_REPR_MAX_DEPTH];
	unsigned depth;
	unsigned budget;
	unsigned limit;           /* code points the current repr may take */
	/* Prefetching (py_prefetch): read what the repr would, format
	 * nothing; prefetched maps each object to 1 + the shallowest depth
	 * it was read at. */
	bool prefetch;
	/* Batched prefetching: reads that would need the target are noted
	 * (pf_missed) and retried after one batch read (see prefetch.c). */
	bool pf_collect;
	bool pf_missed;
	struct addrmap prefetched;
	struct strbuf pf_sb;      /* what prefetching reprs append, dropped */
	/* Objects without elements prefetched lately, direct-mapped: small
	 * ints, interned names and None recur in every frame. */
	uint64_t pf_leaves[PY_PREFETCH_LEAVES];
	/* Where errors nobody reports go (an unreadable element prints as
	 * <unreadable>, it does not fail the dump). */
	struct err scratch;
};

void py_objects_init(struct py_objects *o, struct py_reader *r,
		     unsigned max_repr, unsigned max_items);
/* Forget everything read (call between captures of a running target). */
void py_objects_reset(struct py_objects *o);
void py_objects_release(struct py_objects *o);

/* repr() of the object at obj as UTF-8, at most max_repr code points
 * (longer ones are cut in the middle like reprlib: head + "..." + tail),
 * or <unreadable 0x...>.  Never fails; the caller frees the string. */
char *py_repr(struct py_objects *o, uint64_t obj);

/* Read, without formatting anything, every byte py_repr() of objs[0..n)
 * would read (and more: every element up to max_items, whatever their
 * length).  While a target is stopped this takes a consistent copy of all
 * it needs into the memory source's page cache at a fraction of the cost
 * of py_repr(), which can then run after the target is resumed and is
 * served from that copy.  With a caching memory source, the pages are read
 * a level at a time in batches (memsrc peek / fetch_wanted). */
void py_prefetch(struct py_objects *o, const uint64_t *objs, size_t n);

/* The type of obj / the type object at type, read once and cached. */
int py_type_of(struct py_objects *o, uint64_t obj, const struct py_type **t,
	       struct err *e);
int py_type_get(struct py_objects *o, uint64_t type, const struct py_type **t,
		struct err *e);
/* t->module, looked up in the type's dict on first use (may stay NULL). */
const char *py_type_module(struct py_objects *o, struct py_type *t);

/* The value of an int (or 2.7 int/long, or bool) object that fits in an
 * int64_t; SS_ECORRUPT when obj is no int or does not fit. */
int py_int_value(struct py_objects *o, uint64_t obj, int64_t *v,
		 struct err *e);

/* Whether the str (3.x str, 2.7 str or unicode) at obj equals s (UTF-8).
 * 0 no, 1 yes, negative SS_E* when it cannot be read. */
int py_str_equals(struct py_objects *o, uint64_t obj, const char *s,
		  struct err *e);

/* Iterating a dict in the order repr() shows it: every layout from 2.7's
 * open table to 3.11+'s dk_kind keys, combined or split, and the values
 * of a 3.11+ instance that has no dict object (values + the type's cached
 * keys).  At most PY_DICT_SCAN_MAX slots are looked at. */
#define PY_DICT_SCAN_MAX (1u << 22)

struct py_dict_iter {
	uint64_t entries;         /* first entry */
	uint64_t values;          /* split: the values array, else 0 */
	uint64_t order;           /* split 3.11+: insertion order bytes */
	int order_step;           /* +1 (3.13+) or -1 (3.11, 3.12) */
	uint32_t esize, koff, voff;
	uint64_t pos, end;        /* slot (or order position) range */
	uint64_t used;            /* len() of the dict */
	bool split;
};

int py_dict_iter_init(struct py_objects *o, struct py_dict_iter *it,
		      uint64_t dict, struct err *e);
/* Instance values without a dict object (3.11+ shared keys). */
int py_dict_iter_init_values(struct py_objects *o, struct py_dict_iter *it,
			     uint64_t values, uint64_t keys, struct err *e);
/* Next live item: 1 with *key, *value set; 0 at the end; SS_E* on error. */
int py_dict_iter_next(struct py_objects *o, struct py_dict_iter *it,
		      uint64_t *key, uint64_t *value, struct err *e);

/* Continue it to the item whose key is the str name: 0 with *value set,
 * 0 with *value = 0 when there is none, or SS_E*. */
int py_dict_iter_find_str(struct py_objects *o, struct py_dict_iter *it,
			  const char *name, uint64_t *value, struct err *e);

/* dict[name] for a str key; *value = 0 when there is no such key. */
int py_dict_get_str(struct py_objects *o, uint64_t dict, const char *name,
		    uint64_t *value, struct err *e);

/* obj.name looked up in obj's own __dict__ only (instance attributes, as
 * threading.Thread keeps _name): no descriptors, no class attributes.
 * *value = 0 when absent. */
int py_instance_attr(struct py_objects *o, uint64_t obj, const char *name,
		     uint64_t *value, struct err *e);

#endif
