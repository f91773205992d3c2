/* snakescope exec PID -c CODE | FILE: run Python code inside a live
 * interpreter at a safe point, with its output and traceback coming back
 * here.  How the safe point is reached: runcode.h. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd/bootstrap.h"
#include "cmd/channel.h"
#include "cmd/cmd.h"
#include "cmd/execsession.h"
#include "cmd/live.h"
#include "cmd/runcode.h"
#include "util/strbuf.h"

#define DEFAULT_TIMEOUT 10
#define MAX_TIMEOUT 86400
#define MAX_CODE (16u << 20)

void cmd_exec_usage(FILE *out)
{
	fputs("usage: snakescope exec [--timeout SEC] PID -c CODE\n"
	      "       snakescope exec [--timeout SEC] PID FILE\n\n"
	      "Run Python code inside the running process PID, in its main\n"
	      "interpreter, at a point where the interpreter is consistent, and\n"
	      "wait for it to finish.  The code runs in __main__'s namespace;\n"
	      "what it prints to sys.stdout/sys.stderr and the traceback of an\n"
	      "exception it raises come back here, never to the process's own\n"
	      "output.  The process then goes on as before: blocking calls it\n"
	      "was in are resumed, not failed.  FILE '-' reads the code from\n"
	      "standard input.\n\n"
	      "options:\n"
	      "  -c, --code CODE    the code to run (instead of FILE)\n"
	      "  -t, --timeout SEC  how long to wait for a safe point (default\n"
	      "                     10); if none is reached (a thread holds the\n"
	      "                     GIL in native code), exec gives up, says\n"
	      "                     why, and the code never runs\n"
	      "  -h, --help         show this help\n\n"
	      "exit status: 0 the code ran, 1 it raised (the traceback is\n"
	      "shown) or exec failed, 3 permission denied\n", out);
}

struct exec_opts {
	int pid;
	unsigned timeout;
	const char *code;
	const char *file;
};

static int read_code(const char *file, char **out, struct err *e)
{
	struct strbuf sb = STRBUF_INIT;
	char buf[65536];
	int fd = strcmp(file, "-") ? open(file, O_RDONLY | O_CLOEXEC) : 0;
	ssize_t n;

	if (fd < 0)
		return err_set(e, SS_EUSAGE, "cannot open '%s': %s", file,
			       strerror(errno));
	while ((n = read(fd, buf, sizeof(buf))) > 0 && sb.len < MAX_CODE)
		strbuf_add(&sb, buf, (size_t)n);
	if (fd)
		close(fd);
	if (n < 0) {
		strbuf_release(&sb);
		return err_set(e, SS_EIO, "cannot read '%s': %s", file,
			       strerror(errno));
	}
	strbuf_addstr(&sb, "");
	*out = strbuf_detach(&sb);
	return 0;
}

static int parse_opts(int argc, char **argv, struct exec_opts *o,
		      struct err *e)
{
	static const struct option longopts[] = {
		{ "code", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, rc;

	o->timeout = DEFAULT_TIMEOUT;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "c:t:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->code = optarg;
			break;
		case 't':
			rc = parse_uint_opt("--timeout", optarg, &o->timeout,
					    MAX_TIMEOUT, e);
			if (rc)
				return rc;
			break;
		case 'h':
			return 1;
		default:
			return err_set(e, SS_EUSAGE, "unknown option '%s'",
				       argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return err_set(e, SS_EUSAGE, "no PID given");
	rc = parse_pid(argv[optind++], &o->pid, e);
	if (rc)
		return rc;
	if (o->code && optind != argc)
		return err_set(e, SS_EUSAGE, "give either -c CODE or FILE, "
			       "not both");
	if (!o->code && optind != argc - 1)
		return err_set(e, SS_EUSAGE, optind == argc ?
			       "no code given (-c CODE or FILE)" :
			       "too many arguments");
	o->file = o->code ? NULL : argv[optind];
	return 0;
}

/* Relay the code's output until it finishes: 0 ran, 1 raised. */
static int relay(struct channel *ch, struct err *e)
{
	for (;;) {
		char kind = 0, *buf = NULL;
		size_t len = 0;
		int rc = channel_recv(ch, &kind, &buf, &len, e);

		if (rc < 0)
			return rc;
		if (rc == 1)
			return exec_session_lost(ch->pid, e);
		switch (kind) {
		case MSG_OUT:
			fwrite(buf, 1, len, stdout);
			fflush(stdout);
			break;
		case MSG_ERR:
		case MSG_EXC:
			fflush(stdout);
			fwrite(buf, 1, len, stderr);
			break;
		}
		free(buf);
		if (kind == MSG_DONE)
			return 0;
		if (kind == MSG_EXC)
			return 1;
	}
}

int cmd_exec(int argc, char **argv, struct ctx *ctx)
{
	struct exec_opts o = { 0 };
	struct exec_session es;
	struct strbuf msg = STRBUF_INIT;
	char *code = NULL;
	int rc;

	rc = parse_opts(argc, argv, &o, &ctx->err);
	if (rc == 1) {
		cmd_exec_usage(stdout);
		return 0;
	}
	if (rc)
		return rc;
	if (o.file) {
		rc = read_code(o.file, &code, &ctx->err);
		if (rc)
			return rc;
	}
	strbuf_addstr(&msg, o.file ? (strcmp(o.file, "-") ? o.file : "<stdin>")
				   : "<exec>");
	strbuf_add(&msg, "", 1);
	strbuf_addstr(&msg, o.code ? o.code : code);
	rc = exec_session_start(&es, o.pid, o.timeout, 0, msg.buf, msg.len,
				&ctx->err);
	if (rc)
		goto out;
	rc = relay(&es.ch, &ctx->err);
	exec_session_end(&es, rc >= 0);
	if (rc == 1)
		rc = CMD_EXIT_BASE + 1;
out:
	strbuf_release(&msg);
	free(code);
	return rc;
}
