/* Instance attributes: where an object keeps its __dict__ in each version.
 *
 * tp_dictoffset > 0: a dict pointer at that offset; < 0: counted from the
 *   end of a variable-size object (_PyObject_VAR_SIZE, 8-byte rounded).
 * 3.11+ Py_TPFLAGS_MANAGED_DICT: before the object (object_managed_dict
 *   bytes back):
 *   3.11  the dict pointer, and 8 bytes further back a PyDictValues
 *         pointer used while no dict exists;
 *   3.12  one word holding either the dict or (values - 1), told apart
 *         by its low bit;
 *   3.13+ the dict pointer; without one, Py_TPFLAGS_INLINE_VALUES
 *         objects keep PyDictValues inline at obj + tp_basicsize (valid
 *         while its `valid` byte is set).
 *   Values are keyed by the type's shared keys (ht_cached_keys).
 * 2.7 classic instances: PyInstanceObject.in_dict.
 */
#include "py/repr.h"

#define TPFLAGS_INLINE_VALUES (1ul << 2)
#define TPFLAGS_MANAGED_DICT (1ul << 4)

static int lookup_values(struct py_objects *o, uint64_t values,
			 uint64_t keys, const char *name, uint64_t *value,
			 struct err *e)
{
	struct py_dict_iter it;
	int rc = py_dict_iter_init_values(o, &it, values, keys, e);

	return rc ? rc : py_dict_iter_find_str(o, &it, name, value, e);
}

static int managed(struct py_objects *o, uint64_t obj,
		   const struct py_type *t, const char *name, uint64_t *value,
		   struct err *e)
{
	uint64_t at = obj - (uint64_t)o->l->object_managed_dict;
	uint64_t word, values = 0;
	unsigned minor = py_minor(o);
	int rc = obj_read_ptr(o, at, &word);

	if (rc)
		return err_set(e, rc, "cannot read the dict of 0x%llx",
			       (unsigned long long)obj);
	if (minor == 12 && (word & 1)) {
		values = word + 1;
		word = 0;
	} else if (minor == 11 && !word) {
		rc = obj_read_ptr(o, at - 8, &values);
	} else if (minor >= 13 && !word && (t->flags & TPFLAGS_INLINE_VALUES) &&
		   o->l->dictvalues_valid != OFF_NONE) {
		uint8_t valid = 0;

		values = obj + (uint64_t)t->basicsize;
		rc = obj_read(o, values + (uint64_t)o->l->dictvalues_valid,
			      &valid, 1);
		if (!valid)
			values = 0;
	}
	if (rc)
		return err_set(e, rc, "cannot read the values of 0x%llx",
			       (unsigned long long)obj);
	if (word)
		return py_dict_get_str(o, word, name, value, e);
	if (values)
		return lookup_values(o, values, t->cached_keys, name, value, e);
	return 0;
}

int py_instance_attr(struct py_objects *o, uint64_t obj, const char *name,
		     uint64_t *value, struct err *e)
{
	const struct py_type *t;
	int64_t off;
	uint64_t dict = 0;
	int rc = py_type_of(o, obj, &t, e);

	*value = 0;
	if (rc)
		return rc;
	if (t->kind == PY_K_INSTANCE && o->l->instance_in_dict != OFF_NONE) {
		rc = obj_read_ptr(o, obj + (uint64_t)o->l->instance_in_dict,
				  &dict);
		goto lookup;
	}
	if ((t->flags & TPFLAGS_MANAGED_DICT) &&
	    o->l->object_managed_dict != OFF_NONE)
		return managed(o, obj, t, name, value, e);
	off = t->dictoffset;
	if (!off)
		return 0;
	if (off < 0) {
		int64_t size;

		rc = obj_read_size(o, obj, &size);
		if (rc)
			goto lookup;
		if (size < 0)
			size = -size;
		if (size > (1ll << 40) || t->itemsize < 0 ||
		    t->itemsize > 1024 || t->basicsize < 0)
			return err_set(e, SS_ECORRUPT, "implausible size of "
				       "0x%llx", (unsigned long long)obj);
		off += (t->basicsize + size * t->itemsize + 7) & ~7ll;
	}
	if (off < 0 || off > (1ll << 20))
		return err_set(e, SS_ECORRUPT, "implausible dict offset %lld",
			       (long long)off);
	rc = obj_read_ptr(o, obj + (uint64_t)off, &dict);
lookup:
	if (rc)
		return err_set(e, rc, "cannot read the dict of 0x%llx",
			       (unsigned long long)obj);
	if (!dict)
		return 0;
	return py_dict_get_str(o, dict, name, value, e);
}
