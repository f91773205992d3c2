#include "out/writer.h"

#include <inttypes.h>

static const char *status_name(enum thread_status s)
{
	return s == THREAD_RUNNING ? "running" :
	       s == THREAD_IDLE ? "idle" : "status unknown";
}

static void thread_header(FILE *out, const struct thread_stack *t)
{
	if (t->tid >= 0)
		fprintf(out, "Thread %" PRId64, t->tid);
	else
		fputs("Thread ?", out);
	if (t->name)
		fprintf(out, " \"%s\"", t->name);
	fprintf(out, " (ident 0x%" PRIx64 ", %s", t->ident,
		status_name(t->status));
	if (t->holds_gil == 1)
		fputs(", holds the GIL", out);
	if (t->interp_id > 0)
		fprintf(out, ", interpreter %" PRId64, t->interp_id);
	fputs(")\n", out);
}

static void frame_lines(FILE *out, const struct frame *f,
			struct source_cache *src)
{
	const char *code;
	size_t len;

	fprintf(out, "  File \"%s\", line %d, in %s\n",
		f->file ? f->file : "???", f->line,
		f->qualname ? f->qualname : f->function ? f->function : "???");
	code = src ? source_line(src, f->file, f->line, &len) : NULL;
	if (code)
		fprintf(out, "    %.*s\n", (int)len, code);
}

void out_text_dump(FILE *out, const struct dump *d, struct source_cache *src)
{
	size_t i, k;

	fprintf(out, "Process %d: Python %s (%s)\n", d->pid,
		d->python.version ? d->python.version : "?",
		d->python.executable ? d->python.executable : "?");
	for (i = 0; i < d->nthreads; i++) {
		const struct thread_stack *t = &d->threads[i];

		fputc('\n', out);
		thread_header(out, t);
		if (!t->nframes) {
			fputs("  (no Python frames)\n", out);
		} else {
			fputs("Traceback (most recent call last):\n", out);
			for (k = t->nframes; k-- > 0;)
				frame_lines(out, &t->frames[k], src);
		}
		if (t->error)
			fprintf(out, "  [partial stack: %s]\n", t->error);
	}
}
