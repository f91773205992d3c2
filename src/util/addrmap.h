/* Open-addressing hash map from target addresses to pointers.  Used for the
 * code-object cache and for cycle detection in frame chains. */
#ifndef SS_UTIL_ADDRMAP_H
#define SS_UTIL_ADDRMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct addrmap {
	uint64_t *keys;   /* 0 = empty slot: address 0 is never a valid key */
	void **vals;
	size_t cap;       /* power of two */
	size_t n;
};

void *addrmap_get(const struct addrmap *m, uint64_t key);
bool addrmap_has(const struct addrmap *m, uint64_t key);
/* Insert or replace; key must be nonzero. */
void addrmap_put(struct addrmap *m, uint64_t key, void *val);
/* Insert key (nonzero) with val unless it is there: false if it was. */
bool addrmap_add(struct addrmap *m, uint64_t key, void *val);
/* Forget all keys, keep the storage. */
void addrmap_clear(struct addrmap *m);
void addrmap_release(struct addrmap *m);

#endif
