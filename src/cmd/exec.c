/* snakescope exec PID -c CODE | FILE: run Python code inside a live
 * interpreter at a safe point, with its output and traceback coming back
 * here.  How the safe point is reached: runcode.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/execopts.h"
#include "cmd/execsession.h"
#include "util/strbuf.h"

#define MAX_CODE (16u << 20)

void cmd_exec_usage(FILE *out)
{
	fputs("usage: snakescope exec [--thread TID] [--timeout SEC] PID -c CODE\n"
	      "       snakescope exec [--thread TID] [--timeout SEC] PID FILE\n\n"
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
	      "  -T, --thread TID   run it in this thread (as /proc lists\n"
	      "                     it), which must be waiting in a system\n"
	      "                     call (a sleep, a lock, a read) unless it\n"
	      "                     is the main thread\n"
	      "  -t, --timeout SEC  how long to wait for a safe point (default\n"
	      "                     10); if none is reached (a thread holds the\n"
	      "                     GIL in native code), exec gives up, says\n"
	      "                     why, and the code never runs\n"
	      "  -h, --help         show this help\n\n"
	      "exit status: 0 the code ran, 1 it raised (the traceback is\n"
	      "shown) or exec failed, 3 permission denied\n", out);
}

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

/* The positional arguments after PID: -c CODE or one FILE. */
static int check_code_args(const struct exec_opts *o, struct err *e)
{
	if (o->code && o->nrest)
		return err_set(e, SS_EUSAGE, "give either -c CODE or FILE, "
			       "not both");
	if (!o->code && o->nrest != 1)
		return err_set(e, SS_EUSAGE, o->nrest ?
			       "too many arguments" :
			       "no code given (-c CODE or FILE)");
	return 0;
}

int cmd_exec(int argc, char **argv, struct ctx *ctx)
{
	struct exec_opts o = { 0 };
	struct exec_session es;
	struct strbuf msg = STRBUF_INIT;
	const char *file;
	char *code = NULL;
	int rc;

	rc = exec_opts_parse(argc, argv, true, &o, &ctx->err);
	if (rc == 1) {
		cmd_exec_usage(stdout);
		return 0;
	}
	if (!rc)
		rc = check_code_args(&o, &ctx->err);
	if (rc)
		return rc;
	file = o.code ? NULL : o.rest[0];
	if (file) {
		rc = read_code(file, &code, &ctx->err);
		if (rc)
			return rc;
	}
	exec_payload(&msg, file ? (strcmp(file, "-") ? file : "<stdin>")
				: "<exec>", o.code ? o.code : code);
	rc = exec_session_start(&es, o.pid, (pid_t)o.tid, o.timeout, msg.buf,
				msg.len, &ctx->err);
	if (rc == SS_EUSAGE)
		ctx->usage_shown = 1;  /* a wrong --thread: one line says it */
	if (rc)
		goto out;
	rc = exec_session_results(&es, stdout, &ctx->err);
	exec_session_end(&es, rc >= 0);
	if (rc == 1)
		rc = CMD_EXIT_BASE + 1;
out:
	strbuf_release(&msg);
	free(code);
	return rc;
}
