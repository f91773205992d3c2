#include "out/writer.h"

#include <inttypes.h>
#include <string.h>

#include "util/strbuf.h"

static void add_str_or_null(struct strbuf *sb, const char *s)
{
	if (s)
		strbuf_add_json_str(sb, s);
	else
		strbuf_addstr(sb, "null");
}

static void add_python(struct strbuf *sb, const struct python_info *p)
{
	strbuf_addstr(sb, "\"python\": {\"version\": ");
	add_str_or_null(sb, p->version);
	strbuf_addstr(sb, ", \"executable\": ");
	add_str_or_null(sb, p->executable);
	strbuf_addstr(sb, ", \"library\": ");
	add_str_or_null(sb, p->library);
	strbuf_addf(sb, ", \"debug\": %s, \"free_threaded\": %s}",
		    p->debug ? "true" : "false",
		    p->free_threaded ? "true" : "false");
}

static void add_native_frame(struct strbuf *sb, const struct frame *f)
{
	strbuf_addstr(sb, "{\"kind\": \"native\", \"function\": ");
	add_str_or_null(sb, f->function);
	strbuf_addstr(sb, ", \"library\": ");
	add_str_or_null(sb, f->library);
	strbuf_addf(sb, ", \"address\": %" PRIu64 ", \"offset\": ",
		    f->address);
	if (f->function)
		strbuf_addf(sb, "%" PRIu64, f->offset);
	else
		strbuf_addstr(sb, "null");
	strbuf_addstr(sb, ", \"file\": ");
	add_str_or_null(sb, f->file);
	if (f->line > 0)
		strbuf_addf(sb, ", \"line\": %d}", f->line);
	else
		strbuf_addstr(sb, ", \"line\": null}");
}

static void add_frame(struct strbuf *sb, const struct frame *f)
{
	if (f->kind == FRAME_NATIVE) {
		add_native_frame(sb, f);
		return;
	}
	if (f->kind == FRAME_UNWIND_STOP) {
		strbuf_addstr(sb, "{\"kind\": \"unwind_stopped\", "
			      "\"reason\": ");
		add_str_or_null(sb, f->function);
		strbuf_addch(sb, '}');
		return;
	}
	strbuf_addstr(sb, "{\"kind\": \"python\", \"function\": ");
	add_str_or_null(sb, f->function);
	strbuf_addstr(sb, ", \"qualname\": ");
	add_str_or_null(sb, f->qualname);
	strbuf_addstr(sb, ", \"file\": ");
	add_str_or_null(sb, f->file);
	if (f->line >= 0)
		strbuf_addf(sb, ", \"line\": %d", f->line);
	else
		strbuf_addstr(sb, ", \"line\": null");
	strbuf_addstr(sb, ", \"locals\": ");
	if (f->locals_read && !f->locals_error) {
		strbuf_addch(sb, '{');
		for (size_t i = 0; i < f->nlocals; i++) {
			if (i)
				strbuf_addstr(sb, ", ");
			strbuf_add_json_str(sb, f->locals[i].name);
			strbuf_addstr(sb, ": ");
			strbuf_add_json_str(sb, f->locals[i].repr);
		}
		strbuf_addch(sb, '}');
	} else {
		strbuf_addstr(sb, "null");
	}
	if (f->locals_error) {
		strbuf_addstr(sb, ", \"locals_error\": ");
		strbuf_add_json_str(sb, f->locals_error);
	}
	strbuf_addch(sb, '}');
}

static void add_int_or_null(struct strbuf *sb, int64_t v)
{
	if (v >= 0)
		strbuf_addf(sb, "%" PRId64, v);
	else
		strbuf_addstr(sb, "null");
}

static void add_thread(struct strbuf *sb, const struct thread_stack *t)
{
	size_t k;

	strbuf_addstr(sb, "{\"tid\": ");
	add_int_or_null(sb, t->tid);
	strbuf_addf(sb, ", \"ident\": %" PRIu64 ", \"name\": ", t->ident);
	add_str_or_null(sb, t->name);
	strbuf_addstr(sb, ", \"interpreter\": ");
	add_int_or_null(sb, t->interp_id);
	strbuf_addstr(sb, ", \"holds_gil\": ");
	strbuf_addstr(sb, t->holds_gil < 0 ? "null" :
			  t->holds_gil ? "true" : "false");
	strbuf_addstr(sb, ", \"status\": ");
	strbuf_addstr(sb, t->status == THREAD_RUNNING ? "\"running\"" :
			  t->status == THREAD_IDLE ? "\"idle\"" : "null");
	strbuf_addstr(sb, ", \"frames\": [");
	for (k = 0; k < t->nframes; k++) {
		if (k)
			strbuf_addstr(sb, ", ");
		add_frame(sb, &t->frames[k]);
	}
	strbuf_addstr(sb, "], \"error\": ");
	add_str_or_null(sb, t->error);
	if (t->faulted)
		strbuf_addstr(sb, ", \"received_signal\": true");
	strbuf_addch(sb, '}');
}

/* A core's fatal signal: null when the core names none (gcore). */
static void add_signal(struct strbuf *sb, const struct dump *d)
{
	const char *abbrev = d->signal > 0 ? sigabbrev_np(d->signal) : NULL;

	strbuf_addstr(sb, ", \"signal\": ");
	if (d->signal <= 0) {
		strbuf_addstr(sb, "null");
		return;
	}
	strbuf_addf(sb, "{\"number\": %d, \"name\": \"SIG%s\", \"code\": %d, "
		    "\"address\": ", d->signal, abbrev ? abbrev : "?",
		    d->si_code);
	if (d->has_addr)
		strbuf_addf(sb, "%" PRIu64, d->fault_addr);
	else
		strbuf_addstr(sb, "null");
	strbuf_addstr(sb, ", \"tid\": ");
	add_int_or_null(sb, d->signal_tid);
	strbuf_addch(sb, '}');
}

void out_json_dump(FILE *out, const struct dump *d)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	strbuf_addf(&sb, "{\"schema\": \"snakescope.dump/1\", \"pid\": %d, "
		    "\"source\": ", d->pid);
	add_str_or_null(&sb, d->source);
	strbuf_addstr(&sb, ", ");
	add_python(&sb, &d->python);
	if (d->source && !strcmp(d->source, "core"))
		add_signal(&sb, d);
	strbuf_addstr(&sb, ", \"threads\": [");
	for (i = 0; i < d->nthreads; i++) {
		if (i)
			strbuf_addstr(&sb, ",\n  ");
		add_thread(&sb, &d->threads[i]);
	}
	strbuf_addstr(&sb, "]}\n");
	fwrite(sb.buf, 1, sb.len, out);
	strbuf_release(&sb);
}
