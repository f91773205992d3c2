/* speedscope's JSON file format: shared frames (name, file, line) and one
 * "sampled" profile whose samples are the trie's distinct stacks weighted
 * by their counts. */
#include "out/profile_out.h"

#include <stdbool.h>
#include <stdlib.h>

#include "util/strbuf.h"
#include "util/xalloc.h"

#define MAX_DEPTH 100000

static void put_json_str(FILE *f, struct strbuf *sb, const char *s)
{
	strbuf_reset(sb);
	strbuf_add_json_str(sb, s);
	fputs(sb->buf, f);
}

int out_speedscope(FILE *f, const struct profile *p,
		   const struct profile_meta *m, struct err *e)
{
	struct strbuf sb = STRBUF_INIT;
	uint32_t *path = xmalloc(MAX_DEPTH * sizeof(*path));
	bool first = true;
	size_t i;

	fputs("{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\","
	      "\"exporter\":\"snakescope " SS_VERSION "\",\"name\":", f);
	put_json_str(f, &sb, m->title);
	fputs(",\"activeProfileIndex\":0,\"shared\":{\"frames\":[", f);
	for (i = 0; i < p->nframes; i++) {
		const struct pframe *fr = &p->frames[i];

		fputs(i ? ",\n{\"name\":" : "\n{\"name\":", f);
		put_json_str(f, &sb, fr->function);
		if (fr->file) {
			fputs(",\"file\":", f);
			put_json_str(f, &sb, fr->file);
		}
		if (fr->line > 0)
			fprintf(f, ",\"line\":%d", fr->line);
		fputc('}', f);
	}
	fputs("]},\"profiles\":[{\"type\":\"sampled\",\"name\":", f);
	put_json_str(f, &sb, m->title);
	fprintf(f, ",\"unit\":\"none\",\"startValue\":0,\"endValue\":%llu,"
		"\"samples\":[", (unsigned long long)p->samples);
	for (size_t n = 1; n < p->nnodes; n++) {
		size_t depth;

		if (!p->nodes[n].self)
			continue;
		depth = profile_path(p, (uint32_t)n, path, MAX_DEPTH);
		fputs(first ? "\n[" : ",\n[", f);
		first = false;
		for (i = 0; i < depth; i++)
			fprintf(f, i ? ",%u" : "%u", path[i]);
		fputc(']', f);
	}
	fputs("],\"weights\":[", f);
	first = true;
	for (size_t n = 1; n < p->nnodes; n++) {
		if (!p->nodes[n].self)
			continue;
		fprintf(f, first ? "%llu" : ",%llu",
			(unsigned long long)p->nodes[n].self);
		first = false;
	}
	fputs("]}]}\n", f);
	strbuf_release(&sb);
	free(path);
	return out_check(f, e);
}
