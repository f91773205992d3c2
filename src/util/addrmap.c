#include "addrmap.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

static size_t slot_of(uint64_t key, size_t cap)
{
	/* Fibonacci hashing: object addresses share low bits (alignment). */
	return (size_t)((key * 0x9e3779b97f4a7c15ull) >> 17) & (cap - 1);
}

static size_t find(const struct addrmap *m, uint64_t key)
{
	size_t i = slot_of(key, m->cap);

	while (m->keys[i] && m->keys[i] != key)
		i = (i + 1) & (m->cap - 1);
	return i;
}

void *addrmap_get(const struct addrmap *m, uint64_t key)
{
	size_t i;

	if (!m->cap || !key)
		return NULL;
	i = find(m, key);
	return m->keys[i] ? m->vals[i] : NULL;
}

bool addrmap_has(const struct addrmap *m, uint64_t key)
{
	return m->cap && key && m->keys[find(m, key)] == key;
}

static void rehash(struct addrmap *m, size_t cap)
{
	struct addrmap old = *m;
	size_t i;

	m->keys = xcalloc(cap, sizeof(*m->keys));
	m->vals = xcalloc(cap, sizeof(*m->vals));
	m->cap = cap;
	m->n = 0;
	for (i = 0; i < old.cap; i++)
		if (old.keys[i])
			addrmap_put(m, old.keys[i], old.vals[i]);
	free(old.keys);
	free(old.vals);
}

void addrmap_put(struct addrmap *m, uint64_t key, void *val)
{
	size_t i;

	if ((m->n + 1) * 2 > m->cap)
		rehash(m, m->cap ? m->cap * 2 : 64);
	i = find(m, key);
	if (!m->keys[i]) {
		m->keys[i] = key;
		m->n++;
	}
	m->vals[i] = val;
}

bool addrmap_add(struct addrmap *m, uint64_t key, void *val)
{
	size_t i;

	if ((m->n + 1) * 2 > m->cap)
		rehash(m, m->cap ? m->cap * 2 : 64);
	i = find(m, key);
	if (m->keys[i])
		return false;
	m->keys[i] = key;
	m->vals[i] = val;
	m->n++;
	return true;
}

void addrmap_clear(struct addrmap *m)
{
	/* A value is only read where its key is set: the keys suffice. */
	if (m->n)
		memset(m->keys, 0, m->cap * sizeof(*m->keys));
	m->n = 0;
}

void addrmap_release(struct addrmap *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}
