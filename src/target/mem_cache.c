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
/* A page's valid and used parts are kept as a mask of 64-byte lines. */
#define LINE 64u
#define ALL_LINES (~(uint64_t)0)
/* mem_cache_fetch_lines() reads this many lines beyond the used ones
 * (below, above): a stack a few frames deeper than last time is still in
 * the batch. */
#define SLACK_LINES_DOWN 2
#define SLACK_LINES_UP 8

struct mem_cache {
	struct memsrc base;       /* first: a memsrc * is a mem_cache * */
	struct memsrc *under;
	struct addrmap pages;     /* page address -> PAGE bytes */
	/* Recent hits, direct-mapped by page number: reads go back and
	 * forth between a few pages (an object, its type, its items).  With
	 * each, its valid lines and where its used lines are noted. */
	uint64_t recent_page[RECENT];
	uint8_t *recent_buf[RECENT];
	uint64_t recent_valid[RECENT];
	uint32_t recent_use[RECENT];
	/* Pages read only in part (mem_cache_fetch_lines): page -> valid
	 * lines; a page not in it was read whole. */
	struct addrmap partial;
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
	/* Pages used since the reset and the lines of each that were: a
	 * page is listed when it enters the recent table (which the reset
	 * empties), and a hit ORs its lines into the page's entry.  The
	 * extra entry takes the lines of pages beyond MAX_USED. */
	uint64_t used[MAX_USED];
	uint64_t used_lines[MAX_USED + 1];
	size_t nused;
};

/* Lines [off, off + len) of a page cover (len > 0, within the page). */
static inline uint64_t lines_of(uint64_t off, uint64_t len)
{
	unsigned lo = (unsigned)(off / LINE), hi = (unsigned)((off + len - 1) / LINE);

	return (ALL_LINES << lo) & (ALL_LINES >> (63 - hi));
}

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
	addrmap_clear(&c->partial);
	memset(c->recent_buf, 0, sizeof(c->recent_buf));
}

static inline const uint8_t *cached(struct mem_cache *c, uint64_t page,
				    uint64_t need);
static void remember(struct mem_cache *c, uint64_t page, uint8_t *buf);

/* The cached copy of page (read whole now when it is not cached at all),
 * or NULL when it cannot be read. */
static const uint8_t *page_of(struct mem_cache *c, uint64_t page,
			      uint64_t need)
{
	const uint8_t *got = cached(c, page, need);
	uint8_t *buf;

	if (got || addrmap_has(&c->pages, page))
		return got;
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
	return cached(c, page, need);
}

/* page (at buf) was used: put it in front, and note it. */
static void remember(struct mem_cache *c, uint64_t page, uint8_t *buf)
{
	unsigned slot = (unsigned)(page / PAGE) % RECENT;
	void *valid = c->partial.n ? addrmap_get(&c->partial, page) : NULL;

	c->recent_page[slot] = page;
	c->recent_buf[slot] = buf;
	c->recent_valid[slot] = valid ? (uint64_t)(uintptr_t)valid : ALL_LINES;
	c->recent_use[slot] = (uint32_t)c->nused;
	if (c->nused < MAX_USED) {
		c->used_lines[c->nused] = 0;
		c->used[c->nused++] = page;
	}
}

/* Read the rest of a page that was read in part (the page in `slot`). */
static bool complete(struct mem_cache *c, unsigned slot)
{
	uint8_t whole[PAGE];

	if (memsrc_read(c->under, c->recent_page[slot], whole, PAGE))
		return false;
	memcpy(c->recent_buf[slot], whole, PAGE);
	c->recent_valid[slot] = ALL_LINES;
	addrmap_put(&c->partial, c->recent_page[slot], (void *)(uintptr_t)ALL_LINES);
	return true;
}

/* The cached copy of page with the lines `need` in it (the rest of a page
 * read in part is read now), noted as used; NULL when the page is not
 * cached or cannot be completed.  No read otherwise. */
static inline const uint8_t *cached(struct mem_cache *c, uint64_t page,
				    uint64_t need)
{
	unsigned slot = (unsigned)(page / PAGE) % RECENT;

	if (!c->recent_buf[slot] || c->recent_page[slot] != page) {
		uint8_t *buf = addrmap_get(&c->pages, page);

		if (!buf)
			return NULL;
		remember(c, page, buf);
	}
	if ((c->recent_valid[slot] & need) != need && !complete(c, slot))
		return NULL;
	c->used_lines[c->recent_use[slot]] |= need;
	return c->recent_buf[slot];
}

/* The lines of page that [addr, addr + len) covers. */
static inline uint64_t lines_in(uint64_t page, uint64_t addr, uint64_t len)
{
	uint64_t from = page > addr ? page : addr;
	uint64_t to = page + PAGE < addr + len ? page + PAGE : addr + len;

	return lines_of(from - page, to - from);
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
		const uint8_t *buf = cached(c, first,
					    lines_of(addr - first, len));

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
		if (cached(c, page, lines_in(page, addr, len)))
			continue;
		if (addrmap_has(&c->bad, page) || addrmap_has(&c->pages, page))
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
		const uint8_t *buf = cached(c, page, lines_in(page, addr, len));
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
		if (addrmap_has(&c->pages, c->wanted[i])) {
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
		const uint8_t *buf = cached(c, first,
					    lines_of(addr - first, len));

		if (buf) {
			memcpy(dst, buf + (addr - first), len);
			return 0;
		}
	}
	if (addr + len < addr || !addr ||
	    (last - first) / PAGE + 1 > MAX_CACHED_SPAN)
		return memsrc_read(c->under, addr, dst, len);
	for (uint64_t page = first; page <= last; page += PAGE) {
		const uint8_t *buf = page_of(c, page, lines_in(page, addr, len));
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
	addrmap_release(&c->partial);
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

size_t mem_cache_used(struct memsrc *m, struct mem_page_use *used, size_t max)
{
	struct mem_cache *c = to_cache(m);
	size_t n = c->nused < max ? c->nused : max;

	for (size_t i = 0; i < n; i++) {
		used[i].page = c->used[i];
		used[i].lines = c->used_lines[i];
	}
	return n;
}

/* The lines of page i of a fetch: the used ones and some slack, and to
 * the page's edge where the neighbouring page is fetched too (so the two
 * are one range of the read). */
static void fetch_span(const struct mem_page_use *use, size_t n, size_t i,
		       unsigned *lo, unsigned *hi)
{
	unsigned a = (unsigned)__builtin_ctzll(use[i].lines);
	unsigned b = 63 - (unsigned)__builtin_clzll(use[i].lines);

	*lo = a > SLACK_LINES_DOWN ? a - SLACK_LINES_DOWN : 0;
	*hi = b + SLACK_LINES_UP < 63 ? b + SLACK_LINES_UP : 63;
	if (i > 0 && use[i - 1].page + PAGE == use[i].page)
		*lo = 0;
	if (i + 1 < n && use[i + 1].page == use[i].page + PAGE)
		*hi = 63;
}

void mem_cache_fetch_lines(struct memsrc *m, const struct mem_page_use *use,
			   size_t n)
{
	struct mem_cache *c = to_cache(m);
	struct memseg *segs;
	size_t k = 0;

	if (c->pages.n + n > MAX_PAGES)
		drop_pages(c);
	XGROW(c->segs, c->segs_cap, n ? n : 1);
	segs = c->segs;
	for (size_t i = 0; i < n; i++) {
		unsigned lo, hi;
		uint8_t *buf;

		if (!use[i].lines || addrmap_has(&c->pages, use[i].page))
			continue;
		fetch_span(use, n, i, &lo, &hi);
		buf = page_alloc(c);
		segs[k].addr = use[i].page + (uint64_t)lo * LINE;
		segs[k].dst = buf + (size_t)lo * LINE;
		segs[k++].len = (size_t)(hi - lo + 1) * LINE;
	}
	if (c->under->ops->readv) {
		c->under->ops->readv(c->under, segs, k);
	} else {
		for (size_t i = 0; i < k; i++)
			segs[i].ok = !memsrc_read(c->under, segs[i].addr,
						  segs[i].dst, segs[i].len);
	}
	for (size_t i = 0; i < k; i++) {
		uint64_t page = segs[i].addr & ~(uint64_t)(PAGE - 1);
		uint8_t *buf = (uint8_t *)segs[i].dst - (segs[i].addr - page);

		/* Unreadable now: left to an ordinary read to report. */
		if (!segs[i].ok) {
			page_free(c, buf);
			continue;
		}
		addrmap_put(&c->pages, page, buf);
		if (segs[i].len != PAGE)
			addrmap_put(&c->partial, page, (void *)(uintptr_t)
				    lines_of(segs[i].addr - page, segs[i].len));
	}
}
