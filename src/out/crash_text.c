/* The crash report of `snakescope run` as text: what happened, where,
 * the crashing thread's native and Python stacks, the other threads. */
#include "out/crash_out.h"

#include <inttypes.h>
#include <string.h>

#include "out/writer.h"
#include "target/signames.h"

static const struct thread_stack *crashing_thread(const struct crash_report *c)
{
	for (size_t i = 0; i < c->dump.nthreads; i++)
		if (c->dump.threads[i].tid == c->tid)
			return &c->dump.threads[i];
	return NULL;
}

static void headline(FILE *out, const struct crash_report *c,
		     const struct thread_stack *t)
{
	const char *code, *what;
	char sig[32];

	si_code_name(c->signo, c->si_code, &code, &what);
	fprintf(out, "snakescope: process %d (%s) crashed: %s (%s: %s", c->pid,
		c->comm, signal_name(c->signo, sig, sizeof(sig)), code, what);
	if (c->si_code <= 0 && c->sender > 0)
		fprintf(out, ", from process %d", c->sender);
	fprintf(out, ") in thread %d \"%s\"\n", c->tid,
		t && t->name ? t->name : c->thread_comm);
}

static void where_lines(FILE *out, const struct crash_report *c)
{
	if (c->has_addr)
		fprintf(out, "  address 0x%" PRIx64 " %s\n", c->addr,
			c->addr_where);
	fprintf(out, "  the instruction at 0x%" PRIx64 " is %s\n", c->pc,
		c->pc_where);
	if (c->core_path[0])
		fprintf(out, "  core written to %s\n", c->core_path);
	else if (c->core_note[0])
		fprintf(out, "  no core written: %s\n", c->core_note);
}

/* Only when the unwinder gave nothing. */
static void native_fallback(FILE *out, const struct crash_report *c)
{
	if (!c->nnative)
		return;
	fputs("Native stack (most recent call first):\n", out);
	for (size_t i = 0; i < c->nnative; i++)
		fprintf(out, "  #%-2zu 0x%016" PRIx64 " %s\n", i,
			c->native[i].pc, c->native[i].where[0] ?
			c->native[i].where : "??");
	if (c->native_note[0])
		fprintf(out, "  [%s]\n", c->native_note);
}

static void other_threads(FILE *out, const struct crash_report *c,
			  const struct thread_stack *crashed,
			  struct source_cache *src)
{
	if (c->dump.nthreads < 2)
		return;
	fputs("\nOther threads:\n", out);
	for (size_t i = 0; i < c->dump.nthreads; i++) {
		const struct thread_stack *t = &c->dump.threads[i];

		if (t == crashed)
			continue;
		fputc('\n', out);
		out_text_thread(out, t, src);
	}
}

void out_crash_report(FILE *out, const struct crash_report *c,
		      struct source_cache *src)
{
	const struct thread_stack *t = crashing_thread(c);

	headline(out, c, t);
	where_lines(out, c);
	if (c->python_ok)
		fprintf(out, "  Python %s (%s)\n", c->dump.python.version ?
			c->dump.python.version : "?",
			c->dump.python.executable ? c->dump.python.executable :
			"?");
	else
		fprintf(out, "  no Python stacks: %s\n", c->python_note);
	fprintf(out, "\nCrashing thread %d \"%s\":\n", c->tid,
		t && t->name ? t->name : c->thread_comm);
	native_fallback(out, c);
	if (t)
		out_text_frames(out, t, src);
	if (c->python_ok)
		other_threads(out, c, t, src);
	fflush(out);
}
