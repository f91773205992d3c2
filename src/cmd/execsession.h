/* One run of code in a live target, as exec and pdb share it: open the
 * target, make the channel, hand the bootstrap to a safe point (within the
 * timeout) and wait for it to connect. */
#ifndef SS_CMD_EXECSESSION_H
#define SS_CMD_EXECSESSION_H

#include <signal.h>
#include <stdio.h>
#include <sys/types.h>

#include "cmd/channel.h"
#include "cmd/live.h"
#include "cmd/runcode.h"
#include "util/strbuf.h"

struct exec_session {
	struct live lv;
	struct channel ch;
	struct runcode rc;
	char *boot;
	char script[160];  /* boot.py as the target names it (PEP 768) */
	pid_t tid;         /* 0, or the one thread to run the code in */
	bool lv_open;
	/* SIGINT, SIGTERM, SIGHUP taken from the hand-over on (so that the
	 * shim is freed before snakescope dies of them): the handlers they
	 * had, and whether they stay taken until exec_session_end() (exec's
	 * whole run) rather than up to the connection (pdb's) */
	struct sigaction old_sigs[3];
	bool sigs_taken, sigs_until_end;
};

/* 0 once the target's bootstrap is connected on es->ch (payload: see
 * bootstrap_source()); on failure
 * everything is released again.  A safe point not reached within
 * timeout seconds is SS_EIO with a message naming the target's state.
 * SIGINT, SIGTERM and SIGHUP stay taken until exec_session_end(), which
 * then dies of one that came (es->ch's receives give up on one). */
int exec_session_start(struct exec_session *es, int pid, pid_t tid,
		       unsigned timeout, const char *payload, size_t len,
		       struct err *e);

/* The two halves of exec_session_start(): open the target and the
 * channel (es->ch.target_sock is known from then on), then run.  A tid
 * (--thread) that is not a thread of pid is SS_EUSAGE, one line. */
int exec_session_open(struct exec_session *es, int pid, pid_t tid,
		      struct err *e);
int exec_session_run(struct exec_session *es, unsigned timeout,
		     const char *payload, size_t len, struct err *e);

/* The payload the bootstrap runs: the file name tracebacks show, a NUL,
 * the source. */
void exec_payload(struct strbuf *sb, const char *name, const char *src);

/* Relay the code's output (to out) and its errors and traceback (to
 * stderr) until it finishes: 0 it ran, 1 it raised, or SS_E*. */
int exec_session_results(struct exec_session *es, FILE *out, struct err *e);

/* The channel closed early: the target exited, or the code ended it. */
int exec_session_lost(pid_t pid, struct err *e);

/* Close the channel and free the shim the target ran, if it is done with
 * it; with finished (the code ran to its end) after waiting for that.
 * Then gives SIGINT, SIGTERM and SIGHUP back, dying of one that came. */
void exec_session_end(struct exec_session *es, bool finished);

#endif
