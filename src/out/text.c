#include "out/writer.h"

#include <inttypes.h>
#include <string.h>

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
	if (t->faulted)
		fputs(", received the fatal signal", out);
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
	for (size_t i = 0; i < f->nlocals; i++)
		fprintf(out, "        %s = %s\n", f->locals[i].name,
			f->locals[i].repr);
	if (f->locals_error)
		fprintf(out, "        [locals unreadable: %s]\n",
			f->locals_error);
}

/* "library!symbol+0xoff (file:line)", as much of it as is known. */
static void native_line(FILE *out, const struct frame *f)
{
	fprintf(out, "  %s!", f->library ? f->library : "??");
	if (f->function)
		fprintf(out, "%s+0x%" PRIx64, f->function, f->offset);
	else
		fprintf(out, "0x%" PRIx64, f->address);
	if (f->file && f->line > 0)
		fprintf(out, " (%s:%d)", f->file, f->line);
	else if (f->file)
		fprintf(out, " (%s)", f->file);
	fputc('\n', out);
}

static void any_frame(FILE *out, const struct frame *f,
		      struct source_cache *src)
{
	if (f->kind == FRAME_NATIVE)
		native_line(out, f);
	else if (f->kind == FRAME_UNWIND_STOP)
		fprintf(out, "  [%s]\n", f->function ? f->function : "");
	else
		frame_lines(out, f, src);
}

/* A core's first line: what killed the process, when the core says. */
static void signal_line(FILE *out, const struct dump *d)
{
	const char *abbrev = sigabbrev_np(d->signal);

	fprintf(out, "Killed by SIG%s (signal %d, %s, si_code %d", abbrev ?
		abbrev : "?", d->signal, strsignal(d->signal), d->si_code);
	if (d->has_addr)
		fprintf(out, ", address 0x%" PRIx64, d->fault_addr);
	if (d->signal_tid >= 0)
		fprintf(out, ") in thread %" PRId64 "\n", d->signal_tid);
	else
		fputs(")\n", out);
}

void out_text_dump(FILE *out, const struct dump *d, struct source_cache *src)
{
	size_t i;

	if (d->signal > 0)
		signal_line(out, d);
	fprintf(out, "Process %d: Python %s (%s)\n", d->pid,
		d->python.version ? d->python.version : "?",
		d->python.executable ? d->python.executable : "?");
	for (i = 0; i < d->nthreads; i++) {
		const struct thread_stack *t = &d->threads[i];

		fputc('\n', out);
		out_text_thread(out, t, src);
	}
}

void out_text_thread(FILE *out, const struct thread_stack *t,
		     struct source_cache *src)
{
	thread_header(out, t);
	out_text_frames(out, t, src);
}

void out_text_frames(FILE *out, const struct thread_stack *t,
		     struct source_cache *src)
{
	if (!t->nframes) {
		fputs("  (no Python frames)\n", out);
	} else {
		fputs("Traceback (most recent call last):\n", out);
		for (size_t k = t->nframes; k-- > 0;)
			any_frame(out, &t->frames[k], src);
	}
	if (t->error)
		fprintf(out, "  [partial stack: %s]\n", t->error);
}
