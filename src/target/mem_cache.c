#include "target/mem_cache.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "util/addrmap.h"
#include "util/xalloc.h"

#define PAGE 4096u
/* Reads spanning more pages than this go straight to the source. */
#define MAX_CACHED_SPAN 2
/* Pages remembered in front of the hash map. */
#define RECENT 64
/* Bound on memory: beyond this many pages the cache starts over. */
#define MAX_PAGES 4096
/* Pages mem_cache_used() can tell. */
#define MAX_USED 1024

struct mem_cache {
	struct memsrc base;       /* first: a memsrc * is a mem_cache * */
	struct memsrc *under;
	struct addrmap pages;     /* page address -> PAGE bytes */
	/* Recent hits, direct-mapped by page number: reads go back and
	 * forth between a few pages (an object, its type, its items). */
	uint64_t recent_page[RECENT];
	const uint8_t *recent_buf[RECENT];
	/* peek(): pages wanted for the next fetch_wanted(), and pages that
	 * a fetch found unreadable. */
	uint64_t *wanted;
	size_t nwanted, wanted_cap;
	struct addrmap wanted_set;
	struct addrmap bad;
	/* mem_cache_reserve(): one mapping of touched pages, and the free
	 * ones among them. */
	uint8_t *reserve;
	size_t reserve_pages;
	uint8_t **spare;
	size_t nspare;
	/* fetch_wanted()'s batch, kept between calls. */
	struct memseg *segs;
	size_t segs_cap;
	/* Pages used since the reset: noted when a page enters the recent
	 * table, which the reset empties, so a hit costs nothing more. */
	uint64_t used[MAX_USED];
	size_t nused;
};

static struct mem_cache *to_cache(struct memsrc *m)
{
	return (struct mem_cache *)m;
}

static uint8_t *page_alloc(struct mem_cache *c)
{
	if (c->nspare)
		return c->spare[--c->nspare];
	return xmalloc(PAGE);
}

static void page_free(struct mem_cache *c, uint8_t *buf)
{
	if (c->reserve && (uintptr_t)buf - (uintptr_t)c->reserve <
			  (uintptr_t)PAGE * c->reserve_pages)
		c->spare[c->nspare++] = buf;
	else
		free(buf);
}

static void drop_pages(struct mem_cache *c)
{
	for (size_t i = 0; i < c->pages.cap; i++)
		if (c->pages.keys[i])
			page_free(c, c->pages.vals[i]);
	addrmap_clear(&c->pages);
	memset(c->recent_buf, 0, sizeof(c->recent_buf));
}

static inline const uint8_t *cached(struct mem_cache *c, uint64_t page);
static void remember(struct mem_cache *c, uint64_t page, const uint8_t *buf);

static const uint8_t *page_of(struct mem_cache *c, uint64_t page)
{
	uint8_t *buf = (uint8_t *)cached(c, page);

	if (buf)
		return buf;
	if (c->pages.n >= MAX_PAGES)
		drop_pages(c);
	buf = page_alloc(c);
	/* A page is mapped whole or not at all, so a failure here means the
	 * range is (partly) unmapped; the caller then asks the source for
	 * the exact range and gets its precise error. */
	if (memsrc_read(c->under, page, buf, PAGE)) {
		page_free(c, buf);
		return NULL;
	}
	addrmap_put(&c->pages, page, buf);
	remember(c, page, buf);
	return buf;
}

/* page (at buf) was used: put it in front, and note it. */
static void remember(struct mem_cache *c, uint64_t page, const uint8_t *buf)
{
	unsigned slot = (unsigned)(page / PAGE) % RECENT;

	c->recent_page[slot] = page;
	c->recent_buf[slot] = buf;
	if (c->nused < MAX_USED)
		c->used[c->nused++] = page;
}

/* The cached copy of page, or NULL; no read. */
static inline const uint8_t *cached(struct mem_cache *c, uint64_t page)
{
	unsigned slot = (unsigned)(page / PAGE) % RECENT;
	uint8_t *buf;

	if (c->recent_buf[slot] && c->recent_page[slot] == page)
		return c->recent_buf[slot];
	buf = addrmap_get(&c->pages, page);
	if (buf)
		remember(c, page, buf);
	return buf;
}

static int cache_peek(struct memsrc *m, uint64_t addr, void *dst, size_t len)
{
	struct mem_cache *c = to_cache(m);
	uint64_t first = addr & ~(uint64_t)(PAGE - 1);
	uint64_t last = (addr + len - 1) & ~(uint64_t)(PAGE - 1);
	uint8_t *out = dst;
	bool missing = false;

	if (!len)
		return 1;
	if (first == last && addr) {
		const uint8_t *buf = cached(c, first);

		if (buf) {
			memcpy(dst, buf + (addr - first), len);
			return 1;
		}
	}
	if (addr + len < addr || !addr ||
	    (last - first) / PAGE + 1 > MAX_CACHED_SPAN) {
		int rc = memsrc_read(c->under, addr, dst, len);

		return rc ? rc : 1;
	}
	for (uint64_t page = first; page <= last; page += PAGE) {
		if (cached(c, page))
			continue;
		if (addrmap_has(&c->bad, page))
			return SS_EFAULT;
		missing = true;
		/* Beyond a cacheful, the rest waits for the next batch. */
		if (c->nwanted < MAX_PAGES &&
		    !addrmap_has(&c->wanted_set, page)) {
			addrmap_put(&c->wanted_set, page, (void *)1);
			XGROW(c->wanted, c->wanted_cap, c->nwanted + 1);
			c->wanted[c->nwanted++] = page;
		}
	}
	if (missing)
		return 0;
	for (uint64_t page = first; page <= last; page += PAGE) {
		const uint8_t *buf = cached(c, page);
		uint64_t from = page > addr ? page : addr;
		uint64_t to = page + PAGE < addr + len ? page + PAGE : addr + len;

		memcpy(out + (from - addr), buf + (from - page), to - from);
	}
	return 1;
}

/* One batch read of every wanted page (readv where the source has it). */
static void cache_fetch_wanted(struct memsrc *m)
{
	struct mem_cache *c = to_cache(m);
	struct memseg *segs;
	size_t n = c->nwanted;

	if (!n)
		return;
	if (c->pages.n + n > MAX_PAGES)
		drop_pages(c);
	XGROW(c->segs, c->segs_cap, n);
	segs = c->segs;
	/* Pages read in the meantime (by an ordinary read) are not asked
	 * for again. */
	for (size_t i = 0, k = 0; i < c->nwanted; i++) {
		if (cached(c, c->wanted[i])) {
			n--;
			continue;
		}
		segs[k].addr = c->wanted[i];
		segs[k].dst = page_alloc(c);
		segs[k++].len = PAGE;
	}
	if (c->under->ops->readv) {
		c->under->ops->readv(c->under, segs, n);
	} else {
		for (size_t i = 0; i < n; i++)
			segs[i].ok = !memsrc_read(c->under, segs[i].addr,
						  segs[i].dst, PAGE);
	}
	for (size_t i = 0; i < n; i++) {
		if (segs[i].ok) {
			addrmap_put(&c->pages, segs[i].addr, segs[i].dst);
		} else {
			page_free(c, segs[i].dst);
			addrmap_put(&c->bad, segs[i].addr, (void *)1);
		}
	}
	c->nwanted = 0;
	addrmap_clear(&c->wanted_set);
}

static int cache_read(struct memsrc *m, uint64_t addr, void *dst, size_t len)
{
	struct mem_cache *c = to_cache(m);
	uint64_t first = addr & ~(uint64_t)(PAGE - 1);
	uint64_t last = (addr + len - 1) & ~(uint64_t)(PAGE - 1);
	uint8_t *out = dst;

	if (!len)
		return 0;
	if (first == last && addr) {
		/* The common case: within one page already here. */
		const uint8_t *buf = cached(c, first);

		if (buf) {
			memcpy(dst, buf + (addr - first), len);
			return 0;
		}
	}
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
	addrmap_release(&c->wanted_set);
	addrmap_release(&c->bad);
	free(c->wanted);
	if (c->reserve)
		munmap(c->reserve, PAGE * c->reserve_pages);
	free(c->spare);
	free(c->segs);
	free(c);
}

static const struct memsrc_ops cache_ops = {
	.name = "cache",
	.read = cache_read,
	.release = cache_release,
	.peek = cache_peek,
	.fetch_wanted = cache_fetch_wanted,
};

struct memsrc *mem_cache_new(struct memsrc *under)
{
	struct mem_cache *c = xcalloc(1, sizeof(*c));

	c->base.ops = &cache_ops;
	c->base.err = under->err;
	c->under = under;
	return &c->base;
}

void mem_cache_reserve(struct memsrc *m, size_t pages)
{
	struct mem_cache *c = to_cache(m);
	void *p;

	if (c->reserve || !pages || pages > MAX_PAGES)
		return;
	p = mmap(NULL, PAGE * pages, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (p == MAP_FAILED)
		return;
	c->reserve = p;
	c->reserve_pages = pages;
	c->spare = xcalloc(pages, sizeof(*c->spare));
	for (size_t i = pages; i-- > 0;)
		c->spare[c->nspare++] = c->reserve + PAGE * i;
}

void mem_cache_reset(struct memsrc *m)
{
	struct mem_cache *c = to_cache(m);

	drop_pages(c);
	c->nwanted = 0;
	c->nused = 0;
	addrmap_clear(&c->wanted_set);
	addrmap_clear(&c->bad);
}

size_t mem_cache_used(struct memsrc *m, uint64_t *pages, size_t max)
{
	struct mem_cache *c = to_cache(m);
	size_t n = c->nused < max ? c->nused : max;

	memcpy(pages, c->used, n * sizeof(*pages));
	return n;
}
