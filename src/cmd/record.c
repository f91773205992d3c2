/* snakescope record: a sampling profiler.  Samples every Python thread of a
 * process (and, with --subprocesses, of its Python descendants) at a fixed
 * rate with py_walk, aggregates the stacks into a profile trie and writes
 * it in one of the profile formats when sampling ends (--duration, the
 * target exiting, or Ctrl-C). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/record.h"
#include "cmd/sampler.h"
#include "cmd/ticker.h"
#include "out/profile_out.h"
#include "py/locals.h"
#include "stack/profile.h"
#include "util/addrmap.h"
#include "util/clock.h"
#include "util/xalloc.h"

#define RATE_MAX 500000          /* Hz; more is a usage error */
#define DURATION_MAX (366.0 * 86400)
#define STATUS_NS 250000000LL    /* live status refresh */
#define SCAN_NS 100000000LL      /* --subprocesses: look for children */
#define NAMES_NS 1000000000LL    /* --threads: refresh thread names */
/* Code objects are cached by address; a code object freed and another
 * allocated at the same address would keep the old name, so the cached
 * ones are checked this often (a bounded window for a wrong name; the
 * check is one batched read). */
#define REVALIDATE_NS 100000000LL
#define PENDING_TRIES 50         /* scans a new child may take to be Python */
#define MAX_PROCS 4096
#define MAX_DEPTH (WALK_DEFAULT_MAX_FRAMES + 2)

enum fmt { FMT_FLAMEGRAPH, FMT_SPEEDSCOPE, FMT_COLLAPSED, FMT_PPROF };

static const struct {
	const char *name, *ext;
	int (*write)(FILE *, const struct profile *, const struct profile_meta *,
		     struct err *);
} formats[] = {
	[FMT_FLAMEGRAPH] = { "flamegraph", "svg", out_flamegraph },
	[FMT_SPEEDSCOPE] = { "speedscope", "speedscope.json", out_speedscope },
	[FMT_COLLAPSED] = { "collapsed", "txt", out_collapsed },
	[FMT_PPROF] = { "pprof", "pb.gz", out_pprof },
};

/* Set by the signal handlers, read by the loop (sig_atomic_t only). */
struct stop_flags {
	volatile sig_atomic_t interrupted;
	volatile sig_atomic_t from_process; /* sent by kill(), not the tty */
};

/* What the previous sample of a thread turned into: its frames as the
 * reader gave them (string addresses and line, at each depth from the
 * root) and as the profile interned them, so an unchanged frame costs
 * three comparisons, not a hash lookup. */
struct raw_frame {
	const char *function, *file;
	int line;
};

struct thread_memo {
	struct raw_frame *raw;
	size_t cap;
	struct profile_path path;
};

/* One sampled process. */
struct rproc {
	pid_t pid;
	bool open, gone;
	unsigned tries;           /* failed opens while pending */
	struct sampler s;
	uint32_t root;            /* its root frame (--subprocesses) */
	struct addrmap thread_roots; /* ident -> frame + 1 (--threads) */
	int64_t names_at;         /* when names were last read */
	struct dump d;            /* reused sample after sample */
	struct thread_memo *memos; /* by thread position in d */
	size_t nmemos;
};

struct recorder {
	const struct record_opts *o;
	const struct record_hooks *h;
	const struct stop_flags *flags;
	struct profile prof;
	struct rproc **procs;
	size_t nprocs, cap;
	struct walk_opts walk;
	uint32_t *path;
	/* Counters. */
	uint64_t ticks, stacks, errors, late, missed, failed_walks;
	bool stopped_by_hook;     /* wait() ended sampling */
	int64_t t0, now, flushed_at;
	char first_error[1100];
};

/* The handlers can only reach a flag through a static pointer; it is set
 * for the duration of one record run. */
static struct stop_flags *stop_flags;

static void on_signal(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	if (!stop_flags)
		return;
	stop_flags->interrupted = 1;
	if (si && si->si_code == SI_USER && si->si_pid)
		stop_flags->from_process = 1;
}

void cmd_record_usage(FILE *out)
{
	fputs("usage: snakescope record [options] PID\n"
	      "       snakescope record [options] -- COMMAND [ARGS...]\n\n"
	      "Sample the Python stacks of a running process (or of COMMAND,\n"
	      "started for it: its output and exit status pass through) until\n"
	      "--duration ends, the process exits or Ctrl-C, then write the\n"
	      "profile and say where.  Frames are 'function (file:line)'.\n"
	      "Samples that cannot be read whole (the stack changed while it\n"
	      "was read) are counted and reported, never merged.\n\n"
	      "options:\n"
	      "  -r, --rate HZ         samples per second (default 100, at most 500000)\n"
	      "  -d, --duration SEC    stop after SEC seconds (default: until exit)\n"
	      "  -o, --output FILE     where to write the profile (default\n"
	      "                        snakescope-PID-DATE-TIME.EXT in this directory)\n"
	      "  -f, --format FMT      flamegraph (default: interactive SVG), speedscope,\n"
	      "                        collapsed (flamegraph.pl lines) or pprof (gzipped)\n"
	      "  -i, --idle            include sleeping and blocked threads (default:\n"
	      "                        only threads the OS shows running)\n"
	      "  -g, --gil             only the thread holding the GIL\n"
	      "  -t, --threads         a root frame per thread, with its name\n"
	      "  -s, --subprocesses    also sample Python child processes (and theirs),\n"
	      "                        each under a root frame\n"
	      "      --function        aggregate by function, ignoring line numbers\n"
	      "  -n, --nonblocking     read without stopping the process (default)\n"
	      "      --blocking        stop the threads for each sample: exact stacks,\n"
	      "                        slower target\n"
	      "  -h, --help            show this help\n", out);
}

static int parse_rate(const char *s, unsigned *out, struct err *e)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v == 0 || v > RATE_MAX)
		return err_set(e, SS_EUSAGE, "record: --rate wants a whole number "
			       "of samples per second from 1 to %u, not '%s'",
			       RATE_MAX, s);
	*out = (unsigned)v;
	return 0;
}

static int parse_duration(const char *s, double *out, struct err *e)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v <= 0 ||
	    v > DURATION_MAX)
		return err_set(e, SS_EUSAGE, "record: --duration wants seconds "
			       "(more than 0), not '%s'", s);
	*out = v;
	return 0;
}

static const struct option longopts[] = {
	{ "rate", required_argument, NULL, 'r' },
	{ "duration", required_argument, NULL, 'd' },
	{ "output", required_argument, NULL, 'o' },
	{ "format", required_argument, NULL, 'f' },
	{ "idle", no_argument, NULL, 'i' },
	{ "gil", no_argument, NULL, 'g' },
	{ "threads", no_argument, NULL, 't' },
	{ "subprocesses", no_argument, NULL, 's' },
	{ "function", no_argument, NULL, 'F' },
	{ "nonblocking", no_argument, NULL, 'n' },
	{ "blocking", no_argument, NULL, 'B' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

/* '+': stop at the first non-option, so COMMAND's own options are left
 * alone; ':' first: a missing value is told from an unknown option. */
#define SHORTOPTS "+:r:d:o:f:igtsnh"

/* Options up to the first non-option of argv; 1 for --help. */
static int parse_opts(int argc, char **argv, void *arg, struct ctx *ctx)
{
	struct record_opts *o = arg;
	int c, rc;
	size_t i;

	opterr = 0;
	optind = 0; /* glibc: start over (options may follow the PID) */
	while ((c = getopt_long(argc, argv, SHORTOPTS, longopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			rc = parse_rate(optarg, &o->rate, &ctx->err);
			if (rc)
				return rc;
			break;
		case 'd':
			rc = parse_duration(optarg, &o->duration, &ctx->err);
			if (rc)
				return rc;
			break;
		case 'o':
			if (!*optarg)
				return err_set(&ctx->err, SS_EUSAGE,
					       "record: -o wants a file name");
			o->output = optarg;
			break;
		case 'f':
			for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
				if (!strcmp(optarg, formats[i].name))
					break;
			if (i == sizeof(formats) / sizeof(formats[0]))
				return err_set(&ctx->err, SS_EUSAGE,
					       "record: unknown format '%s' (flamegraph, "
					       "speedscope, collapsed or pprof)", optarg);
			o->format = (unsigned)i;
			break;
		case 'i':
			o->idle = true;
			break;
		case 'g':
			o->gil = true;
			break;
		case 't':
			o->threads = true;
			break;
		case 's':
			o->subprocesses = true;
			break;
		case 'F':
			o->function = true;
			break;
		case 'n':
			o->blocking = false;
			break;
		case 'B':
			o->blocking = true;
			break;
		case 'h':
			cmd_record_usage(stdout);
			return 1;
		case ':':
			return err_set(&ctx->err, SS_EUSAGE,
				       "record: option '%s' wants a value",
				       argv[optind - 1]);
		default:
			return err_set(&ctx->err, SS_EUSAGE,
				       "record: unknown option '%s'",
				       argv[optind - 1]);
		}
	}
	return 0;
}

int64_t record_now_ns(void)
{
	return monotonic_ns();
}

static struct rproc *rproc_add(struct recorder *rec, pid_t pid)
{
	struct rproc *p = xcalloc(1, sizeof(*p));

	p->pid = pid;
	XGROW(rec->procs, rec->cap, rec->nprocs + 1);
	rec->procs[rec->nprocs++] = p;
	return p;
}

static struct rproc *rproc_find(struct recorder *rec, pid_t pid)
{
	for (size_t i = 0; i < rec->nprocs; i++)
		if (rec->procs[i]->pid == pid)
			return rec->procs[i];
	return NULL;
}

/* Try to open p; 0 when it is open now. */
static int rproc_open(struct recorder *rec, struct rproc *p, struct err *e)
{
	char cmd[200], label[256];
	int rc = sampler_open(&p->s, p->pid, e);

	if (rc)
		return rc;
	p->open = true;
	p->names_at = 0;
	if (!rec->o->subprocesses)
		return 0;
	procfs_cmdline(p->pid, cmd, sizeof(cmd));
	snprintf(label, sizeof(label), "process %d (%s)", (int)p->pid,
		 cmd[0] ? cmd : "?");
	p->root = profile_frame_text(&rec->prof, label, NULL, -1);
	return 0;
}

/* The memos key on the reader's string addresses: forget them when the
 * reader frees its strings. */
static void rproc_forget_memos(struct rproc *p)
{
	for (size_t i = 0; i < p->nmemos; i++)
		p->memos[i].path.n = 0;
}

static void rproc_free(struct rproc *p)
{
	if (p->open)
		sampler_close(&p->s);
	addrmap_release(&p->thread_roots);
	dump_release(&p->d);
	for (size_t i = 0; i < p->nmemos; i++) {
		free(p->memos[i].raw);
		profile_path_release(&p->memos[i].path);
	}
	free(p->memos);
	free(p);
}

static struct thread_memo *thread_memo(struct rproc *p, size_t i)
{
	if (i >= p->nmemos) {
		p->memos = xrealloc(p->memos, (i + 1) * sizeof(*p->memos));
		memset(p->memos + p->nmemos, 0,
		       (i + 1 - p->nmemos) * sizeof(*p->memos));
		p->nmemos = i + 1;
	}
	return &p->memos[i];
}

/* The profile's frame for f at depth n of the path, through the memo. */
static uint32_t memo_frame(struct recorder *rec, struct thread_memo *m,
			   size_t n, const struct frame *f)
{
	int line = rec->o->function ? 0 : f->line;
	struct raw_frame *raw = &m->raw[n];

	if (n < m->path.n && raw->function == f->function &&
	    raw->file == f->file && raw->line == line)
		return m->path.frames[n];
	raw->function = f->function;
	raw->file = f->file;
	raw->line = line;
	return profile_frame(&rec->prof, f->function, f->file, line);
}

static uint32_t thread_root(struct recorder *rec, struct rproc *p,
			    const struct thread_stack *t)
{
	uint64_t key = t->ident ? t->ident : t->tstate;
	uintptr_t v = (uintptr_t)addrmap_get(&p->thread_roots, key);
	char label[256];

	/* Names are read once a second: a thread seen with its name keeps
	 * it (replaced when it is read again). */
	if (v && !t->name)
		return (uint32_t)(v - 1);
	if (t->name && t->tid > 0)
		snprintf(label, sizeof(label), "thread %s (tid %lld)", t->name,
			 (long long)t->tid);
	else if (t->name)
		snprintf(label, sizeof(label), "thread %s", t->name);
	else if (t->tid > 0)
		snprintf(label, sizeof(label), "thread (tid %lld)",
			 (long long)t->tid);
	else
		snprintf(label, sizeof(label), "thread 0x%llx",
			 (unsigned long long)t->ident);
	v = profile_frame_text(&rec->prof, label, NULL, -1);
	/* Until a name is known, ask again at the next name refresh. */
	if (t->name && key)
		addrmap_put(&p->thread_roots, key, (void *)(v + 1));
	return (uint32_t)v;
}

static void add_thread(struct recorder *rec, struct rproc *p, size_t ti,
		       const struct thread_stack *t)
{
	const struct record_opts *o = rec->o;
	struct thread_memo *m;
	size_t n = 0, roots, depth;

	if (!o->idle && t->status == THREAD_IDLE)
		return;
	if (o->gil && t->holds_gil != 1)
		return;
	if (t->error) {
		/* A torn or truncated stack: counted, never merged. */
		rec->errors++;
		if (!rec->first_error[0])
			snprintf(rec->first_error, sizeof(rec->first_error),
				 "%s", t->error);
		return;
	}
	if (!t->nframes)
		return;
	m = thread_memo(p, ti);
	depth = t->nframes + 2 < MAX_DEPTH ? t->nframes + 2 : MAX_DEPTH;
	if (depth > m->cap) {
		m->raw = xrealloc(m->raw, depth * sizeof(*m->raw));
		m->cap = depth;
	}
	if (o->subprocesses)
		rec->path[n++] = p->root;
	if (o->threads)
		rec->path[n++] = thread_root(rec, p, t);
	roots = n;
	/* Roots never match the memo (their label may change). */
	for (size_t i = 0; i < n; i++)
		m->raw[i] = (struct raw_frame){ NULL, NULL, -2 };
	for (size_t i = t->nframes; i-- > 0 && n < MAX_DEPTH; n++)
		rec->path[n] = memo_frame(rec, m, n, &t->frames[i]);
	profile_add_path(&rec->prof, &m->path, rec->path, n, 1);
	rec->stacks++;
	if (rec->h && rec->h->stack)
		rec->h->stack(rec->h->arg, p->pid, t, rec->path + roots,
			      n - roots);
}

/* One sample of one process.  Returns SS_EGONE when it has exited. */
static int sample_proc(struct recorder *rec, struct rproc *p)
{
	struct dump *d = &p->d;
	struct err e = { 0 };
	int rc;

	rec->walk.no_thread_names = true;
	if (rec->o->threads &&
	    (!p->names_at || rec->now - p->names_at >= NAMES_NS)) {
		rec->walk.no_thread_names = false;
		p->names_at = rec->now;
	}
	dump_reset(d);
	rc = sampler_sample(&p->s, rec->o->blocking, !rec->o->idle, &rec->walk,
			    d, &e);
	if (rc == SS_EGONE || (rc && !procfs_pid_exists(p->pid))) {
		p->gone = true;
		rc = SS_EGONE;
	} else if (rc) {
		/* The thread list itself was unreadable this time. */
		rec->failed_walks++;
		rec->errors++;
		if (!rec->first_error[0])
			snprintf(rec->first_error, sizeof(rec->first_error),
				 "%s", e.msg);
		rc = 0;
	} else {
		if (rec->h && rec->h->sample)
			rec->h->sample(rec->h->arg, p->pid, d);
		for (size_t i = 0; i < d->nthreads; i++)
			add_thread(rec, p, i, &d->threads[i]);
	}
	return rc;
}

/* --subprocesses: every descendant of the processes followed so far
 * (/proc/PID/task/TID/children), opened when it is Python. */
static void scan_children(struct recorder *rec)
{
	for (size_t i = 0; i < rec->nprocs && rec->nprocs < MAX_PROCS; i++) {
		struct rproc *p = rec->procs[i];
		char path[96], buf[4096];
		pid_t *tids = NULL;
		size_t ntids = 0;
		struct err e = { 0 };

		if (p->gone)
			continue;
		if (procfs_list_tids(p->pid, &tids, &ntids, &e))
			continue;
		for (size_t k = 0; k < ntids; k++) {
			ssize_t n;
			int fd;
			char *s, *end;

			snprintf(path, sizeof(path), "/proc/%d/task/%d/children",
				 (int)p->pid, (int)tids[k]);
			fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd < 0)
				continue;
			n = read(fd, buf, sizeof(buf) - 1);
			close(fd);
			if (n <= 0)
				continue;
			buf[n] = '\0';
			for (s = buf;; s = end) {
				long c = strtol(s, &end, 10);

				if (end == s)
					break;
				if (c > 0 && !rproc_find(rec, (pid_t)c) &&
				    rec->nprocs < MAX_PROCS)
					rproc_add(rec, (pid_t)c);
			}
		}
		free(tids);
	}
	for (size_t i = 0; i < rec->nprocs; i++) {
		struct rproc *p = rec->procs[i];
		struct err e = { 0 };

		if (p->open || p->gone || p->tries >= PENDING_TRIES)
			continue;
		if (rproc_open(rec, p, &e) == 0)
			continue;
		p->tries++;
		if (!procfs_pid_exists(p->pid))
			p->gone = true;
	}
}

static bool any_alive(const struct recorder *rec)
{
	for (size_t i = 0; i < rec->nprocs; i++) {
		const struct rproc *p = rec->procs[i];

		if (!p->gone && (p->open || p->tries < PENDING_TRIES))
			return true;
	}
	return false;
}

/* Every reader's code cache is checked; when one had to start over, the
 * string addresses the profile and the memos key on are forgotten
 * (thread names are kept as frames, not pointers). */
static void revalidate_caches(struct recorder *rec)
{
	bool flushed = false;

	for (size_t i = 0; i < rec->nprocs; i++)
		if (rec->procs[i]->open && !rec->procs[i]->gone &&
		    sampler_revalidate(&rec->procs[i]->s))
			flushed = true;
	if (!flushed)
		return;
	for (size_t i = 0; i < rec->nprocs; i++)
		rproc_forget_memos(rec->procs[i]);
	profile_forget_pointers(&rec->prof);
}

static void show_status(const struct recorder *rec, bool final)
{
	double secs = (double)(rec->now - rec->t0) / 1e9;

	fprintf(stderr, "\rsnakescope: recording pid %d  %.1f s  %llu samples"
		"  %.0f Hz  %llu errors  %llu late  %llu missed\033[K%s",
		rec->nprocs ? (int)rec->procs[0]->pid : 0, secs,
		(unsigned long long)rec->stacks,
		secs > 0 ? (double)rec->ticks / secs : 0.0,
		(unsigned long long)rec->errors, (unsigned long long)rec->late,
		(unsigned long long)rec->missed, final ? "\n" : "");
}

/* What hooks see of the session now. */
static struct record_view view_of(const struct recorder *rec)
{
	const struct rproc *root = rec->nprocs ? rec->procs[0] : NULL;

	return (struct record_view){
		.prof = &rec->prof, .t0 = rec->t0, .now = rec->now,
		.ticks = rec->ticks, .stacks = rec->stacks,
		.errors = rec->errors, .late = rec->late,
		.pid = root ? root->pid : 0,
		.py = root && root->open ? &root->s.lv.py : NULL,
		.gone = !root || root->gone,
		.interrupted = &rec->flags->interrupted,
	};
}

/* The hooks' wait(): nonzero when it ends sampling. */
static int hook_wait(const struct recorder *rec, int64_t until)
{
	struct record_view v;

	if (!rec->h || !rec->h->wait)
		return 0;
	v = view_of(rec);
	return rec->h->wait(rec->h->arg, &v, until);
}

/* The sampling loop: tick k is due at start + k * period (the ticker
 * says which ticks are late or missed).  So the number of samples is the
 * rate times the duration unless ticks were missed. */
static void sample_loop(struct recorder *rec, struct stop_flags *flags,
			pid_t child)
{
	const struct record_opts *o = rec->o;
	struct ticker tk;
	int64_t scan_at, status_at;
	int64_t end = o->duration > 0 ?
		(int64_t)(o->duration * 1e9) : INT64_MAX;
	bool tty = isatty(STDERR_FILENO) && !rec->h; /* hooks show their own */

	/* Wake-ups as exact as the kernel can make them (the default slack
	 * of 50 us would make every tick at 10 kHz and above late). */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	rec->t0 = rec->now = rec->flushed_at = record_now_ns();
	ticker_init(&tk, o->rate, rec->t0);
	scan_at = o->subprocesses ? rec->t0 : INT64_MAX;
	status_at = rec->t0 + STATUS_NS;
	while (!flags->interrupted) {
		bool root_gone = false;
		struct tick tick;

		rec->now = record_now_ns();
		if (tk.next - rec->t0 >= end)
			break;
		if (rec->now - rec->t0 >= end) {
			/* Due before the end, not taken. */
			rec->missed += (uint64_t)((end - (tk.next - rec->t0) +
						   tk.period - 1) / tk.period);
			break;
		}
		tick = ticker_take(&tk, rec->now);
		rec->missed += tick.missed;
		rec->late += tick.late;
		if (rec->now >= scan_at) {
			scan_children(rec);
			scan_at = rec->now + SCAN_NS;
		}
		if (rec->now - rec->flushed_at >= REVALIDATE_NS) {
			revalidate_caches(rec);
			rec->flushed_at = rec->now;
		}
		rec->ticks++;
		for (size_t i = 0; i < rec->nprocs; i++) {
			struct rproc *p = rec->procs[i];

			if (p->open && !p->gone &&
			    sample_proc(rec, p) == SS_EGONE && i == 0)
				root_gone = true;
		}
		if (root_gone && !o->subprocesses)
			break;
		if (o->subprocesses && !any_alive(rec))
			break;
		if (child > 0 && rec->procs[0]->gone && !o->subprocesses)
			break;
		ticker_advance(&tk);
		if (tty && rec->now >= status_at) {
			show_status(rec, false);
			status_at = rec->now + STATUS_NS;
		}
		if (hook_wait(rec, tk.next)) {
			rec->stopped_by_hook = true;
			break;
		}
		if (tk.next - rec->t0 >= end) {
			/* No tick left before the end: wait for the end only. */
			if (record_now_ns() < rec->t0 + end)
				ticker_wait(&tk, rec->t0 + end, &flags->interrupted);
			break;
		}
		if (record_now_ns() < tk.next)
			ticker_wait(&tk, tk.next, &flags->interrupted);
	}
	rec->now = record_now_ns();
	if (tty)
		show_status(rec, true);
}

/* Spawn mode: fork COMMAND held on a pipe until the output file is known
 * to be writable, so a bad -o never runs it. */
static int spawn_held(char **argv, int *go_fd, pid_t *pid, struct err *e)
{
	int fds[2];
	pid_t c;

	if (pipe2(fds, O_CLOEXEC))
		return err_set(e, SS_EIO, "cannot create a pipe: %s",
			       strerror(errno));
	c = fork();
	if (c < 0) {
		close(fds[0]);
		close(fds[1]);
		return err_set(e, SS_EIO, "cannot fork: %s", strerror(errno));
	}
	if (c == 0) {
		char go;

		close(fds[1]);
		if (read(fds[0], &go, 1) != 1)
			_exit(127);
		execvp(argv[0], argv);
		fprintf(stderr, "snakescope: cannot run '%s': %s\n", argv[0],
			strerror(errno));
		_exit(127);
	}
	close(fds[0]);
	*go_fd = fds[1];
	*pid = c;
	return 0;
}

static int child_exit_status(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}

/* Spawn mode: wait until the child runs an initialised interpreter. */
static int open_spawned(struct recorder *rec, struct rproc *p,
			struct stop_flags *flags, pid_t child, int *reaped_status,
			struct err *e)
{
	int64_t start = record_now_ns(), limit = rec->o->duration > 0 ?
		(int64_t)(rec->o->duration * 1e9) : INT64_MAX;
	struct timespec ms = { 0, 1000000 };
	int rc;

	for (;;) {
		int status;

		err_clear(e);
		rc = rproc_open(rec, p, e);
		if (!rc)
			return 0;
		if (rc == SS_EPERM || rc == SS_EVERSION)
			return rc;
		if (waitpid(child, &status, WNOHANG) == child) {
			p->gone = true;
			*reaped_status = status;
			return err_set(e, SS_EGONE, "process %d exited before "
				       "its Python could be read (status %d)",
				       (int)child, child_exit_status(status));
		}
		if (flags->interrupted || record_now_ns() - start >= limit)
			return rc;
		/* With --subprocesses a wrapper (shell, launcher) is fine:
		 * its Python children are followed. */
		if (rec->o->subprocesses && record_now_ns() - start > 1000000000LL) {
			p->tries = PENDING_TRIES;
			return 0;
		}
		nanosleep(&ms, NULL);
	}
}

static void default_output(const struct record_opts *o, pid_t pid, char *buf,
			   size_t size)
{
	time_t t = time(NULL);
	struct tm tm;
	char when[32];

	localtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y%m%d-%H%M%S", &tm);
	snprintf(buf, size, "snakescope-%d-%s.%s", (int)pid, when,
		 formats[o->format].ext);
}

static int open_output(const char *path, FILE **out, struct err *e)
{
	*out = fopen(path, "we");
	if (!*out)
		return err_set(e, errno == EACCES ? SS_EPERM : SS_EIO,
			       "cannot write the profile to '%s': %s", path,
			       strerror(errno));
	return 0;
}

static void install_handlers(struct stop_flags *flags, struct sigaction *old_int,
			     struct sigaction *old_term)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_signal;
	sa.sa_flags = SA_SIGINFO; /* no SA_RESTART: the sleep wakes up */
	sigemptyset(&sa.sa_mask);
	stop_flags = flags;
	sigaction(SIGINT, &sa, old_int);
	sigaction(SIGTERM, &sa, old_term);
}

static void restore_handlers(const struct sigaction *old_int,
			     const struct sigaction *old_term)
{
	sigaction(SIGINT, old_int, NULL);
	sigaction(SIGTERM, old_term, NULL);
	stop_flags = NULL;
}

static void report(const struct recorder *rec, const char *path, int rate)
{
	double secs = (double)(rec->now - rec->t0) / 1e9;
	uint64_t tried = rec->stacks + rec->errors;

	fprintf(stderr, "snakescope: wrote %s: %llu samples in %.1f s (%.0f Hz "
		"achieved of %d, %llu late), %llu errors (%.2f%%), %llu missed\n",
		path, (unsigned long long)rec->stacks, secs,
		secs > 0 ? (double)rec->ticks / secs : 0.0, rate,
		(unsigned long long)rec->late, (unsigned long long)rec->errors,
		tried ? 100.0 * (double)rec->errors / (double)tried : 0.0,
		(unsigned long long)rec->missed);
	if (rec->errors && rec->first_error[0])
		fprintf(stderr, "snakescope: first error: %s\n",
			rec->first_error);
}

int cmd_record(int argc, char **argv, struct ctx *ctx)
{
	struct record_opts o = { .rate = 100 };
	int rc = parse_pid_or_command("record", argc, argv, parse_opts, &o,
				      &o.pid, &o.argv, ctx);

	if (rc)
		return rc > 0 ? 0 : rc;
	return record_run(&o, NULL, ctx);
}

/* Tell the hooks sampling begins (0: go on) or has ended. */
static int hook_begin(struct recorder *rec)
{
	struct record_view v;

	if (!rec->h || !rec->h->begin)
		return 0;
	rec->t0 = rec->now = record_now_ns();
	v = view_of(rec);
	return rec->h->begin(rec->h->arg, &v);
}

static void hook_end(const struct recorder *rec)
{
	struct record_view v;

	if (!rec->h || !rec->h->end)
		return;
	v = view_of(rec);
	rec->h->end(rec->h->arg, &v);
}

int record_run(const struct record_opts *opts, const struct record_hooks *h,
	       struct ctx *ctx)
{
	struct record_opts o = *opts;
	struct recorder rec;
	struct stop_flags flags = { 0 };
	struct sigaction old_int, old_term;
	struct profile_meta meta;
	char path_buf[4200], title[300], cmd[200];
	const char *path;
	FILE *out = NULL;
	struct rproc *root;
	pid_t child = -1;
	int go_fd = -1, rc, status = 0, reaped = -1;
	struct timespec wall;

	memset(&rec, 0, sizeof(rec));
	rec.o = &o;
	rec.h = h;
	rec.flags = &flags;
	rec.walk = (struct walk_opts){ WALK_DEFAULT_MAX_FRAMES,
				       WALK_DEFAULT_MAX_THREADS,
				       WALK_DEFAULT_MAX_INTERPS };
	rec.walk.no_thread_names = true;
	/* Hooks (top) show the GIL holder; record only filters on it. */
	rec.walk.no_gil = !o.gil && !h;
	profile_init(&rec.prof);
	rec.path = xmalloc(MAX_DEPTH * sizeof(*rec.path));

	if (o.argv) {
		rc = spawn_held(o.argv, &go_fd, &child, &ctx->err);
		if (rc)
			goto out;
		root = rproc_add(&rec, child);
	} else {
		root = rproc_add(&rec, o.pid);
		rc = rproc_open(&rec, root, &ctx->err);
		if (rc)
			goto out;
	}
	if (o.output) {
		path = o.output;
	} else {
		default_output(&o, root->pid, path_buf, sizeof(path_buf));
		path = path_buf;
	}
	rc = h ? 0 : open_output(path, &out, &ctx->err);
	install_handlers(&flags, &old_int, &old_term);
	if (child > 0) {
		if (rc) {
			/* Never run the command. */
			close(go_fd);
			waitpid(child, NULL, 0);
			child = -1;
			goto out_handlers;
		}
		if (write(go_fd, "g", 1) != 1) {
			rc = err_set(&ctx->err, SS_EIO, "cannot start '%s'",
				     o.argv[0]);
			goto out_handlers;
		}
		close(go_fd);
		go_fd = -1;
		rc = open_spawned(&rec, root, &flags, child, &reaped, &ctx->err);
		if (rc && rc != SS_EGONE && !flags.interrupted)
			goto out_handlers;
		if (rc)
			fprintf(stderr, "snakescope: %s\n", ctx->err.msg);
		rc = 0;
		err_clear(&ctx->err);
	} else if (rc) {
		goto out_handlers;
	}

	clock_gettime(CLOCK_REALTIME, &wall);
	procfs_cmdline(root->pid, cmd, sizeof(cmd));
	if (!root->gone) {
		rc = hook_begin(&rec);
		if (rc)
			goto out_handlers;
		sample_loop(&rec, &flags, child);
		hook_end(&rec);
	} else {
		rec.t0 = rec.now = record_now_ns();
	}
	/* Ctrl-C at a terminal reaches the command too; a signal sent to
	 * snakescope alone is passed on. */
	if (((flags.interrupted && flags.from_process) || rec.stopped_by_hook) &&
	    child > 0 && reaped == -1) {
		pid_t w = waitpid(child, &status, WNOHANG);

		if (w == child)
			reaped = status;
		else if (w == 0)
			kill(child, SIGINT);
	}
	if (h)
		goto out_child;

	if (o.argv && !cmd[0])
		snprintf(cmd, sizeof(cmd), "%s", o.argv[0]);
	snprintf(title, sizeof(title), "%s (pid %d)", cmd[0] ? cmd : "python",
		 (int)root->pid);
	meta = (struct profile_meta){
		.title = title, .rate_hz = o.rate,
		.start_unix_ns = (int64_t)wall.tv_sec * 1000000000LL + wall.tv_nsec,
		.duration_ns = rec.now - rec.t0,
	};
	rc = formats[o.format].write(out, &rec.prof, &meta, &ctx->err);
	if (fclose(out) && !rc)
		rc = err_set(&ctx->err, SS_EIO, "cannot write '%s': %s", path,
			     strerror(errno));
	out = NULL;
	if (!rc)
		report(&rec, path, (int)o.rate);
out_child:
	if (child > 0) {
		/* Its output and exit status pass through. */
		if (reaped != -1)
			status = reaped;
		else
			while (waitpid(child, &status, 0) < 0 && errno == EINTR)
				;
		if (!rc)
			rc = CMD_EXIT_BASE + child_exit_status(status);
		child = -1;
	}
out_handlers:
	restore_handlers(&old_int, &old_term);
out:
	if (go_fd >= 0)
		close(go_fd);
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	if (out)
		fclose(out);
	for (size_t i = 0; i < rec.nprocs; i++)
		rproc_free(rec.procs[i]);
	free(rec.procs);
	free(rec.path);
	profile_release(&rec.prof);
	return rc;
}
