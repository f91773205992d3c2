#include "stack/sample.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

struct thread_stack *dump_add_thread(struct dump *d)
{
	struct thread_stack *t;
	struct frame *frames = NULL;
	size_t cap = 0;

	XGROW(d->threads, d->cap, d->nthreads + 1);
	t = &d->threads[d->nthreads++];
	if (d->nthreads <= d->kept) {
		frames = t->frames;
		cap = t->cap;
	} else {
		d->kept = d->nthreads;
	}
	memset(t, 0, sizeof(*t));
	t->frames = frames;
	t->cap = cap;
	t->tid = t->ns_tid = t->interp_id = -1;
	t->holds_gil = -1;
	return t;
}

struct frame *thread_add_frame(struct thread_stack *t)
{
	struct frame *f;

	if (t->nframes == t->cap)
		XGROW(t->frames, t->cap, t->nframes + 1);
	f = &t->frames[t->nframes++];
	memset(f, 0, sizeof(*f));
	f->line = -1;
	return f;
}

void thread_set_error(struct thread_stack *t, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	if (t->error)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	t->error = xstrdup(buf);
}

void frame_release_native(struct frame *f)
{
	if (f->kind == FRAME_PYTHON)
		return;
	free((char *)f->function);
	free((char *)f->library);
	free((char *)f->file);
	f->function = f->library = f->file = NULL;
}

void thread_clear(struct thread_stack *t)
{
	for (size_t k = 0; k < t->nframes; k++) {
		/* A sampler's frames own nothing: no call for them. */
		if (t->frames[k].kind == FRAME_PYTHON && !t->frames[k].locals &&
		    !t->frames[k].locals_error)
			continue;
		for (size_t j = 0; j < t->frames[k].nlocals; j++)
			free(t->frames[k].locals[j].repr);
		free(t->frames[k].locals);
		free(t->frames[k].locals_error);
		frame_release_native(&t->frames[k]);
	}
	t->nframes = 0;
	free(t->error);
	t->error = NULL;
}

void dump_reset(struct dump *d)
{
	for (size_t i = 0; i < d->nthreads; i++)
		thread_clear(&d->threads[i]);
	d->nthreads = 0;
}

void dump_release(struct dump *d)
{
	size_t i, n = d->kept > d->nthreads ? d->kept : d->nthreads;

	for (i = 0; i < n; i++) {
		if (i < d->nthreads)
			thread_clear(&d->threads[i]);
		free(d->threads[i].frames);
	}
	free(d->threads);
	d->threads = NULL;
	d->nthreads = d->cap = d->kept = 0;
}
