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
	      "continue with c; q or Ctrl-D ends the session, clears the\n"
	      "breakpoints and leaves the process running as before.  The\n"
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
"            try:\n"
"                s.close()\n"
"            except Exception:\n"
"                pass\n"
"            return 1\n"
"        do_q = do_exit = do_EOF = do_quit\n"
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
"    top = f\n"
"    while f is not None:\n"
"        f.f_trace = p.trace_dispatch\n"
"        p.botframe = f\n"
"        f = f.f_back\n"
"    # stop at the next line of the thread's own frame, not in ours\n"
"    p.set_next(top)\n"
"    sys.settrace(p.trace_dispatch)\n";

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

/* Terminal <-> session until either side ends it. */
static int relay(int sock)
{
	struct pollfd p[2] = { { .fd = 0, .events = POLLIN },
			       { .fd = sock, .events = POLLIN } };
	char buf[4096];
	bool in_open = true;

	for (;;) {
		ssize_t n;

		p[0].fd = in_open ? 0 : -1;
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
			fprintf(stderr, "snakescope: pdb armed in process %d: "
				"it stops at the next line the thread runs\n",
				o.pid);
			rc = relay(es.ch.fd) ? err_set(&ctx->err, SS_EIO,
						       "terminal I/O failed")
					     : 0;
		}
	}
	exec_session_end(&es, rc >= 0);
	strbuf_release(&code);
	if (rc == 1)
		rc = CMD_EXIT_BASE + 1;
	return rc;
}
