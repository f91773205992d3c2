/* top's rows and their text.  Rows are rebuilt from the counters at each
 * refresh (once a second): a pass over the entries, a map from (thing,
 * thread) to row, then a sort. */
#include "out/top_table.h"

#include <stdlib.h>
#include <string.h>

#include "util/addrmap.h"
#include "util/utf8.h"
#include "util/xalloc.h"

#define NUM_WIDTH 28              /* "%5.1f %5.1f %7.2f %7.2f " */
#define TID_WIDTH 8
#define TEXT_WIDTH 100            /* --batch lines */

void top_table_release(struct top_table *t)
{
	free(t->rows);
	memset(t, 0, sizeof(*t));
}

static bool thread_shown(const struct top_view *v, uint32_t thread)
{
	return v->thread < 0 || (uint32_t)v->thread == thread;
}

/* The row for (id, thread) in map, added when new. */
static struct top_row *row_for(struct top_table *t, struct addrmap *map,
			       uint32_t id, uint32_t thread, bool merged)
{
	uint64_t key = ((uint64_t)id << 32 | (merged ? 0xffffffffu : thread)) + 1;
	uintptr_t v = (uintptr_t)addrmap_get(map, key);
	struct top_row *r;

	if (v)
		return &t->rows[v - 1];
	XGROW(t->rows, t->cap, t->nrows + 1);
	r = &t->rows[t->nrows++];
	memset(r, 0, sizeof(*r));
	r->thread = merged ? -1 : (int)thread;
	addrmap_put(map, key, (void *)(uintptr_t)t->nrows);
	return r;
}

/* Functions: the line of each row's function seen in most samples. */
static void hottest_lines(struct top_table *t, const struct top_agg *a,
			  const struct profile *prof, const struct top_view *v,
			  struct addrmap *map)
{
	uint64_t *best = xcalloc(t->nrows + 1, sizeof(*best));
	bool merged = v->thread == TOP_THREADS_MERGED;

	for (size_t i = 0; i < a->nentries; i++) {
		const struct top_entry *e = &a->entries[i];
		uint64_t key;
		uintptr_t r;

		if (e->func || !thread_shown(v, e->thread) ||
		    e->id >= a->frame_func_cap || !a->frame_func[e->id])
			continue;
		key = ((uint64_t)(a->frame_func[e->id] - 1) << 32 |
		       (merged ? 0xffffffffu : e->thread)) + 1;
		r = (uintptr_t)addrmap_get(map, key);
		/* Merged rows compare per-thread counts: good enough to
		 * point at a line. */
		if (r && e->all.total > best[r - 1]) {
			best[r - 1] = e->all.total;
			t->rows[r - 1].line = prof->frames[e->id].line;
		}
	}
	free(best);
}

static uint64_t sort_value(const struct top_row *r, enum top_sort key)
{
	switch (key) {
	case TOP_SORT_OWN_PCT:
		return r->win.own;
	case TOP_SORT_TOTAL_PCT:
		return r->win.total;
	case TOP_SORT_OWN_TIME:
		return r->all.own;
	default:
		return r->all.total;
	}
}

static int cmp_rows(const void *pa, const void *pb, void *key)
{
	const struct top_row *x = pa, *y = pb;
	enum top_sort k = *(const enum top_sort *)key;
	uint64_t vx = sort_value(x, k), vy = sort_value(y, k);
	int c;

	if (vx != vy)
		return vx > vy ? -1 : 1;
	/* Ties: the other window count, then the name, for a stable order. */
	if (x->win.total != y->win.total)
		return x->win.total > y->win.total ? -1 : 1;
	if (x->all.total != y->all.total)
		return x->all.total > y->all.total ? -1 : 1;
	c = strcmp(x->function, y->function);
	if (c)
		return c;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->thread - y->thread;
}

void top_table_build(struct top_table *t, const struct top_agg *a,
		     const struct profile *prof, const struct top_view *v)
{
	bool merged = v->thread == TOP_THREADS_MERGED;
	struct addrmap map = { 0 };

	t->nrows = 0;
	t->win_samples = t->all_samples = 0;
	for (size_t i = 0; i < a->nthreads; i++) {
		if (!thread_shown(v, (uint32_t)i))
			continue;
		t->win_samples += top_agg_thread_window(a, (uint32_t)i);
		t->all_samples += a->threads[i].samples;
	}
	for (size_t i = 0; i < a->nentries; i++) {
		const struct top_entry *e = &a->entries[i];
		const char *fn, *file;
		struct top_counts w;
		struct top_row *r;

		if (e->func == v->lines || !thread_shown(v, e->thread))
			continue;
		if (e->func) {
			fn = a->funcs[e->id].function;
			file = a->funcs[e->id].file;
		} else {
			fn = prof->frames[e->id].function;
			file = prof->frames[e->id].file;
		}
		if (v->filter && *v->filter && !strstr(fn, v->filter))
			continue;
		r = row_for(t, &map, e->id, e->thread, merged);
		r->function = fn;
		r->file = file;
		if (!e->func)
			r->line = prof->frames[e->id].line;
		w = top_agg_window(a, i);
		r->win.own += w.own;
		r->win.total += w.total;
		r->all.own += e->all.own;
		r->all.total += e->all.total;
	}
	if (!v->lines)
		hottest_lines(t, a, prof, v, &map);
	addrmap_release(&map);
	qsort_r(t->rows, t->nrows, sizeof(*t->rows), cmp_rows,
		(void *)&v->sort);
}

static double pct(uint64_t n, uint64_t of)
{
	return of ? 100.0 * (double)n / (double)of : 0.0;
}

double top_row_own_pct(const struct top_table *t, const struct top_row *r)
{
	return pct(r->win.own, t->win_samples);
}

double top_row_total_pct(const struct top_table *t, const struct top_row *r)
{
	return pct(r->win.total, t->win_samples);
}

void top_row_where(const struct top_row *r, char *buf, size_t size)
{
	const char *base = r->file ? strrchr(r->file, '/') : NULL;

	base = base ? base + 1 : r->file ? r->file : "?";
	if (r->line > 0)
		snprintf(buf, size, "%s:%d", base, r->line);
	else
		snprintf(buf, size, "%s", base);
}

/* Columns left for the function and its place in a line width wide. */
static void text_widths(const struct top_view *v, int width, int *fn_w,
			int *where_w)
{
	int rest;

	if (width < 40)
		width = 40;
	if (width > TOP_WIDTH_MAX)
		width = TOP_WIDTH_MAX;
	rest = width - NUM_WIDTH - (v->thread == TOP_THREADS_SPLIT ? TID_WIDTH : 0);
	*where_w = rest * 9 / 20;
	*fn_w = rest - *where_w - 1;
}

/* Code points in s[0..len) (a byte that starts no valid sequence counts
 * as one): a column each, near enough for names and paths. */
static size_t cp_count(const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; n++) {
		size_t k = utf8_valid_len((const unsigned char *)s + i, len - i);

		i += k ? k : 1;
	}
	return n;
}

/* The byte offset of code point cp in s[0..len). */
static size_t cp_offset(const char *s, size_t len, size_t cp)
{
	size_t i = 0;

	while (cp-- && i < len) {
		size_t k = utf8_valid_len((const unsigned char *)s + i, len - i);

		i += k ? k : 1;
	}
	return i;
}

size_t top_text_cut(const char *s, int cols)
{
	return cp_offset(s, strlen(s), cols > 0 ? (size_t)cols : 0);
}

/* s into exactly w columns: cut with ".." at the end (or, for a place,
 * at the start, where a path matters least), never inside a character. */
static void fit(char *dst, size_t size, const char *s, int w, bool keep_tail)
{
	size_t len = strlen(s), n = cp_count(s, len), at;

	if (w < 3)
		w = 3;
	if (n <= (size_t)w) {
		snprintf(dst, size, "%s%*s", s, (int)((size_t)w - n), "");
	} else if (keep_tail) {
		at = cp_offset(s, len, n - (size_t)(w - 2));
		snprintf(dst, size, "..%s", s + at);
	} else {
		at = cp_offset(s, len, (size_t)(w - 2));
		snprintf(dst, size, "%.*s..", (int)at, s);
	}
}

void top_table_heading(char *buf, size_t size, const struct top_view *v,
		       int width)
{
	static const char *marks[TOP_SORT_COUNT] = { "%OWN", "%TOT", "OWN(s)",
						     "TOT(s)" };
	char col[TOP_SORT_COUNT][16], fn[TOP_LINE_MAX];
	int fn_w, where_w;

	text_widths(v, width, &fn_w, &where_w);
	for (int i = 0; i < TOP_SORT_COUNT; i++)
		snprintf(col[i], sizeof(col[i]), "%s%s",
			 (int)v->sort == i ? "*" : "", marks[i]);
	fit(fn, sizeof(fn), "FUNCTION", fn_w, false);
	snprintf(buf, size, "%5s %5s %7s %7s %s%s %s", col[0], col[1], col[2],
		 col[3], v->thread == TOP_THREADS_SPLIT ? "    TID " : "", fn,
		 v->lines ? "FILE:LINE" : "FILE:HOTTEST");
}

void top_table_line(char *buf, size_t size, const struct top_table *t,
		    const struct top_agg *a, const struct top_row *r,
		    const struct top_view *v, int width)
{
	char fn[TOP_LINE_MAX], where[TOP_LINE_MAX], where_fit[TOP_LINE_MAX];
	char tid[32] = "";
	int fn_w, where_w;

	text_widths(v, width, &fn_w, &where_w);
	fit(fn, sizeof(fn), r->function ? r->function : "?", fn_w, false);
	top_row_where(r, where, sizeof(where));
	fit(where_fit, sizeof(where_fit), where, where_w, true);
	if (v->thread == TOP_THREADS_SPLIT && r->thread >= 0 &&
	    (size_t)r->thread < a->nthreads)
		snprintf(tid, sizeof(tid), "%7lld ",
			 (long long)a->threads[r->thread].tid);
	snprintf(buf, size, "%5.1f %5.1f %7.2f %7.2f %s%s %s",
		 top_row_own_pct(t, r), top_row_total_pct(t, r),
		 (double)r->all.own * v->period, (double)r->all.total * v->period,
		 tid, fn, where_fit);
	/* No trailing blanks (a short place is padded by fit). */
	for (size_t n = strlen(buf); n && buf[n - 1] == ' ';)
		buf[--n] = '\0';
}

static const char *const sort_names[TOP_SORT_COUNT] = {
	"own%", "total%", "own time", "total time",
};

static void threads_label(char *buf, size_t size, const struct top_view *v,
			  const struct top_agg *a)
{
	const struct top_thread *th;

	if (v->thread == TOP_THREADS_MERGED) {
		snprintf(buf, size, "all threads");
		return;
	}
	if (v->thread == TOP_THREADS_SPLIT || (size_t)v->thread >= a->nthreads) {
		snprintf(buf, size, "per thread");
		return;
	}
	th = &a->threads[v->thread];
	snprintf(buf, size, "thread %lld%s%s%s", (long long)th->tid,
		 th->name[0] ? " (" : "", th->name, th->name[0] ? ")" : "");
}

static void pct_or_na(char *buf, size_t size, double v)
{
	if (v < 0)
		snprintf(buf, size, "n/a");
	else
		snprintf(buf, size, "%.1f%%", v);
}

void top_status_format(char *buf, size_t size, const struct top_status *s,
		       const struct top_view *v, const struct top_agg *a,
		       int width)
{
	char gil[16], cpu[16], err[16], thr[128], filt[96] = "", procs[32] = "";

	pct_or_na(gil, sizeof(gil), s->gil_pct);
	pct_or_na(cpu, sizeof(cpu), s->cpu_pct);
	if (s->error_pct < 0)
		snprintf(err, sizeof(err), "n/a");
	else
		snprintf(err, sizeof(err), "%.2f%%", s->error_pct);
	threads_label(thr, sizeof(thr), v, a);
	if (v->filter && *v->filter)
		snprintf(filt, sizeof(filt), ", filter '%.64s'", v->filter);
	if (s->processes > 1)
		snprintf(procs, sizeof(procs), ", %u processes", s->processes);
	/* Each line fits 80 columns with figures of usual widths. */
	snprintf(buf, size,
		 "snakescope top - pid %d%s, python %s, up %.1f s%s%s\n"
		 "command: %.*s\n"
		 "threads: %u, samples: %.1f/s of %.0f, errors: %s, gil: %s, "
		 "cpu: %s\n"
		 "view: %s, sort %s, %s%s, %% over %u s",
		 s->pid, procs, s->python ? s->python : "?", s->elapsed,
		 s->exited ? " - process exited" : "",
		 s->paused ? " - paused" : "",
		 width > 9 ? width - 9 : 1, s->command ? s->command : "",
		 s->threads, s->rate, s->target_rate, err, gil, cpu,
		 v->lines ? "lines" : "functions", sort_names[v->sort], thr, filt,
		 s->window);
}

void top_snapshot_print(FILE *out, const struct top_status *s,
			const struct top_table *t, const struct top_agg *a,
			const struct top_view *v, size_t max_rows)
{
	char line[TOP_LINE_MAX], head[2048];
	size_t n = max_rows && max_rows < t->nrows ? max_rows : t->nrows;

	top_status_format(head, sizeof(head), s, v, a, (int)sizeof(head));
	fprintf(out, "%s\n\n", head);
	top_table_heading(line, sizeof(line), v, TEXT_WIDTH);
	fprintf(out, "%s\n", line);
	for (size_t i = 0; i < n; i++) {
		top_table_line(line, sizeof(line), t, a, &t->rows[i], v, TEXT_WIDTH);
		fprintf(out, "%s\n", line);
	}
	fputc('\n', out);
}
