#include "target/mem_cache.h"

#include <stdlib.h>
#include <string.h>

#include "util/addrmap.h"
#include "util/xalloc.h"

#define PAGE 4096u
/* Reads spanning more pages than this go straight to the source. */
#define MAX_CACHED_SPAN 2
/* Bound on memory: beyond this many pages the cache starts over. */
#define MAX_PAGES 4096

struct mem_cache {
	struct memsrc base;       /* first: a memsrc * is a mem_cache * */
	struct memsrc *under;
	struct addrmap pages;     /* page address -> PAGE bytes */
};

static struct mem_cache *to_cache(struct memsrc *m)
{
	return (struct mem_cache *)m;
}

static void drop_pages(struct mem_cache *c)
{
	for (size_t i = 0; i < c->pages.cap; i++)
		if (c->pages.keys[i])
			free(c->pages.vals[i]);
	addrmap_clear(&c->pages);
}

static const uint8_t *page_of(struct mem_cache *c, uint64_t page)
{
	uint8_t *buf = addrmap_get(&c->pages, page);

	if (buf)
		return buf;
	if (c->pages.n >= MAX_PAGES)
		drop_pages(c);
	buf = xmalloc(PAGE);
	/* A page is mapped whole or not at all, so a failure here means the
	 * range is (partly) unmapped; the caller then asks the source for
	 * the exact range and gets its precise error. */
	if (memsrc_read(c->under, page, buf, PAGE)) {
		free(buf);
		return NULL;
	}
	addrmap_put(&c->pages, page, buf);
	return buf;
}

static int cache_read(struct memsrc *m, uint64_t addr, void *dst, size_t len)
{
	struct mem_cache *c = to_cache(m);
	uint64_t first = addr & ~(uint64_t)(PAGE - 1);
	uint64_t last = (addr + len - 1) & ~(uint64_t)(PAGE - 1);
	uint8_t *out = dst;

	if (!len)
		return 0;
	if (addr + len < addr || !addr ||
	    (last - first) / PAGE + 1 > MAX_CACHED_SPAN)
		return memsrc_read(c->under, addr, dst, len);
	for (uint64_t page = first; page <= last; page += PAGE) {
		const uint8_t *buf = page_of(c, page);
		uint64_t from = page > addr ? page : addr;
		uint64_t to = page + PAGE < addr + len ? page + PAGE : addr + len;

		if (!buf)
			return memsrc_read(c->under, addr, dst, len);
		memcpy(out + (from - addr), buf + (from - page), to - from);
	}
	return 0;
}

static void cache_release(struct memsrc *m)
{
	struct mem_cache *c = to_cache(m);

	drop_pages(c);
	addrmap_release(&c->pages);
	free(c);
}

static const struct memsrc_ops cache_ops = {
	.name = "cache",
	.read = cache_read,
	.release = cache_release,
};

struct memsrc *mem_cache_new(struct memsrc *under)
{
	struct mem_cache *c = xcalloc(1, sizeof(*c));

	c->base.ops = &cache_ops;
	c->base.err = under->err;
	c->under = under;
	return &c->base;
}

void mem_cache_reset(struct memsrc *m)
{
	drop_pages(to_cache(m));
}
