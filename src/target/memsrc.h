/* Where target memory comes from: a live process or (later) a core file.
 *
 * Everything above this layer reads target memory only through
 * memsrc_read(), so the Python walker does not care which one it has.
 */
#ifndef SS_TARGET_MEMSRC_H
#define SS_TARGET_MEMSRC_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

struct memsrc;

struct memsrc_ops {
	const char *name; /* "live", "core" */
	/* Copy len bytes at target address addr to dst.  Returns 0 when the
	 * whole range was read, else a negative SS_E* with the message
	 * recorded in m->err; never a partial success (dst contents are
	 * then unspecified). */
	int (*read)(struct memsrc *m, uint64_t addr, void *dst, size_t len);
	void (*release)(struct memsrc *m);
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

#endif
