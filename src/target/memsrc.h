/* Where target memory comes from: a live process or (later) a core file.
 *
 * Everything above this layer reads target memory only through
 * memsrc_read(), so the Python walker does not care which one it has.
 */
#ifndef SS_TARGET_MEMSRC_H
#define SS_TARGET_MEMSRC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

struct memsrc;

/* One range of a batch read. */
struct memseg {
	uint64_t addr;
	void *dst;
	size_t len;
	bool ok;          /* set by readv: the whole range was read */
};

struct memsrc_ops {
	const char *name; /* "live", "core" */
	/* Copy len bytes at target address addr to dst.  Returns 0 when the
	 * whole range was read, else a negative SS_E* with the message
	 * recorded in m->err; never a partial success (dst contents are
	 * then unspecified). */
	int (*read)(struct memsrc *m, uint64_t addr, void *dst, size_t len);
	void (*release)(struct memsrc *m);
	/* Optional (NULL: not offered).  Read every segment that can be
	 * read, in as few system calls as the source manages, setting ok;
	 * an unmapped segment is only !ok.  Returns 0, or a negative SS_E*
	 * when the source itself failed (the process is gone). */
	int (*readv)(struct memsrc *m, struct memseg *segs, size_t n);
	/* Optional, for a source that keeps copies (mem_cache): 1 when
	 * [addr, addr + len) was copied to dst without reading the target;
	 * 0 when it was not, the range then being noted as wanted; a
	 * negative SS_E* when it is known to be unreadable. */
	int (*peek)(struct memsrc *m, uint64_t addr, void *dst, size_t len);
	/* Optional: read everything peek() noted as wanted, in one batch. */
	void (*fetch_wanted)(struct memsrc *m);
};

struct memsrc {
	const struct memsrc_ops *ops;
	struct err *err; /* where read failures are recorded */
};

static inline int memsrc_read(struct memsrc *m, uint64_t addr, void *dst,
			      size_t len)
{
	return m->ops->read(m, addr, dst, len);
}

/* peek() where offered, else an ordinary read (so 1 or an error). */
static inline int memsrc_peek(struct memsrc *m, uint64_t addr, void *dst,
			      size_t len)
{
	int rc;

	if (m->ops->peek)
		return m->ops->peek(m, addr, dst, len);
	rc = m->ops->read(m, addr, dst, len);
	return rc ? rc : 1;
}

static inline void memsrc_fetch_wanted(struct memsrc *m)
{
	if (m->ops->fetch_wanted)
		m->ops->fetch_wanted(m);
}

#endif
