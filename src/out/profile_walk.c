/* Helpers shared by the profile writers. */
#include "out/profile_out.h"

#include <errno.h>
#include <string.h>

size_t profile_path(const struct profile *p, uint32_t n, uint32_t *path,
		    size_t max)
{
	size_t depth = 0, i;

	for (uint32_t k = n; k != 0; k = p->nodes[k].parent)
		depth++;
	if (depth > max)
		depth = max;
	i = depth;
	for (uint32_t k = n; k != 0 && i > 0; k = p->nodes[k].parent)
		path[--i] = p->nodes[k].frame;
	return depth;
}

int out_check(FILE *f, struct err *e)
{
	if (fflush(f) == 0 && !ferror(f))
		return 0;
	return err_set(e, SS_EIO, "cannot write the profile: %s",
		       strerror(errno ? errno : EIO));
}
