/* Internal to the object readers (objects.c, types.c, repr_*.c, dict.c,
 * attrs.c): reading helpers and the repr of each kind of object.
 *
 * A repr_<kind>() appends the repr of obj (whose type is t) to sb and
 * returns 0, or returns a negative SS_E* when obj cannot be read; the
 * caller then drops what was appended and prints <unreadable 0x...>.
 * Elements of containers go through repr_element(), which never fails. */
#ifndef SS_PY_REPR_H
#define SS_PY_REPR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "py/objects.h"
#include "util/strbuf.h"

/* Longest C string read (tp_name, ml_name). */
#define PY_CSTR_MAX 256

/* Whether addr can be an object: user space (x86-64: below 2^47), 8-byte
 * aligned. */
static inline bool obj_plausible(uint64_t addr)
{
	return addr >= 4096 && addr < (1ull << 47) && !(addr & 7);
}

int obj_read(struct py_objects *o, uint64_t addr, void *dst, size_t len);
int obj_read_ptr(struct py_objects *o, uint64_t addr, uint64_t *v);
int obj_read_i64(struct py_objects *o, uint64_t addr, int64_t *v);
/* A NUL-terminated C string of at most max - 1 bytes into buf. */
int obj_read_cstr(struct py_objects *o, uint64_t addr, char *buf, size_t max);
/* Read [addr, addr + len) without keeping it: brings it into the page
 * cache (prefetching). */
int obj_touch(struct py_objects *o, uint64_t addr, size_t len);
/* ob_size of a variable-size object. */
int obj_read_size(struct py_objects *o, uint64_t obj, int64_t *size);

/* The name a type has for Python: "builtins" (3.x) or "__builtin__". */
const char *builtins_name(const struct py_objects *o);
bool is_py2(const struct py_objects *o);
unsigned py_minor(const struct py_objects *o);

/* The repr of a container element (or a %R inside another repr): bounded,
 * cut to max_repr, never fails. */
void repr_element(struct py_objects *o, uint64_t obj, struct strbuf *sb);
/* The same, cut to limit (<= max_repr) code points. */
void repr_element_max(struct py_objects *o, uint64_t obj, struct strbuf *sb,
		      unsigned limit);
/* Code points of sb from byte `from` on. */
size_t repr_width(const struct strbuf *sb, size_t from);
void repr_unreadable(struct strbuf *sb, uint64_t obj);
/* Cut sb from byte `from` on to max code points, reprlib style. */
void repr_cut(struct strbuf *sb, size_t from, unsigned max);
/* Enter a container: false (and the recursion marker printed by the
 * caller) when obj is already being printed or nesting is too deep. */
bool repr_enter(struct py_objects *o, uint64_t obj);
void repr_leave(struct py_objects *o);
/* Take one object from the budget; false when it is spent. */
static inline bool repr_take(struct py_objects *o)
{
	if (!o->budget)
		return false;
	o->budget--;
	return true;
}

/* The repr of obj by its kind (no bounds of its own: see repr_element). */
int repr_dispatch(struct py_objects *o, uint64_t obj, struct py_type *t,
		  struct strbuf *sb);

int repr_none_like(struct py_objects *o, uint64_t obj,
		   const struct py_type *t, struct strbuf *sb);
int repr_int(struct py_objects *o, uint64_t obj, const struct py_type *t,
	     struct strbuf *sb);
int repr_float(struct py_objects *o, uint64_t obj, const struct py_type *t,
	       struct strbuf *sb);
int repr_str(struct py_objects *o, uint64_t obj, const struct py_type *t,
	     struct strbuf *sb);
int repr_bytes(struct py_objects *o, uint64_t obj, const struct py_type *t,
	       struct strbuf *sb);
int repr_bytearray(struct py_objects *o, uint64_t obj,
		   const struct py_type *t, struct strbuf *sb);
int repr_sequence(struct py_objects *o, uint64_t obj,
		  const struct py_type *t, struct strbuf *sb);
int repr_dict(struct py_objects *o, uint64_t obj, const struct py_type *t,
	      struct strbuf *sb);
int repr_set(struct py_objects *o, uint64_t obj, const struct py_type *t,
	     struct strbuf *sb);
int repr_type(struct py_objects *o, uint64_t obj, const struct py_type *t,
	      struct strbuf *sb);
int repr_module(struct py_objects *o, uint64_t obj, const struct py_type *t,
		struct strbuf *sb);
int repr_function(struct py_objects *o, uint64_t obj,
		  const struct py_type *t, struct strbuf *sb);
int repr_code(struct py_objects *o, uint64_t obj, const struct py_type *t,
	      struct strbuf *sb);
int repr_cell(struct py_objects *o, uint64_t obj, const struct py_type *t,
	      struct strbuf *sb);
int repr_method(struct py_objects *o, uint64_t obj, const struct py_type *t,
		struct strbuf *sb);
int repr_cfunction(struct py_objects *o, uint64_t obj,
		   const struct py_type *t, struct strbuf *sb);
int repr_classobj(struct py_objects *o, uint64_t obj,
		  const struct py_type *t, struct strbuf *sb);
int repr_instance(struct py_objects *o, uint64_t obj,
		  const struct py_type *t, struct strbuf *sb);
/* <module.Type object at 0x...>, as object.__repr__ prints it. */
int repr_other(struct py_objects *o, uint64_t obj, struct py_type *t,
	       struct strbuf *sb);

/* The value of an int object as sign and magnitude when it fits. */
int int_read_u64(struct py_objects *o, uint64_t obj, const struct py_type *t,
		 bool *negative, uint64_t *mag, struct err *e);

/* Free locals.c's entries of o->codevars (objects.c does not know them). */
void py_locals_cache_free(struct addrmap *m);

/* Python's repr() of a double (shortest round-trip digits, float_repr
 * style): into buf of at least 32 bytes. */
void py_float_format(double v, char *buf, size_t len);

/* Whether CPython 3.<minor> prints code point cp literally in a str's
 * repr (str.isprintable()). */
bool unicode_printable_in(uint32_t cp, unsigned minor);

/* Escape code points into a str repr body (3.x rules, quote given). */
void repr_escape_str3(struct strbuf *sb, const uint32_t *cp, size_t n,
		      char quote, unsigned minor);

#endif
