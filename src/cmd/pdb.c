/* snakescope pdb PID: a pdb session on a running process, in this
 * terminal.  The code that starts it runs like exec's (runcode.h) in the
 * chosen thread; it connects a second time to the channel and arms a pdb
 * whose input and output are that connection, set to stop at the next
 * line the thread runs in its own code.  Quitting (q, Ctrl-D, or
 * snakescope going away) clears the breakpoints and the trace function:
 * the process runs on as before. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cmd/bootstrap.h"
#include "cmd/channel.h"
#include "cmd/cmd.h"
#include "cmd/execsession.h"
#include "util/strbuf.h"

#define DEFAULT_TIMEOUT 10

void cmd_pdb_usage(FILE *out)
{
	fputs("usage: snakescope pdb [--thread TID] [--timeout SEC] PID\n\n"
	      "Debug the running process PID with pdb from this terminal: the\n"
	      "session stops at the next line the thread runs (the main thread\n"
	      "unless --thread; a thread other than the main one must be\n"
	      "waiting, e.g. in a sleep or a lock).  Set breakpoints, inspect,\n"
	      "continue with c, Ctrl-C stops the running thread again; q or\n"
	      "Ctrl-D ends the session, clears the breakpoints and leaves the\n"
	      "process running as before.  The\n"
	      "process's own stdin and stdout are not touched.\n\n"
	      "options:\n"
	      "  -T, --thread TID   the thread to debug (as /proc lists it)\n"
	      "  -t, --timeout SEC  how long to wait for a safe point (default 10)\n"
	      "  -h, --help         show this help\n", out);
}

/* Runs in the target through exec's bootstrap; path is appended. */
static const char pdb_py[] =
"def _snakescope_pdb(path):\n"
"    import pdb, socket, sys\n"
"    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n"
"    s.connect(path)\n"
"    state = {'dead': False, 'buf': b''}\n"
"    class IO(object):\n"
"        def write(self, text):\n"
"            if state['dead']:\n"
"                return\n"
"            if not isinstance(text, bytes):\n"
"                text = text.encode('utf-8', 'replace')\n"
"            try:\n"
"                s.sendall(text)\n"
"            except Exception:\n"
"                state['dead'] = True\n"
"        def flush(self):\n"
"            pass\n"
"        def readline(self):\n"
"            while not state['dead'] and b'\\n' not in state['buf']:\n"
"                try:\n"
"                    chunk = s.recv(4096)\n"
"                except Exception:\n"
"                    chunk = b''\n"
"                if not chunk:\n"
"                    state['dead'] = True\n"
"                state['buf'] += chunk\n"
"            line, sep, rest = state['buf'].partition(b'\\n')\n"
"            state['buf'] = rest\n"
"            return (line + sep).decode('utf-8', 'replace')\n"
"        def isatty(self):\n"
"            return False\n"
"    io = IO()\n"
"    class P(pdb.Pdb):\n"
"        def do_quit(self, arg):\n"
"            self.clear_all_breaks()\n"
"            self.set_continue()\n"
"            sys.settrace(None)\n"
"            io.write('snakescope: detached, the process runs on\\n')\n"
"            state['dead'] = True\n"
"            if getattr(pdb, '_snakescope_session', None) is self:\n"
"                del pdb._snakescope_session\n"
"            try:\n"
"                s.close()\n"
"            except Exception:\n"
"                pass\n"
"            return 1\n"
"        do_q = do_exit = do_EOF = do_quit\n"
"        def interaction(self, *args, **kw):\n"
"            self._snakescope_stopped = True\n"
"            try:\n"
"                return pdb.Pdb.interaction(self, *args, **kw)\n"
"            finally:\n"
"                self._snakescope_stopped = False\n"
"        def break_at(self, f):\n"
"            top = f\n"
"            while f is not None:\n"
"                f.f_trace = self.trace_dispatch\n"
"                self.botframe = f\n"
"                f = f.f_back\n"
"            # stop at the next line of the thread's own frame, not ours\n"
"            self.set_next(top)\n"
"            sys.settrace(self.trace_dispatch)\n"
"    try:\n"
"        p = P(stdin=io, stdout=io, nosigint=True, readrc=False)\n"
"    except TypeError:\n"
"        p = P(stdin=io, stdout=io)\n"
"    p.use_rawinput = False\n"
"    f = sys._getframe(1)\n"
"    ours = ('<snakescope>', '<snakescope-pdb>', '<string>')\n"
"    while f is not None and f.f_code.co_filename in ours:\n"
"        f = f.f_back\n"
"    if f is None:\n"
"        raise RuntimeError('the thread runs no Python code to stop in')\n"
"    p.reset()\n"
"    pdb._snakescope_session = p\n"
"    p.break_at(f)\n";

/* Ctrl-C: the session's pdb stops the thread again at its next line. */
static const char break_py[] =
"def _snakescope_break():\n"
"    import pdb, sys\n"
"    p = getattr(pdb, '_snakescope_session', None)\n"
"    if p is None:\n"
"        raise RuntimeError('the pdb session has ended')\n"
"    if getattr(p, '_snakescope_stopped', False):\n"
"        return\n"
"    f = sys._getframe(1)\n"
"    ours = ('<snakescope>', '<snakescope-pdb>', '<string>')\n"
"    while f is not None and f.f_code.co_filename in ours:\n"
"        f = f.f_back\n"
"    if f is not None:\n"
"        p.break_at(f)\n"
"try:\n"
"    _snakescope_break()\n"
"finally:\n"
"    del _snakescope_break\n";

struct pdb_opts {
	int pid;
	unsigned tid;
	unsigned timeout;
};

static int parse_opts(int argc, char **argv, struct pdb_opts *o,
		      struct err *e)
{
	static const struct option longopts[] = {
		{ "thread", required_argument, NULL, 'T' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, rc;

	o->timeout = DEFAULT_TIMEOUT;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "T:t:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'T':
			rc = parse_uint_opt("--thread", optarg, &o->tid,
					    0x7fffffff, e);
			break;
		case 't':
			rc = parse_uint_opt("--timeout", optarg, &o->timeout,
					    86400, e);
			break;
		case 'h':
			return 1;
		default:
			return err_set(e, SS_EUSAGE, "unknown option '%s'",
				       argv[optind - 1]);
		}
		if (rc)
			return rc;
	}
	if (optind != argc - 1)
		return err_set(e, SS_EUSAGE, optind == argc ? "no PID given" :
			       "too many arguments");
	return parse_pid(argv[optind], &o->pid, e);
}

/* The arming code's own result: 0 armed, 1 it raised (shown). */
static int arm_result(struct channel *ch, struct err *e)
{
	for (;;) {
		char kind = 0, *buf = NULL;
		size_t len = 0;
		int rc = channel_recv(ch, &kind, &buf, &len, e);

		if (rc < 0)
			return rc;
		if (rc == 1)
			return exec_session_lost(ch->pid, e);
		if (kind == MSG_EXC || kind == MSG_ERR || kind == MSG_OUT)
			fwrite(buf, 1, len, stderr);
		free(buf);
		if (kind == MSG_DONE)
			return 0;
		if (kind == MSG_EXC)
			return 1;
	}
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* Ctrl-C: run the break code in the thread, as the arming code ran. */
static void interrupt_target(const struct pdb_opts *o)
{
	struct exec_session es;
	struct strbuf code = STRBUF_INIT;
	struct err e = { 0 };
	int rc;

	strbuf_addstr(&code, "<snakescope-pdb>");
	strbuf_add(&code, "", 1);
	strbuf_addstr(&code, break_py);
	rc = exec_session_start(&es, o->pid, o->timeout, (pid_t)o->tid,
				code.buf, code.len, &e);
	if (!rc) {
		rc = arm_result(&es.ch, &e);
		exec_session_end(&es, rc >= 0);
	}
	if (rc)
		fprintf(stderr, "snakescope: cannot interrupt process %d: %s\n",
			o->pid, rc == 1 ? "the break code raised" : e.msg);
	strbuf_release(&code);
}

/* Terminal <-> session until either side ends it. */
static int relay(int sock, const struct pdb_opts *o)
{
	struct pollfd p[2] = { { .fd = 0, .events = POLLIN },
			       { .fd = sock, .events = POLLIN } };
	char buf[4096];
	bool in_open = true;

	for (;;) {
		ssize_t n;

		p[0].fd = in_open ? 0 : -1;
		if (interrupted) {
			interrupted = 0;
			interrupt_target(o);
			continue;
		}
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (p[1].revents) {
			n = read(sock, buf, sizeof(buf));
			if (n <= 0)
				return 0;
			if (write_all(1, buf, (size_t)n))
				return -1;
		}
		if (in_open && p[0].revents) {
			n = read(0, buf, sizeof(buf));
			if (n <= 0) {
				/* Ctrl-D: the session quits and detaches */
				shutdown(sock, SHUT_WR);
				in_open = false;
			} else if (write_all(sock, buf, (size_t)n)) {
				return 0;
			}
		}
	}
}

int cmd_pdb(int argc, char **argv, struct ctx *ctx)
{
	struct pdb_opts o = { 0 };
	struct exec_session es;
	struct strbuf code = STRBUF_INIT;
	int rc;

	rc = parse_opts(argc, argv, &o, &ctx->err);
	if (rc == 1) {
		cmd_pdb_usage(stdout);
		return 0;
	}
	if (rc)
		return rc;
	rc = exec_session_open(&es, o.pid, &ctx->err);
	if (rc)
		return rc;
	strbuf_addstr(&code, "<snakescope-pdb>");
	strbuf_add(&code, "", 1);
	strbuf_addstr(&code, pdb_py);
	strbuf_addstr(&code, "try:\n    _snakescope_pdb(");
	bootstrap_literal(&code, es.ch.target_sock);
	strbuf_addstr(&code, ")\nfinally:\n    del _snakescope_pdb\n");
	rc = exec_session_run(&es, o.timeout, (pid_t)o.tid, code.buf,
			      code.len, &ctx->err);
	if (rc) {
		strbuf_release(&code);
		return rc;
	}
	rc = arm_result(&es.ch, &ctx->err);
	if (rc == 0) {
		close(es.ch.fd); /* the arming connection; pdb has its own */
		es.ch.fd = -1;
		rc = channel_accept(&es.ch, 5000, &ctx->err);
		if (rc == 0)
			rc = err_set(&ctx->err, SS_EIO, "the debugger in "
				     "process %d did not connect", o.pid);
		else if (rc == 1) {
			struct sigaction sa = { .sa_handler = on_sigint };

			fprintf(stderr, "snakescope: pdb armed in process %d: "
				"it stops at the next line the thread runs; "
				"Ctrl-C stops it again, q detaches\n", o.pid);
			/* no SA_RESTART: poll() returns to look at the flag */
			sigaction(SIGINT, &sa, NULL);
			rc = relay(es.ch.fd, &o) ? err_set(&ctx->err, SS_EIO,
							   "terminal I/O failed")
						 : 0;
			signal(SIGINT, SIG_DFL);
		}
	}
	exec_session_end(&es, rc >= 0);
	strbuf_release(&code);
	if (rc == 1)
		rc = CMD_EXIT_BASE + 1;
	return rc;
}
