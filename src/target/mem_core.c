/* Core memory: one memcpy from the mapped core per segment a read
 * touches; the pages of a file mapping the core did not dump are read
 * with pread from the file itself. */
#include "target/mem_core.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/xalloc.h"

struct mem_core {
	struct memsrc base; /* first: a struct memsrc * is a struct mem_core * */
	const struct core *core;
	struct core_files *files;
};

static int unmapped(struct mem_core *mc, uint64_t addr, size_t len,
		    uint64_t at)
{
	return err_set(mc->base.err, SS_EFAULT,
		       "cannot read %zu bytes at 0x%" PRIx64 " in the core: "
		       "0x%" PRIx64 " is not in it%s", len, addr, at,
		       mc->core->truncated ? " (the core is truncated)" : "");
}

/* [at, at + n) lies in no dumped bytes: read it from the mapped file. */
static int read_file(struct mem_core *mc, uint64_t at, void *dst, size_t n,
		     const struct mapping *m, uint64_t addr, size_t len)
{
	uint64_t off = m->offset + (at - m->start);
	size_t done = 0;
	int fd;

	if (off < m->offset || off > (uint64_t)INT64_MAX - n)
		return unmapped(mc, addr, len, at);
	fd = core_files_fd(mc->files, m->path, NULL, mc->base.err);
	if (fd < 0)
		return err_prefix(mc->base.err, "cannot read 0x%" PRIx64, at);
	while (done < n) {
		ssize_t r = pread(fd, (char *)dst + done, n - done,
				  (off_t)(off + done));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return err_set(mc->base.err, SS_EFAULT,
				       "cannot read 0x%" PRIx64 " from '%s': "
				       "the file is shorter than the core "
				       "says", at, m->path);
		done += (size_t)r;
	}
	return 0;
}

static uint64_t next_load(const struct core *c, uint64_t at, uint64_t limit)
{
	size_t lo = 0, hi = c->nloads;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->loads[mid].vaddr <= at)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < c->nloads && c->loads[lo].vaddr - at < limit)
		return c->loads[lo].vaddr - at;
	return limit;
}

static int core_read(struct memsrc *m, uint64_t addr, void *dst, size_t len)
{
	struct mem_core *mc = (struct mem_core *)m;
	const struct core *c = mc->core;
	size_t done = 0;

	if ((uint64_t)len > UINT64_MAX - addr)
		return unmapped(mc, addr, len, addr);
	/* Each pass consumes at least one byte, and one segment or file
	 * mapping's worth at most, so this ends. */
	while (done < len) {
		uint64_t at = addr + done;
		const struct core_load *l = core_load_at(c, at);
		const struct mapping *f;
		size_t n = len - done;
		uint64_t rel, limit;
		int rc;

		if (l && (rel = at - l->vaddr) < l->filesz) {
			if (n > l->filesz - rel)
				n = (size_t)(l->filesz - rel);
			memcpy((char *)dst + done, c->map + l->offset + rel, n);
			done += n;
			continue;
		}
		f = core_file_at(c, at);
		if (!f)
			return unmapped(mc, addr, len, at);
		limit = f->end - at;
		/* Stop where the next segment begins: it may be dumped. */
		if (l && l->vaddr + l->memsz - at < limit)
			limit = l->vaddr + l->memsz - at;
		else if (!l)
			limit = next_load(c, at, limit);
		if (n > limit)
			n = (size_t)limit;
		rc = read_file(mc, at, (char *)dst + done, n, f, addr, len);
		if (rc)
			return rc;
		done += n;
	}
	return 0;
}

static int core_readv(struct memsrc *m, struct memseg *segs, size_t n)
{
	struct err saved = *m->err;

	for (size_t i = 0; i < n; i++)
		segs[i].ok = core_read(m, segs[i].addr, segs[i].dst,
				       segs[i].len) == 0;
	/* An unreadable segment is only !ok: keep the recorded message. */
	*m->err = saved;
	return 0;
}

static void core_release(struct memsrc *m)
{
	free(m);
}

static const struct memsrc_ops core_ops = {
	.name = "core",
	.read = core_read,
	.readv = core_readv,
	.release = core_release,
};

void mem_core_open(struct memsrc **out, const struct core *core,
		   struct core_files *files, struct err *e)
{
	struct mem_core *mc = xcalloc(1, sizeof(*mc));

	mc->base.ops = &core_ops;
	mc->base.err = e;
	mc->core = core;
	mc->files = files;
	*out = &mc->base;
}
