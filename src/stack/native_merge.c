#include "stack/native_merge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

struct merged {
	struct frame *v;
	size_t n, cap;
};

static void push(struct merged *m, const struct frame *f)
{
	XGROW(m->v, m->cap, m->n + 1);
	m->v[m->n++] = *f;
}

static void push_stop(struct merged *m, const char *why)
{
	struct frame f = { .kind = FRAME_UNWIND_STOP, .line = -1 };

	f.function = xstrdup(why);
	push(m, &f);
}

/* A tail-calling interpreter's opcode handler is called by
 * _PyEval_EvalFrameDefault: the two are one eval-loop call. */
static bool is_tail_handler(const struct frame *f)
{
	return f->eval_loop && f->function &&
	       !strncmp(f->function, "_TAIL_CALL_", 11);
}

/* Where symbols do not name the eval loop (a stripped interpreter, a
 * split-off .cold part only its debug file names): from 3.12, the C frame
 * whose stack holds the entry frame of the next Python frames' call.  A C
 * frame spans [its sp, its caller's sp). */
static bool holds_entry(const struct native_stack *ns, size_t i,
			const struct thread_stack *t, size_t py)
{
	uint64_t entry = py < t->nframes ? t->frames[py].eval_entry : 0;

	return entry && i + 1 < ns->n && ns->frames[i].sp &&
	       ns->frames[i].sp <= entry && entry < ns->frames[i + 1].sp;
}

static void place_python(struct merged *m, struct thread_stack *t,
			 size_t *py, unsigned seq)
{
	while (*py < t->nframes && t->frames[*py].eval_seq <= seq)
		push(m, &t->frames[(*py)++]);
}

void native_merge(struct thread_stack *t, struct native_stack *ns, bool all)
{
	struct merged m = { 0 };
	size_t py = 0, evals = 0;
	unsigned seq = 0;
	bool in_tail = false;
	char why[600];

	for (size_t i = 0; i < ns->n; i++) {
		struct frame *f = &ns->frames[i];

		if (f->eval_loop) {
			bool same_call = in_tail && !is_tail_handler(f);

			in_tail = is_tail_handler(f);
			if (!same_call) {
				place_python(&m, t, &py, seq);
				seq++;
				evals++;
			}
		} else if (holds_entry(ns, i, t, py)) {
			/* Unnamed, but it is the eval loop: that call and
			 * any before it that ran no visible frame. */
			seq = t->frames[py].eval_seq;
			place_python(&m, t, &py, seq);
			seq++;
			evals++;
			f->eval_loop = f->interp = true;
			in_tail = false;
		} else {
			in_tail = false;
		}
		if (all || !f->interp)
			push(&m, f);
		else
			frame_release_native(f);
	}
	if (py < t->nframes) {
		snprintf(why, sizeof(why), "native unwinding stopped: %s",
			 ns->stop ? ns->stop : "");
		if (!ns->stop)
			snprintf(why, sizeof(why), "native and Python stacks do "
				 "not pair up: %zu eval-loop C frames for %u "
				 "eval-loop calls (is the interpreter "
				 "stripped of symbols?)", evals,
				 t->frames[t->nframes - 1].eval_seq + 1);
		push_stop(&m, why);
		while (py < t->nframes)
			push(&m, &t->frames[py++]);
	} else if (ns->stop) {
		snprintf(why, sizeof(why), "native unwinding stopped: %s",
			 ns->stop);
		push_stop(&m, why);
	}
	free(t->frames);
	t->frames = m.v;
	t->nframes = m.n;
	t->cap = m.cap;
	free(ns->frames);
	free(ns->stop);
	memset(ns, 0, sizeof(*ns));
}
