/* snakescope pdb PID: a pdb session on a running process, in this
 * terminal.  The code that starts it runs like exec's (runcode.h) in the
 * chosen thread; it connects a second time to the channel and arms a pdb
 * whose input and output are that connection, set to stop at the next
 * line the thread runs in its own code.  Quitting (q, Ctrl-D, or
 * snakescope going away) clears the breakpoints and the trace function:
 * the process runs on as before. */
#include <stdio.h>
#include <unistd.h>

#include "cmd/bootstrap.h"
#include "cmd/channel.h"
#include "cmd/cmd.h"
#include "cmd/execopts.h"
#include "cmd/execsession.h"
#include "cmd/pdbterm.h"
#include "util/strbuf.h"

void cmd_pdb_usage(FILE *out)
{
	fputs("usage: snakescope pdb [--thread TID] [--timeout SEC] PID\n\n"
	      "Debug the running process PID with pdb from this terminal: the\n"
	      "session stops at the next line the thread runs (the main thread\n"
	      "unless --thread; a thread other than the main one must be\n"
	      "waiting, e.g. in a sleep or a lock).  Set breakpoints, inspect,\n"
	      "continue with c, Ctrl-C stops the running thread again; q or\n"
	      "Ctrl-D ends the session, clears the breakpoints and leaves the\n"
	      "process running as before.  The process's own stdin and stdout\n"
	      "are not touched.  On a terminal, lines are edited as in a shell\n"
	      "(arrow keys, Ctrl-A, Ctrl-E; Ctrl-C drops the line) with a\n"
	      "history (Up, Down) kept in ~/.snakescope_pdb_history; from a\n"
	      "pipe, the lines are read as they come and the end of input\n"
	      "detaches.\n\n"
	      "options:\n"
	      "  -T, --thread TID   the thread to debug (as /proc lists it)\n"
	      "  -t, --timeout SEC  how long to wait for a safe point (default 10)\n"
	      "  -h, --help         show this help\n", out);
}

/* Runs in the target through exec's bootstrap; path is appended. */
static const char pdb_py[] =
"def _snakescope_pdb(path):\n"
"    import pdb, socket, struct, sys\n"
"    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n"
"    s.connect(path)\n"
"    state = {'dead': False, 'eof': False, 'buf': b''}\n"
/* Framed as the channel's messages: 'o' output, 'p' waiting for a line
 * (the terminal side then shows the last line's text as the prompt). */
"    def send(kind, data):\n"
"        if state['dead']:\n"
"            return\n"
"        try:\n"
"            s.sendall(kind + struct.pack('>I', len(data)) + data)\n"
"        except Exception:\n"
"            state['dead'] = True\n"
"    class IO(object):\n"
"        def write(self, text):\n"
"            if not isinstance(text, bytes):\n"
"                text = text.encode('utf-8', 'replace')\n"
"            send(b'o', text)\n"
"        def flush(self):\n"
"            pass\n"
"        def readline(self):\n"
"            if b'\\n' not in state['buf']:\n"
"                send(b'p', b'')\n"
"            while not state['eof'] and b'\\n' not in state['buf']:\n"
"                try:\n"
"                    chunk = s.recv(4096)\n"
"                except Exception:\n"
"                    chunk = b''\n"
/* the user's end of input (Ctrl-D): pdb quits, and still says so */
"                if not chunk:\n"
"                    state['eof'] = True\n"
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
"            state['dead'] = state['eof'] = True\n"
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

/* Ctrl-C: run the break code in the thread, as the arming code ran. */
static void interrupt_target(void *arg)
{
	const struct exec_opts *o = arg;
	struct exec_session es;
	struct strbuf code = STRBUF_INIT;
	struct err e = { 0 };
	int rc;

	exec_payload(&code, "<snakescope-pdb>", break_py);
	rc = exec_session_start(&es, o->pid, (pid_t)o->tid, o->timeout,
				code.buf, code.len, &e);
	if (!rc) {
		rc = exec_session_results(&es, stderr, &e);
		exec_session_end(&es, rc >= 0);
	}
	if (rc)
		fprintf(stderr, "snakescope: cannot interrupt process %d: %s\n",
			o->pid, rc == 1 ? "the break code raised" : e.msg);
	strbuf_release(&code);
}

/* The arming code ran: pdb connects on its own and the session runs. */
static int run_session(struct exec_session *es, struct exec_opts *o,
		       struct err *e)
{
	int rc;

	close(es->ch.fd); /* the arming connection; pdb has its own */
	es->ch.fd = -1;
	rc = channel_accept(&es->ch, 5000, e);
	if (rc == 0)
		return err_set(e, SS_EIO, "the debugger in process %d did "
			       "not connect", o->pid);
	if (rc < 0)
		return rc;
	fprintf(stderr, "snakescope: pdb armed in process %d: it stops at the "
		"next line the thread runs; Ctrl-C stops it again, q "
		"detaches\n", o->pid);
	if (pdb_term_relay(es->ch.fd, interrupt_target, o))
		return err_set(e, SS_EIO, "terminal I/O failed");
	return 0;
}

int cmd_pdb(int argc, char **argv, struct ctx *ctx)
{
	struct exec_opts o = { 0 };
	struct exec_session es;
	struct strbuf code = STRBUF_INIT;
	int rc;

	rc = exec_opts_parse(argc, argv, false, &o, &ctx->err);
	if (rc == 1) {
		cmd_pdb_usage(stdout);
		return 0;
	}
	if (!rc && o.nrest)
		rc = err_set(&ctx->err, SS_EUSAGE, "too many arguments");
	if (rc)
		return rc;
	rc = exec_session_open(&es, o.pid, (pid_t)o.tid, &ctx->err);
	if (rc == SS_EUSAGE)
		ctx->usage_shown = 1;  /* a wrong --thread: one line says it */
	if (rc)
		return rc;
	exec_payload(&code, "<snakescope-pdb>", pdb_py);
	strbuf_addstr(&code, "try:\n    _snakescope_pdb(");
	bootstrap_literal(&code, es.ch.target_sock);
	strbuf_addstr(&code, ")\nfinally:\n    del _snakescope_pdb\n");
	rc = exec_session_run(&es, o.timeout, code.buf, code.len, &ctx->err);
	strbuf_release(&code);
	if (rc)
		return rc;
	rc = exec_session_results(&es, stderr, &ctx->err);
	if (rc == 0)
		rc = run_session(&es, &o, &ctx->err);
	exec_session_end(&es, rc >= 0);
	if (rc == 1)
		rc = CMD_EXIT_BASE + 1;
	return rc;
}
