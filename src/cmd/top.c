/* snakescope top: a live table of where a Python process spends its time.
 * record's sampling session (record_run) does the sampling, spawn mode
 * and --subprocesses; top watches it through hooks: every stack goes into
 * top_agg's counters, and once per --interval the table is rebuilt and
 * drawn (ncurses, top_tui.c) or printed (--batch, top_table.c).  Keys are
 * read between ticks, in the loop's wait. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/record.h"
#include "out/top_table.h"
#include "out/top_tui.h"
#include "py/proc.h"
#include "stack/top_agg.h"
#include "target/procfs.h"

#define RATE_MAX 100000
#define INTERVAL_MAX 3600.0
#define BUCKET_NS 1000000000LL   /* the window moves on by seconds */

struct top_opts {
	struct record_opts rec;
	unsigned batch;           /* snapshots to print, 0: until the end */
	bool batch_mode;          /* plain text, not the terminal view */
	double interval;          /* seconds between refreshes */
	unsigned window;          /* seconds the percentages cover */
	unsigned rows;            /* --batch: rows per snapshot, 0 all */
	struct top_view view;
};

struct top {
	const struct top_opts *o;
	struct top_agg agg;
	struct top_table table;
	struct top_view view;
	struct top_tui ui;
	struct err *err;
	const struct profile *prof; /* the session's: frame ids index it */
	pid_t pid;
	char command[256];
	const char *python;
	int64_t refresh_at, bucket_at;
	unsigned snapshots;
	bool paused, exited;
	/* For the header: since the previous refresh. */
	int64_t last_now;
	uint64_t last_ticks, last_stacks, last_errors;
	uint64_t gil_held, gil_known, root_samples;
	unsigned threads, processes, tick_procs;
	clockid_t cpu_clock;
	bool has_cpu_clock;
	uint64_t last_cpu_ns;
	struct top_status status; /* what the last refresh computed */
	char status_text[2048];
};

void cmd_top_usage(FILE *out)
{
	fputs("usage: snakescope top [options] PID\n"
	      "       snakescope top [options] -- COMMAND [ARGS...]\n\n"
	      "A live table of the functions a Python process spends its time in,\n"
	      "refreshed every second: own % (samples ending in the function)\n"
	      "and total % (samples passing through it, counted once per sample\n"
	      "under recursion) over the last --window seconds, own and total\n"
	      "time over the whole run.  On a terminal a full-screen view:\n"
	      "  1-4, s  sort by own %, total %, own time, total time; cycle\n"
	      "  t       all threads, a row per thread, then each thread alone\n"
	      "  l       lines instead of functions (and back)\n"
	      "  /       filter by function name (Enter applies, Esc cancels)\n"
	      "  p       pause the display (sampling goes on)\n"
	      "  q       quit (also Ctrl-C); when the process exits the view\n"
	      "          stays, saying so, until q\n"
	      "Otherwise (stdout not a terminal, --batch, --once) plain-text\n"
	      "snapshots like top -b.  COMMAND (spawn mode) shares the terminal;\n"
	      "q (or the last --batch snapshot) sends it SIGINT, and top exits\n"
	      "with its status.\n\n"
	      "options:\n"
	      "  -r, --rate HZ         samples per second (default 100, at most 100000)\n"
	      "  -i, --idle            include sleeping and blocked threads\n"
	      "  -g, --gil             only the thread holding the GIL\n"
	      "  -s, --subprocesses    also sample Python child processes\n"
	      "  -b, --batch N         print N snapshots as text, then stop\n"
	      "      --once            print one snapshot (--batch 1)\n"
	      "  -d, --interval SEC    seconds between refreshes (default 1)\n"
	      "  -w, --window SEC      seconds the percentages cover (default 5,\n"
	      "                        at most 60)\n"
	      "  -l, --lines           start with a row per line\n"
	      "      --sort KEY        own% (default), total%, own-time, total-time\n"
	      "  -n, --rows N          text snapshots: at most N rows (default 50)\n"
	      "      --blocking        stop the threads for each sample\n"
	      "  -h, --help            show this help\n", out);
}

static const char *const sort_keys[TOP_SORT_COUNT] = {
	"own%", "total%", "own-time", "total-time",
};

static int parse_seconds(const char *opt, const char *s, double max,
			 double *out, struct err *e)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v <= 0 || v > max)
		return err_set(e, SS_EUSAGE, "top: %s wants seconds (more than 0, "
			       "at most %g), not '%s'", opt, max, s);
	*out = v;
	return 0;
}

static int parse_sort(const char *s, enum top_sort *out, struct err *e)
{
	for (int i = 0; i < TOP_SORT_COUNT; i++)
		if (!strcmp(s, sort_keys[i])) {
			*out = (enum top_sort)i;
			return 0;
		}
	return err_set(e, SS_EUSAGE, "top: unknown sort key '%s' (own%%, "
		       "total%%, own-time or total-time)", s);
}

enum { OPT_ONCE = 256, OPT_SORT, OPT_BLOCKING };

static const struct option longopts[] = {
	{ "rate", required_argument, NULL, 'r' },
	{ "idle", no_argument, NULL, 'i' },
	{ "gil", no_argument, NULL, 'g' },
	{ "subprocesses", no_argument, NULL, 's' },
	{ "batch", required_argument, NULL, 'b' },
	{ "once", no_argument, NULL, OPT_ONCE },
	{ "interval", required_argument, NULL, 'd' },
	{ "window", required_argument, NULL, 'w' },
	{ "lines", no_argument, NULL, 'l' },
	{ "sort", required_argument, NULL, OPT_SORT },
	{ "rows", required_argument, NULL, 'n' },
	{ "blocking", no_argument, NULL, OPT_BLOCKING },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

#define SHORTOPTS "+:r:igsb:d:w:ln:h"

static int parse_opt(int c, char **argv, struct top_opts *o, struct ctx *ctx)
{
	struct err *e = &ctx->err;
	double secs;
	int rc = 0;

	switch (c) {
	case 'r':
		return parse_uint_opt("top: --rate", optarg, &o->rec.rate,
				      RATE_MAX, e);
	case 'i':
		o->rec.idle = true;
		return 0;
	case 'g':
		o->rec.gil = true;
		return 0;
	case 's':
		o->rec.subprocesses = true;
		return 0;
	case 'b':
		o->batch_mode = true;
		return parse_uint_opt("top: --batch", optarg, &o->batch,
				      1000000, e);
	case OPT_ONCE:
		o->batch_mode = true;
		o->batch = 1;
		return 0;
	case 'd':
		rc = parse_seconds("--interval", optarg, INTERVAL_MAX,
				   &o->interval, e);
		return rc;
	case 'w':
		rc = parse_seconds("--window", optarg, TOP_WINDOW_MAX, &secs, e);
		o->window = rc ? o->window : (unsigned)ceil(secs);
		return rc;
	case 'l':
		o->view.lines = true;
		return 0;
	case OPT_SORT:
		return parse_sort(optarg, &o->view.sort, e);
	case 'n':
		return parse_uint_opt("top: --rows", optarg, &o->rows, 1000000, e);
	case OPT_BLOCKING:
		o->rec.blocking = true;
		return 0;
	case 'h':
		cmd_top_usage(stdout);
		return 1;
	case ':':
		return err_set(e, SS_EUSAGE, "top: option '%s' wants a value",
			       argv[optind - 1]);
	default:
		return err_set(e, SS_EUSAGE, "top: unknown option '%s'",
			       argv[optind - 1]);
	}
}

/* Options up to the first non-option of argv; 1 for --help. */
static int parse_opts(int argc, char **argv, void *arg, struct ctx *ctx)
{
	struct top_opts *o = arg;
	int c, rc;

	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, SHORTOPTS, longopts, NULL)) != -1) {
		rc = parse_opt(c, argv, o, ctx);
		if (rc)
			return rc;
	}
	return 0;
}

/* The process's CPU time in ns, or -1. */
static int64_t cpu_ns(struct top *t)
{
	struct timespec ts;

	if (!t->has_cpu_clock || clock_gettime(t->cpu_clock, &ts))
		return -1;
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static double ratio_pct(uint64_t n, uint64_t of)
{
	return of ? 100.0 * (double)n / (double)of : -1.0;
}

/* The header's figures since the previous refresh. */
static void update_status(struct top *t, const struct record_view *v)
{
	struct top_status *s = &t->status;
	double dt = (double)(v->now - t->last_now) / 1e9;
	uint64_t stacks = v->stacks - t->last_stacks;
	uint64_t errors = v->errors - t->last_errors;
	int64_t cpu = cpu_ns(t);

	s->pid = (int)v->pid;
	s->command = t->command;
	s->python = t->python;
	s->threads = t->threads;
	s->processes = t->processes ? t->processes : 1;
	s->elapsed = (double)(v->now - v->t0) / 1e9;
	/* A last refresh right after the previous one keeps its rate:
	 * a few ticks over a few ms say little. */
	if (dt >= 0.25 || !s->rate)
		s->rate = dt > 0 ? (double)(v->ticks - t->last_ticks) / dt : 0;
	s->target_rate = t->o->rec.rate;
	s->error_pct = stacks + errors ? ratio_pct(errors, stacks + errors) : 0;
	s->gil_pct = ratio_pct(t->gil_held, t->gil_known);
	if (t->gil_known < t->root_samples / 2)
		s->gil_pct = -1;  /* this Python does not tell */
	s->cpu_pct = -1;
	if (cpu >= 0 && dt > 0 && !v->gone) {
		if (t->last_cpu_ns)
			s->cpu_pct = (double)((uint64_t)cpu - t->last_cpu_ns) /
				     1e9 / dt * 100.0;
		t->last_cpu_ns = (uint64_t)cpu;
	}
	s->window = t->agg.window;
	s->exited = t->exited;
	s->paused = t->paused;
	t->last_now = v->now;
	t->last_ticks = v->ticks;
	t->last_stacks = v->stacks;
	t->last_errors = v->errors;
	t->gil_held = t->gil_known = t->root_samples = 0;
}

static void draw(struct top *t, const struct record_view *v)
{
	top_table_build(&t->table, &t->agg, v->prof, &t->view);
	top_status_format(t->status_text, sizeof(t->status_text), &t->status,
			  &t->view, &t->agg, top_tui_width(&t->ui));
	top_tui_draw(&t->ui, t->status_text, &t->table, &t->agg, &t->view);
}

static void snapshot(struct top *t, const struct record_view *v)
{
	top_table_build(&t->table, &t->agg, v->prof, &t->view);
	top_snapshot_print(stdout, &t->status, &t->table, &t->agg, &t->view,
			   t->o->rows);
	fflush(stdout);
	t->snapshots++;
}

/* Once per interval: new figures, and the table drawn or printed. */
static void refresh(struct top *t, const struct record_view *v)
{
	t->status.paused = t->paused;
	if (t->paused && !t->o->batch_mode)
		return;
	update_status(t, v);
	if (t->o->batch_mode)
		snapshot(t, v);
	else
		draw(t, v);
}

static int on_begin(void *arg, const struct record_view *v)
{
	struct top *t = arg;
	int64_t interval = (int64_t)(t->o->interval * 1e9);

	t->pid = v->pid;
	t->prof = v->prof;
	procfs_cmdline(v->pid, t->command, sizeof(t->command));
	t->python = v->py ? v->py->version_str : NULL;
	t->has_cpu_clock = clock_getcpuclockid(v->pid, &t->cpu_clock) == 0;
	t->last_cpu_ns = cpu_ns(t) > 0 ? (uint64_t)cpu_ns(t) : 0;
	t->last_now = v->now;
	t->refresh_at = v->now + interval;
	t->bucket_at = v->now + BUCKET_NS;
	if (t->o->batch_mode)
		return 0;
	return top_tui_start(&t->ui, t->err);
}

static void on_sample(void *arg, pid_t pid, const struct dump *d)
{
	struct top *t = arg;
	bool held = false, known = false;

	if (pid != t->pid) {
		t->tick_procs++;
		return;
	}
	/* The first process is sampled first in every tick. */
	t->processes = t->tick_procs;
	t->tick_procs = 1;
	t->threads = (unsigned)d->nthreads;
	for (size_t i = 0; i < d->nthreads; i++) {
		held |= d->threads[i].holds_gil == 1;
		known |= d->threads[i].holds_gil != -1;
	}
	t->root_samples++;
	t->gil_known += known;
	t->gil_held += held;
}

static void on_stack(void *arg, pid_t pid, const struct thread_stack *ts,
		     const uint32_t *path, size_t n)
{
	struct top *t = arg;
	uint64_t key = ts->ident ? ts->ident : ts->tstate;
	uint32_t th = top_agg_thread(&t->agg, pid, key, ts->tid, ts->name);

	top_agg_add(&t->agg, t->prof, th, path, n);
}

/* The window moves on by whole seconds; a refresh is due every interval. */
static void on_time(struct top *t, const struct record_view *v, int64_t now)
{
	int64_t interval = (int64_t)(t->o->interval * 1e9);
	struct record_view at = *v;

	for (int i = 0; now >= t->bucket_at && i <= TOP_WINDOW_MAX; i++) {
		top_agg_advance(&t->agg);
		t->bucket_at += BUCKET_NS;
	}
	if (now >= t->bucket_at)
		t->bucket_at = now + BUCKET_NS;  /* asleep for long: start over */
	if (now < t->refresh_at)
		return;
	at.now = now;
	refresh(t, &at);
	t->refresh_at += interval;
	if (t->refresh_at <= now)
		t->refresh_at = now + interval;
}

/* Keys and resizes until the monotonic time until (INT64_MAX: until a key
 * or signal says otherwise); 1 to quit. */
static int serve_terminal(struct top *t, const struct record_view *v,
			  int64_t until)
{
	for (;;) {
		struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
		int64_t now = record_now_ns(), left = until - now;
		struct timespec ts;
		enum top_action act;

		if (*v->interrupted)
			return 0;
		if (top_tui_check_resize(&t->ui))
			draw(t, v);
		act = top_tui_keys(&t->ui, &t->view,
				   t->agg.nthreads);
		if (act == TOP_QUIT)
			return 1;
		if (act == TOP_PAUSE) {
			t->paused = !t->paused;
			t->status.paused = t->paused;
			draw(t, v);
		} else if (act == TOP_REDRAW) {
			draw(t, v);
		}
		if (left <= 0)
			return 0;
		ts.tv_sec = left / 1000000000LL;
		ts.tv_nsec = left % 1000000000LL;
		/* SIGWINCH, SIGINT and SIGTERM interrupt the wait. */
		if (ppoll(&pfd, 1, until == INT64_MAX ? NULL : &ts, NULL) < 0 &&
		    errno != EINTR)
			return 0;
		if (pfd.revents & (POLLHUP | POLLERR | POLLNVAL))
			return 1; /* the terminal went away */
		if (until != INT64_MAX && record_now_ns() >= until)
			return 0;
	}
}

static int on_wait(void *arg, const struct record_view *v, int64_t until)
{
	struct top *t = arg;

	on_time(t, v, record_now_ns());
	if (t->o->batch_mode)
		return t->o->batch && t->snapshots >= t->o->batch;
	return serve_terminal(t, v, until);
}

static void on_end(void *arg, const struct record_view *v)
{
	struct top *t = arg;
	struct record_view at = *v;

	at.now = record_now_ns();
	t->exited = v->gone;
	if (t->o->batch_mode) {
		/* The last figures, when the end came from the process. */
		if (t->exited && !(t->o->batch && t->snapshots >= t->o->batch)) {
			update_status(t, &at);
			snapshot(t, &at);
		}
		return;
	}
	if (t->exited && !*v->interrupted) {
		t->paused = false;
		update_status(t, &at);
		draw(t, &at);
		/* "process exited" stays on screen until q (or a signal). */
		serve_terminal(t, &at, INT64_MAX);
	}
	top_tui_stop(&t->ui);
}

int cmd_top(int argc, char **argv, struct ctx *ctx)
{
	struct top_opts o = {
		/* threads: names read once a second, for the thread views
		 * (the thread roots record adds are left out of hooks). */
		.rec = { .rate = 100, .threads = true },
		.interval = 1.0, .window = 5, .rows = 50,
		.view = { .sort = TOP_SORT_OWN_PCT, .thread = TOP_THREADS_MERGED },
	};
	struct top t;
	struct record_hooks h = {
		.arg = &t, .begin = on_begin, .sample = on_sample,
		.stack = on_stack, .wait = on_wait, .end = on_end,
	};
	int rc = parse_pid_or_command("top", argc, argv, parse_opts, &o,
				      &o.rec.pid, &o.rec.argv, ctx);

	if (rc)
		return rc > 0 ? 0 : rc;
	if (!isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO))
		o.batch_mode = true;
	memset(&t, 0, sizeof(t));
	t.o = &o;
	t.err = &ctx->err;
	t.view = o.view;
	t.view.period = 1.0 / o.rec.rate;
	top_agg_init(&t.agg, o.window);
	rc = record_run(&o.rec, &h, ctx);
	/* Every way out gives the terminal back. */
	top_tui_stop(&t.ui);
	top_table_release(&t.table);
	top_agg_release(&t.agg);
	return rc;
}
