#include "py/reader.h"

#include <stdlib.h>
#include <string.h>

void py_reader_init(struct py_reader *r, const struct py_proc *p)
{
	memset(r, 0, sizeof(*r));
	r->p = p;
}

static void free_values(struct addrmap *m)
{
	for (size_t i = 0; i < m->cap; i++)
		if (m->keys[i])
			free(m->vals[i]);
}

void py_reader_release(struct py_reader *r)
{
	for (size_t i = 0; i < r->codes.cap; i++) {
		struct code_info *ci = r->codes.vals[i];

		if (r->codes.keys[i]) {
			free(ci->linetable);
			free(ci->line_memo);
		}
	}
	free_values(&r->codes);
	free_values(&r->strings);
	for (size_t i = 0; i < r->nretired; i++)
		free(r->retired[i]);
	free(r->retired);
	addrmap_release(&r->codes);
	addrmap_release(&r->strings);
	addrmap_release(&r->types);
	addrmap_release(&r->seen_frames);
	addrmap_release(&r->seen_tstates);
}
