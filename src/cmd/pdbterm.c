/* See pdbterm.h. */
#include "cmd/pdbterm.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <editline/readline.h>

#include "cmd/bootstrap.h"
#include "cmd/channel.h"
#include "util/strbuf.h"

#define FRAME_HDR 5
#define MAX_FRAME (64u << 20)
#define HISTORY_LEN 1000
#define HISTORY_FILE ".snakescope_pdb_history"

struct term {
	int sock;
	bool edit;          /* libedit on a terminal */
	bool reading;       /* edit: a prompt is up, libedit has the tty */
	bool in_open;       /* the user has not ended the input (Ctrl-D) */
	struct strbuf in;   /* bytes from the target, not yet a whole frame */
	struct strbuf tail; /* edit: output after its last newline, held
			     * back because it may be the next prompt */
	char *prompt;
	char history[PATH_MAX]; /* the history file, or "" for none */
};

/* libedit's line callback takes no argument: the session it belongs to.
 * One pdb session per process, set for the time of pdb_term_relay(). */
static struct term *session;

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* To stdout through stdio, where libedit writes too: one order. */
static int out(const char *p, size_t n)
{
	if (n && fwrite(p, 1, n, stdout) != n)
		return -1;
	return fflush(stdout) ? -1 : 0;
}

/* The user is done (Ctrl-D, or stdin ended): pdb reads EOF, which quits
 * the session and detaches. */
static void end_input(struct term *t)
{
	shutdown(t->sock, SHUT_WR);
	t->in_open = false;
}

static void on_line(char *line)
{
	struct term *t = session;

	rl_callback_handler_remove();
	t->reading = false;
	if (!line) {
		out("\n", 1);
		end_input(t);
		return;
	}
	if (*line)
		add_history(line);
	/* a failed send shows as the socket's end in the relay */
	if (!channel_send_raw(t->sock, line, strlen(line)))
		channel_send_raw(t->sock, "\n", 1);
	free(line);
}

static void start_prompt(struct term *t)
{
	if (t->reading)  /* a second prompt without a line: show it anew */
		rl_callback_handler_remove();
	free(t->prompt);
	t->prompt = strbuf_detach(&t->tail);
	rl_callback_handler_install(t->prompt, on_line);
	t->reading = true;
}

static int flush_tail(struct term *t)
{
	int rc = out(t->tail.buf, t->tail.len);

	strbuf_reset(&t->tail);
	return rc;
}

static int show_output(struct term *t, const char *buf, size_t len)
{
	const char *nl;
	size_t whole;

	if (!t->edit)
		return out(buf, len);
	if (t->reading) {
		/* not expected while pdb waits: give the tty back first */
		rl_callback_handler_remove();
		t->reading = false;
		out("\n", 1);
	}
	strbuf_add(&t->tail, buf, len);
	nl = memrchr(t->tail.buf, '\n', t->tail.len);
	if (!nl)
		return 0;
	whole = (size_t)(nl - t->tail.buf) + 1;
	if (out(t->tail.buf, whole))
		return -1;
	memmove(t->tail.buf, t->tail.buf + whole, t->tail.len - whole);
	t->tail.len -= whole;
	t->tail.buf[t->tail.len] = '\0';
	return 0;
}

static int on_frame(struct term *t, char kind, const char *buf, size_t len)
{
	if (kind == MSG_OUT)
		return show_output(t, buf, len);
	if (kind == MSG_PROMPT && t->edit)
		return t->in_open ? (start_prompt(t), 0) : flush_tail(t);
	return 0;
}

/* Whole frames out of t->in: 0, or -1 (a frame too large, an output
 * error). */
static int take_frames(struct term *t)
{
	size_t at = 0;
	int rc = 0;

	while (!rc && t->in.len - at >= FRAME_HDR) {
		const unsigned char *h = (const unsigned char *)t->in.buf + at;
		uint32_t n = (uint32_t)h[1] << 24 | (uint32_t)h[2] << 16 |
			     (uint32_t)h[3] << 8 | h[4];

		if (n > MAX_FRAME)
			return -1;
		if (t->in.len - at - FRAME_HDR < n)
			break;
		rc = on_frame(t, (char)h[0], (const char *)h + FRAME_HDR, n);
		at += FRAME_HDR + n;
	}
	memmove(t->in.buf, t->in.buf + at, t->in.len - at);
	t->in.len -= at;
	return rc;
}

/* 1 when the target ended the session, 0, or -1. */
static int from_target(struct term *t)
{
	char buf[4096];
	ssize_t n = read(t->sock, buf, sizeof(buf));

	if (n < 0 && errno == EINTR)
		return 0;
	if (n <= 0)
		return 1;
	strbuf_add(&t->in, buf, (size_t)n);
	return take_frames(t);
}

static int from_user(struct term *t, short revents)
{
	char buf[4096];
	ssize_t n;

	if (t->edit) {
		if (revents & POLLIN) {
			rl_callback_read_char();
			return 0;
		}
		/* the terminal hung up */
		rl_callback_handler_remove();
		t->reading = false;
		end_input(t);
		return 0;
	}
	n = read(0, buf, sizeof(buf));
	if (n < 0 && errno == EINTR)
		return 0;
	if (n <= 0)
		end_input(t);
	else if (channel_send_raw(t->sock, buf, (size_t)n))
		return 1;
	return 0;
}

/* Ctrl-C at the prompt drops the line being typed, as shells do; while
 * the target runs it stops the target in the debugger. */
static void on_interrupt(struct term *t, pdb_interrupt_fn interrupt,
			 void *arg)
{
	if (t->reading) {
		rl_callback_handler_remove();
		out("\n", 1);
		rl_callback_handler_install(t->prompt, on_line);
		return;
	}
	interrupt(arg);
}

/* ~/.snakescope_pdb_history, as Python keeps ~/.python_history (libedit
 * writes it 0600).  No HOME, or not an absolute one: no history file. */
static void history_file(struct term *t)
{
	const char *home = getenv("HOME");
	int n;

	t->history[0] = '\0';
	if (!home || home[0] != '/')
		return;
	n = snprintf(t->history, sizeof(t->history), "%s/%s", home,
		     HISTORY_FILE);
	if (n < 0 || (size_t)n >= sizeof(t->history))
		t->history[0] = '\0';
}

static void setup_editing(struct term *t)
{
	t->edit = isatty(0) && isatty(1);
	if (!t->edit)
		return;
	/* libedit's own handlers re-raise signals to the whole process
	 * group: ours alone handle SIGINT (the interrupt above) */
	rl_catch_signals = 0;
	rl_catch_sigwinch = 0;
	rl_readline_name = "snakescope-pdb";
	rl_instream = stdin;
	rl_outstream = stdout;
	rl_initialize();
	stifle_history(HISTORY_LEN);
	history_file(t);
	if (t->history[0])
		read_history(t->history);  /* none yet is fine */
}

static int relay(struct term *t, pdb_interrupt_fn interrupt, void *arg)
{
	struct pollfd p[2] = { { .fd = 0, .events = POLLIN },
			       { .fd = t->sock, .events = POLLIN } };

	sigset_t intr, open_mask;

	sigemptyset(&intr);
	sigaddset(&intr, SIGINT);
	for (;;) {
		int rc;

		/* SIGINT held from the flag's check to the wait, which lets
		 * it in: a Ctrl-C between the two ends the wait rather than
		 * waiting, unseen, for the target's next output (CI: the
		 * session hung after ^C while the target ran) */
		sigprocmask(SIG_BLOCK, &intr, &open_mask);
		if (interrupted) {
			interrupted = 0;
			sigprocmask(SIG_SETMASK, &open_mask, NULL);
			on_interrupt(t, interrupt, arg);
			continue;
		}
		/* on a terminal, lines are read only for a prompt: what is
		 * typed ahead waits in the tty for the next one */
		p[0].fd = t->in_open && (!t->edit || t->reading) ? 0 : -1;
		rc = ppoll(p, 2, NULL, &open_mask);
		sigprocmask(SIG_SETMASK, &open_mask, NULL);
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (p[1].revents) {
			rc = from_target(t);
			if (rc)
				return rc < 0 ? -1 : 0;
		}
		if (p[0].fd == 0 && p[0].revents && from_user(t, p[0].revents))
			return 0;
	}
}

int pdb_term_relay(int sock, pdb_interrupt_fn interrupt, void *arg)
{
	struct term t = { .sock = sock, .in_open = true,
			  .in = STRBUF_INIT, .tail = STRBUF_INIT };
	struct sigaction sa = { .sa_handler = on_sigint }, old;
	int rc;

	setup_editing(&t);
	session = &t;
	/* no SA_RESTART: poll() returns to look at the flag */
	sigaction(SIGINT, &sa, &old);
	rc = relay(&t, interrupt, arg);
	if (t.reading)
		rl_callback_handler_remove();
	if (t.edit && t.history[0])
		write_history(t.history);  /* best effort: a read-only home */
	if (flush_tail(&t))
		rc = -1;
	sigaction(SIGINT, &old, NULL);
	session = NULL;
	strbuf_release(&t.in);
	strbuf_release(&t.tail);
	free(t.prompt);
	return rc;
}
