/* A page cache in front of any memory source.  A dump reads thousands of
 * small neighbouring structs (3.11+ frames share data-stack chunks, frame
 * objects come from free lists); reading whole pages once turns them into
 * a few system calls.  Only valid while the target does not change, so it
 * is reset at the start of every capture. */
#ifndef SS_TARGET_MEM_CACHE_H
#define SS_TARGET_MEM_CACHE_H

#include "target/memsrc.h"

/* Wrap under (not owned: released by the caller after the cache). */
struct memsrc *mem_cache_new(struct memsrc *under);
void mem_cache_reset(struct memsrc *m);

/* A page and the 64-byte lines of it that were used (bit i: bytes 64 i
 * to 64 i + 63). */
struct mem_page_use {
	uint64_t page, lines;
};

/* The pages reads and peeks used since the last reset, in the order of
 * first use (a page may be listed twice), at most max of them, with the
 * lines of each that were used: a sampler fetches them in one batch at the
 * start of its next capture. */
size_t mem_cache_used(struct memsrc *m, struct mem_page_use *used, size_t max);
/* Read, in one batch, the given lines of the given pages (in address
 * order, each once) and a few lines around them; the rest of such a page
 * is read when something needs it.  Copying whole pages costs a sampler
 * more than the few hundred bytes of each it uses. */
void mem_cache_fetch_lines(struct memsrc *m, const struct mem_page_use *use,
			   size_t n);

/* Set aside page buffers for up to `pages` pages, their memory touched
 * now: reads while a target is stopped then take no page faults (about
 * 2 us a page in a VM).  Call before stopping; pages beyond come from
 * malloc as usual. */
void mem_cache_reserve(struct memsrc *m, size_t pages);

#endif
