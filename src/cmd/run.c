/* snakescope run -- CMD: run a command under supervision; report crashes
 * (and dump on demand) with native and Python stacks. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/crash.h"
#include "cmd/heldcap.h"
#include "out/crash_out.h"
#include "out/writer.h"
#include "target/corewrite.h"
#include "target/hold.h"
#include "target/spawn.h"
#include "target/supervise.h"
#include "target/supervised.h"

struct run_opts {
	struct heldcap_opts cap;
	bool native;
	bool kill_on_exit;
	const char *core_dir;
	const char *report;
	int dump_sig;
	char **argv;
};

struct run {
	const struct run_opts *o;
	struct supervisor sup;
	FILE *report;             /* NULL until first needed */
	bool report_failed;
};

void cmd_run_usage(FILE *out)
{
	fputs("usage: snakescope run [options] -- COMMAND [ARGS...]\n\n"
	      "Run COMMAND and every thread and process it starts under\n"
	      "supervision.  When one of them receives a fatal signal (SIGSEGV,\n"
	      "SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGSYS, SIGTRAP) print a crash\n"
	      "report before the signal is delivered: the signal, the faulting\n"
	      "address and what is mapped there, the crashing thread's native\n"
	      "and Python stacks with its locals, every other thread's Python\n"
	      "stack.  Then the signal is delivered unchanged.  COMMAND's input,\n"
	      "output, terminal and exit status pass through; SIGINT, SIGTERM,\n"
	      "SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 sent to snakescope are passed\n"
	      "on.  kill -USR2 <snakescope's pid> prints every supervised Python\n"
	      "process's stacks.\n\n"
	      "options:\n"
	      "  -l, --locals          also show the other threads' locals (the\n"
	      "                        crashing thread's are always shown), and in dumps\n"
	      "      --native          merge C frames into the stacks of dumps (the\n"
	      "                        crashing thread's are always merged)\n"
	      "      --max-repr N      cut each repr to N characters (default 80)\n"
	      "      --max-items N     show at most N elements of a container\n"
	      "      --core-dir DIR    also write an ELF core of a crashing process\n"
	      "                        to DIR/core.NAME.PID (for dump --core, gdb)\n"
	      "      --report FILE     write reports and dumps to FILE, not stderr\n"
	      "      --dump-signal SIG dump on SIG instead of SIGUSR2 ('none':\n"
	      "                        no dumps; SIGUSR2 is passed on)\n"
	      "      --kill-on-exit    kill the command if snakescope dies (by\n"
	      "                        default it runs on, no longer supervised)\n"
	      "  -h, --help            show this help\n\n"
	      "exit status: COMMAND's (a death by signal is reproduced); 127 when\n"
	      "COMMAND is not found, 126 when it cannot be executed\n", out);
}

static int parse_signal(const char *s, int *sig, struct err *e)
{
	char *end;
	long v;

	if (!strcmp(s, "none")) {
		*sig = 0;
		return 0;
	}
	if (!strncasecmp(s, "SIG", 3))
		s += 3;
	v = strtol(s, &end, 10);
	if (end != s && !*end && v > 0 && v < NSIG && v != SIGKILL &&
	    v != SIGSTOP) {
		*sig = (int)v;
		return 0;
	}
	for (int i = 1; i < NSIG; i++) {
		const char *a = sigabbrev_np(i);

		if (a && !strcasecmp(a, s) && i != SIGKILL && i != SIGSTOP) {
			*sig = i;
			return 0;
		}
	}
	return err_set(e, SS_EUSAGE, "run: --dump-signal wants a signal name "
		       "such as USR1, or none, not '%s'", s);
}

static int parse(int argc, char **argv, struct run_opts *o, struct ctx *ctx)
{
	static const struct option longopts[] = {
		{ "locals", no_argument, NULL, 'l' },
		{ "native", no_argument, NULL, 'N' },
		{ "max-repr", required_argument, NULL, 'R' },
		{ "max-items", required_argument, NULL, 'I' },
		{ "core-dir", required_argument, NULL, 'C' },
		{ "report", required_argument, NULL, 'r' },
		{ "dump-signal", required_argument, NULL, 'D' },
		{ "kill-on-exit", no_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c, rc;

	opterr = 0;
	/* '+': options end at COMMAND, whose own options are its own. */
	while ((c = getopt_long(argc, argv, "+lh", longopts, NULL)) != -1) {
		switch (c) {
		case 'l':
			o->cap.locals = true;
			break;
		case 'N':
			o->native = true;
			break;
		case 'R':
			rc = parse_uint_opt("--max-repr", optarg,
					    &o->cap.max_repr, 1000000, &ctx->err);
			if (rc)
				return rc;
			break;
		case 'I':
			rc = parse_uint_opt("--max-items", optarg,
					    &o->cap.max_items, 1000000,
					    &ctx->err);
			if (rc)
				return rc;
			break;
		case 'C':
			o->core_dir = optarg;
			break;
		case 'r':
			o->report = optarg;
			break;
		case 'D':
			rc = parse_signal(optarg, &o->dump_sig, &ctx->err);
			if (rc)
				return rc;
			break;
		case 'K':
			o->kill_on_exit = true;
			break;
		case 'h':
			cmd_run_usage(stdout);
			return 1;
		default:
			return err_set(&ctx->err, SS_EUSAGE,
				       "run: unknown option '%s'",
				       argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return err_set(&ctx->err, SS_EUSAGE,
			       "run: which command? (snakescope run -- "
			       "COMMAND [ARGS...])");
	o->argv = argv + optind;
	return 0;
}

static FILE *report_stream(struct run *r)
{
	if (!r->o->report)
		return stderr;
	if (!r->report && !r->report_failed) {
		r->report = fopen(r->o->report, "we");
		if (!r->report) {
			fprintf(stderr, "snakescope: cannot write the report to "
				"'%s': %s; writing it here\n", r->o->report,
				strerror(errno));
			r->report_failed = true;
		}
	}
	return r->report ? r->report : stderr;
}

static void write_core(struct run *r, struct crash_report *c,
		       const struct hold *h, const siginfo_t *si)
{
	struct err e = { 0 };

	if (!r->o->core_dir)
		return;
	if (corewrite_process(r->o->core_dir, h, c->tid, si, c->core_path,
			      sizeof(c->core_path), &e))
		snprintf(c->core_note, sizeof(c->core_note), "%s", e.msg);
}

static void on_crash(void *arg, pid_t pid, pid_t tid, const siginfo_t *si)
{
	struct run *r = arg;
	struct crash_report c;
	struct heldcap hc;
	struct source_cache src;
	struct hold h;
	struct err e = { 0 };

	if (hold_process(&h, pid, tid, si->si_signo, &e)) {
		fprintf(report_stream(r), "snakescope: process %d crashed "
			"(signal %d) but could not be held: %s\n", (int)pid,
			si->si_signo, e.msg);
		return;
	}
	crash_gather(&c, &hc, &h, tid, si, &r->o->cap);
	write_core(r, &c, &h, si);
	source_cache_init(&src, pid, NULL);
	out_crash_report(report_stream(r), &c, &src);
	source_cache_release(&src);
	crash_report_release(&c);
	heldcap_release(&hc);
	if (h.exited)
		supervisor_reaped(&r->sup, pid, h.exit_status);
	/* Every thread but the crashing one, which the supervisor lets go
	 * with its signal; none stays traced (see supervise.h). */
	hold_detach(&h);
}

static void dump_one(struct run *r, pid_t pid, FILE *out)
{
	struct heldcap hc = { 0 };
	struct source_cache src;
	struct dump d = { 0 };
	struct hold h;
	struct err e = { 0 };
	int rc = hold_process(&h, pid, 0, 0, &e);

	if (!rc) {
		rc = heldcap_capture(&hc, &h, &r->o->cap, &d, &e);
		if (h.exited)
			supervisor_reaped(&r->sup, pid, h.exit_status);
		hold_release(&h);
	}
	if (rc) {
		fprintf(out, "\nProcess %d: %s\n", (int)pid, e.msg);
	} else {
		source_cache_init(&src, pid, NULL);
		fputc('\n', out);
		out_text_dump(out, &d, &src);
		source_cache_release(&src);
	}
	dump_release(&d);
	heldcap_release(&hc);
}

static void on_dump(void *arg)
{
	struct run *r = arg;
	FILE *out = report_stream(r);
	pid_t *pids = NULL;
	size_t n = 0;

	supervised_processes(&pids, &n);
	fprintf(out, "snakescope: dump of %zu supervised process%s\n", n,
		n == 1 ? "" : "es");
	for (size_t i = 0; i < n; i++)
		dump_one(r, pids[i], out);
	fputs("snakescope: end of dump\n", out);
	fflush(out);
	free(pids);
}

/* Like a shell: 127 not found, 126 found but not executable. */
static int exec_failed(const char *cmd, int errnum)
{
	if (errnum == ENOENT && !strchr(cmd, '/')) {
		fprintf(stderr, "snakescope: %s: command not found\n", cmd);
		return CMD_EXIT_BASE + 127;
	}
	fprintf(stderr, "snakescope: %s: %s\n", cmd, strerror(errnum));
	return CMD_EXIT_BASE + (errnum == ENOENT ? 127 : 126);
}

/* Die of the signal that killed the command, without a core of our own
 * (the command dumped its own). */
static int die_like(int status)
{
	int sig = WTERMSIG(status);
	struct rlimit none = { 0, 0 };
	sigset_t set;

	fflush(stdout);
	fflush(stderr);
	setrlimit(RLIMIT_CORE, &none);
	signal(sig, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
	return CMD_EXIT_BASE + 128 + sig;
}

int cmd_run(int argc, char **argv, struct ctx *ctx)
{
	struct run_opts o = { .dump_sig = SIGUSR2 };
	struct run r = { .o = &o };
	sigset_t child_mask;
	int rc, exec_errno = 0, status = 0;

	rc = parse(argc, argv, &o, ctx);
	if (rc)
		return rc > 0 ? 0 : rc;
	o.cap.native = o.native ? NATIVE_MERGED : NATIVE_OFF;
	r.sup.ops = (struct supervise_ops){ .ctx = &r, .crash = on_crash,
					    .dump = on_dump };
	rc = supervisor_init(&r.sup, o.dump_sig, &child_mask, &ctx->err);
	if (rc)
		return rc;
	rc = spawn_traced(o.argv, o.kill_on_exit, &child_mask, &r.sup.child,
			  &exec_errno, &ctx->err);
	if (!rc && exec_errno) {
		supervisor_release(&r.sup);
		return exec_failed(o.argv[0], exec_errno);
	}
	if (!rc)
		rc = supervisor_run(&r.sup, &status, &ctx->err);
	supervisor_release(&r.sup);
	if (r.report)
		fclose(r.report);
	if (rc)
		return rc;
	if (WIFSIGNALED(status))
		return die_like(status);
	return CMD_EXIT_BASE + (WIFEXITED(status) ? WEXITSTATUS(status) : 1);
}
