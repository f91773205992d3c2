/* Dicts in every layout, iterated in the order repr() shows them.
 *
 * 2.7: PyDictObject holds an open-addressing table of PyDictEntry
 *   {hash, key, value}, ma_mask + 1 slots; live slots have a value; order
 *   is table order.
 * 3.6-3.10: ma_keys points to a PyDictKeysObject laid out (in
 *   Objects/dict-common.h, not an installed header, the same in all five
 *   versions) as dk_refcnt, dk_size, dk_lookup, dk_usable, dk_nentries
 *   (8 bytes each), then dk_size indices of 1, 2, 4 or 8 bytes (by
 *   dk_size), then the entries {hash, key, value} in insertion order.
 *   A split dict (ma_values) has its values in ma_values[entry index].
 * 3.11+: PyDictKeysObject (pycore_dict.h) has dk_log2_size,
 *   dk_log2_index_bytes and dk_kind; entries follow the indices and are
 *   PyDictKeyEntry {hash, key, value} for DICT_KEYS_GENERAL, else
 *   PyDictUnicodeEntry {key, value}.  A split dict's values carry their
 *   own insertion order: 3.11 and 3.12 in the bytes before the values
 *   ([-2] = count, [-3 - i] = entry index of the i-th), 3.13+ in
 *   PyDictValues {capacity, size, embedded, valid, values[capacity]}
 *   followed by size order bytes.
 */
#include "py/repr.h"

#include <string.h>

#define DICT_KEYS_GENERAL 0
#define DICT_KEYS_SPLIT 2

/* 3.6-3.10 PyDictKeysObject (see above). */
#define DK36_SIZE 8
#define DK36_NENTRIES 32
#define DK36_INDICES 40
#define DK36_ENTRY_SIZE 24
#define DK36_ENTRY_KEY 8
#define DK36_ENTRY_VALUE 16

#define MAX_LOG2_SIZE 40

struct keys_info {
	uint64_t entries;
	uint64_t nentries;
	uint32_t esize, koff, voff;
};

static bool new_keys(const struct py_objects *o)
{
	return o->l->dictkeys_log2_size != OFF_NONE;
}

static int read_keys_36(struct py_objects *o, uint64_t keys,
			struct keys_info *k)
{
	int64_t size, n, head[DK36_INDICES / 8];
	uint64_t ix;
	int rc = obj_read(o, keys, head, sizeof(head));

	if (rc)
		return rc;
	size = head[DK36_SIZE / 8];
	n = head[DK36_NENTRIES / 8];
	/* Empty dicts share a keys object of size 1 (Py_EMPTY_KEYS). */
	if (size < 1 || (size & (size - 1)) || size > (1ll << MAX_LOG2_SIZE) ||
	    n < 0 || n > size)
		return SS_ECORRUPT;
	ix = size <= 0xff ? 1 : size <= 0xffff ? 2 : size <= 0xffffffffll ? 4 : 8;
	k->entries = keys + DK36_INDICES + (uint64_t)size * ix;
	k->nentries = (uint64_t)n;
	k->esize = DK36_ENTRY_SIZE;
	k->koff = DK36_ENTRY_KEY;
	k->voff = DK36_ENTRY_VALUE;
	return 0;
}

static int read_keys_311(struct py_objects *o, uint64_t keys,
			 struct keys_info *k)
{
	const struct py_layout *l = o->l;
	uint8_t log2_size, log2_ix, kind, head[64];
	int64_t n;
	int rc;

	if (l->dictkeys_log2_index_bytes == OFF_NONE ||
	    l->dictkeys_kind == OFF_NONE || l->dictkeys_nentries == OFF_NONE ||
	    l->dictkeys_indices == OFF_NONE || l->dictentry_size == OFF_NONE ||
	    l->dictuentry_size == OFF_NONE || l->dictkeys_indices > 64 ||
	    l->dictkeys_nentries + 8 > l->dictkeys_indices)
		return SS_ECORRUPT;
	/* Everything before dk_indices, in one read. */
	rc = obj_read(o, keys, head, (size_t)l->dictkeys_indices);
	if (rc)
		return rc;
	log2_size = head[l->dictkeys_log2_size];
	log2_ix = head[l->dictkeys_log2_index_bytes];
	kind = head[l->dictkeys_kind];
	memcpy(&n, head + l->dictkeys_nentries, 8);
	if (log2_size > MAX_LOG2_SIZE || log2_ix < log2_size ||
	    log2_ix > log2_size + 3 || kind > DICT_KEYS_SPLIT || n < 0 ||
	    (uint64_t)n > (1ull << log2_size))
		return SS_ECORRUPT;
	k->entries = keys + (uint64_t)l->dictkeys_indices + (1ull << log2_ix);
	k->nentries = (uint64_t)n;
	if (kind == DICT_KEYS_GENERAL) {
		k->esize = (uint32_t)l->dictentry_size;
		k->koff = (uint32_t)l->dictentry_key;
		k->voff = (uint32_t)l->dictentry_value;
	} else {
		k->esize = (uint32_t)l->dictuentry_size;
		k->koff = (uint32_t)l->dictuentry_key;
		k->voff = (uint32_t)l->dictuentry_value;
	}
	return 0;
}

static int read_keys(struct py_objects *o, uint64_t keys, struct keys_info *k)
{
	if (!obj_plausible(keys))
		return SS_ECORRUPT;
	return new_keys(o) ? read_keys_311(o, keys, k) : read_keys_36(o, keys, k);
}

static uint64_t cap(uint64_t n)
{
	return n > PY_DICT_SCAN_MAX ? PY_DICT_SCAN_MAX : n;
}

/* Split values (3.11+): where the order bytes are and how many. */
static int init_values_order(struct py_objects *o, struct py_dict_iter *it,
			     uint64_t values)
{
	const struct py_layout *l = o->l;
	uint8_t count;
	int rc;

	if (l->dictvalues_values != OFF_NONE) {
		uint8_t capacity;

		rc = obj_read(o, values + (uint64_t)l->dictvalues_capacity,
			      &capacity, 1);
		if (!rc)
			rc = obj_read(o, values + (uint64_t)l->dictvalues_size,
				      &count, 1);
		if (rc)
			return rc;
		if (count > capacity)
			return SS_ECORRUPT;
		it->values = values + (uint64_t)l->dictvalues_values;
		it->order = it->values + 8ull * capacity;
		it->order_step = 1;
	} else {
		rc = obj_read(o, values - 2, &count, 1);
		if (rc)
			return rc;
		it->values = values;
		it->order = values - 3;
		it->order_step = -1;
	}
	it->pos = 0;
	it->end = count;
	return 0;
}

static void init_entries(struct py_dict_iter *it, const struct keys_info *k)
{
	it->entries = k->entries;
	it->esize = k->esize;
	it->koff = k->koff;
	it->voff = k->voff;
}

int py_dict_iter_init_values(struct py_objects *o, struct py_dict_iter *it,
			     uint64_t values, uint64_t keys, struct err *e)
{
	struct keys_info k;
	int rc;

	memset(it, 0, sizeof(*it));
	if (!new_keys(o) || !obj_plausible(values))
		return o->prefetch ? SS_ECORRUPT :
		       err_set(e, SS_ECORRUPT, "no instance values at 0x%llx",
			       (unsigned long long)values);
	rc = read_keys(o, keys, &k);
	if (!rc)
		rc = init_values_order(o, it, values);
	if (rc)
		return o->prefetch ? rc :
		       err_set(e, rc, "cannot read instance values 0x%llx",
			       (unsigned long long)values);
	init_entries(it, &k);
	it->split = true;
	it->used = it->end;
	return 0;
}

static int init_py2(struct py_objects *o, struct py_dict_iter *it,
		    uint64_t dict)
{
	const struct py_layout *l = o->l;
	int64_t used, mask;
	uint64_t table;
	int rc;

	if (l->dict_ma_mask == OFF_NONE || l->dict_ma_table == OFF_NONE ||
	    l->dictentry_size == OFF_NONE)
		return SS_ECORRUPT;
	rc = obj_read_i64(o, dict + (uint64_t)l->dict_ma_used, &used);
	if (!rc)
		rc = obj_read_i64(o, dict + (uint64_t)l->dict_ma_mask, &mask);
	if (!rc)
		rc = obj_read_ptr(o, dict + (uint64_t)l->dict_ma_table, &table);
	if (rc)
		return rc;
	if (mask < 7 || ((mask + 1) & mask) || used < 0 || used > mask + 1 ||
	    !obj_plausible(table))
		return SS_ECORRUPT;
	it->entries = table;
	it->esize = (uint32_t)l->dictentry_size;
	it->koff = (uint32_t)l->dictentry_key;
	it->voff = (uint32_t)l->dictentry_value;
	it->end = cap((uint64_t)mask + 1);
	it->used = (uint64_t)used;
	return 0;
}

/* ma_used, ma_keys and ma_values (3.x) in one read. */
static int read_dict_head(struct py_objects *o, uint64_t dict, int64_t *used,
			  uint64_t *keys, uint64_t *values)
{
	const struct py_layout *l = o->l;
	int32_t lo = l->dict_ma_used, hi = l->dict_ma_used;
	uint8_t buf[64];
	int rc;

	if (l->dict_ma_keys < lo)
		lo = l->dict_ma_keys;
	if (l->dict_ma_values < lo)
		lo = l->dict_ma_values;
	if (l->dict_ma_keys > hi)
		hi = l->dict_ma_keys;
	if (l->dict_ma_values > hi)
		hi = l->dict_ma_values;
	if (lo < 0 || hi + 8 - lo > (int32_t)sizeof(buf))
		return SS_ECORRUPT;
	rc = obj_read(o, dict + (uint64_t)lo, buf, (size_t)(hi + 8 - lo));
	if (rc)
		return rc;
	memcpy(used, buf + l->dict_ma_used - lo, 8);
	memcpy(keys, buf + l->dict_ma_keys - lo, 8);
	memcpy(values, buf + l->dict_ma_values - lo, 8);
	return 0;
}

int py_dict_iter_init(struct py_objects *o, struct py_dict_iter *it,
		      uint64_t dict, struct err *e)
{
	const struct py_layout *l = o->l;
	struct keys_info k;
	int64_t used;
	uint64_t keys, values;
	int rc;

	memset(it, 0, sizeof(*it));
	if (!obj_plausible(dict) || l->dict_ma_used == OFF_NONE)
		return o->prefetch ? SS_ECORRUPT :
		       err_set(e, SS_ECORRUPT, "no dict at 0x%llx",
			       (unsigned long long)dict);
	if (is_py2(o)) {
		rc = init_py2(o, it, dict);
		goto out;
	}
	if (l->dict_ma_keys == OFF_NONE || l->dict_ma_values == OFF_NONE) {
		rc = SS_ECORRUPT;
		goto out;
	}
	rc = read_dict_head(o, dict, &used, &keys, &values);
	if (!rc)
		rc = read_keys(o, keys, &k);
	if (!rc && used < 0)
		rc = SS_ECORRUPT;
	if (rc)
		goto out;
	init_entries(it, &k);
	it->used = (uint64_t)used;
	if (!values) {
		it->end = cap(k.nentries);
	} else if (!new_keys(o)) {
		/* 3.6-3.10 split: values in entry order. */
		it->split = true;
		it->values = values;
		it->end = cap(k.nentries);
	} else {
		it->split = true;
		rc = init_values_order(o, it, values);
	}
out:
	if (rc)
		return o->prefetch ? rc :
		       err_set(e, rc, "cannot read dict 0x%llx",
			       (unsigned long long)dict);
	return 0;
}

int py_dict_iter_next(struct py_objects *o, struct py_dict_iter *it,
		      uint64_t *key, uint64_t *value, struct err *e)
{
	while (it->pos < it->end) {
		uint64_t idx = it->pos++, k = 0, v = 0;
		uint8_t entry[64];
		int rc;

		if (it->order) {
			uint8_t b;

			rc = obj_read(o, it->order_step > 0 ? it->order + idx :
				      it->order - idx, &b, 1);
			if (rc)
				return o->prefetch ? rc :
				       err_set(e, rc, "cannot read dict order");
			idx = b;
		}
		if (it->esize > sizeof(entry) || it->koff + 8 > it->esize)
			return err_set(e, SS_ECORRUPT, "bad dict entry size");
		rc = obj_read(o, it->entries + idx * it->esize, entry,
			      it->esize);
		if (!rc && it->split)
			rc = obj_read_ptr(o, it->values + 8 * idx, &v);
		if (rc)
			return o->prefetch ? rc :
			       err_set(e, rc, "cannot read dict entry %llu",
				       (unsigned long long)idx);
		memcpy(&k, entry + it->koff, 8);
		if (!it->split)
			memcpy(&v, entry + it->voff, 8);
		if (k && v) {
			*key = k;
			*value = v;
			return 1;
		}
	}
	return 0;
}

int py_dict_iter_find_str(struct py_objects *o, struct py_dict_iter *it,
			  const char *name, uint64_t *value, struct err *e)
{
	uint64_t k, v;
	int rc;

	*value = 0;
	while ((rc = py_dict_iter_next(o, it, &k, &v, e)) == 1) {
		if (py_str_equals(o, k, name, &o->scratch) == 1) {
			*value = v;
			return 0;
		}
	}
	return rc;
}

int py_dict_get_str(struct py_objects *o, uint64_t dict, const char *name,
		    uint64_t *value, struct err *e)
{
	struct py_dict_iter it;
	int rc = py_dict_iter_init(o, &it, dict, e);

	*value = 0;
	return rc ? rc : py_dict_iter_find_str(o, &it, name, value, e);
}
