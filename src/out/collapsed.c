/* Collapsed stacks: one "outer;...;inner COUNT" line per distinct stack. */
#include "out/profile_out.h"

#include <stdlib.h>

#include "util/xalloc.h"

#define MAX_DEPTH 100000

static void put_label(FILE *f, const struct pframe *fr)
{
	char buf[8192];

	profile_frame_label(fr, buf, sizeof(buf));
	/* ';' separates frames and the line ends the stack. */
	for (char *c = buf; *c; c++)
		if (*c == ';' || *c == '\n' || *c == '\r')
			*c = '_';
	fputs(buf, f);
}

int out_collapsed(FILE *f, const struct profile *p,
		  const struct profile_meta *m, struct err *e)
{
	uint32_t *path = xmalloc(MAX_DEPTH * sizeof(*path));

	(void)m;
	for (size_t n = 1; n < p->nnodes; n++) {
		size_t depth;

		if (!p->nodes[n].self)
			continue;
		depth = profile_path(p, (uint32_t)n, path, MAX_DEPTH);
		for (size_t i = 0; i < depth; i++) {
			if (i)
				fputc(';', f);
			put_label(f, &p->frames[path[i]]);
		}
		fprintf(f, " %llu\n", (unsigned long long)p->nodes[n].self);
	}
	free(path);
	return out_check(f, e);
}
