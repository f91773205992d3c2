/* One run of code in a live target, as exec and pdb share it: open the
 * target, make the channel, hand the bootstrap to a safe point (within the
 * timeout) and wait for it to connect. */
#ifndef SS_CMD_EXECSESSION_H
#define SS_CMD_EXECSESSION_H

#include <sys/types.h>

#include "cmd/channel.h"
#include "cmd/live.h"
#include "cmd/runcode.h"

struct exec_session {
	struct live lv;
	struct channel ch;
	struct runcode rc;
	char *boot;
	char script[160];  /* boot.py as the target names it (PEP 768) */
	bool lv_open;
};

/* 0 once the target's bootstrap is connected on es->ch (payload: see
 * bootstrap_source()); on failure
 * everything is released again.  A safe point not reached within
 * timeout seconds is SS_EIO with a message naming the target's state. */
int exec_session_start(struct exec_session *es, int pid, unsigned timeout,
		       pid_t only_tid, const char *payload, size_t len,
		       struct err *e);

/* The two halves of exec_session_start(): open the target and the
 * channel (es->ch.target_sock is known from then on), then run. */
int exec_session_open(struct exec_session *es, int pid, struct err *e);
int exec_session_run(struct exec_session *es, unsigned timeout,
		     pid_t only_tid, const char *payload, size_t len,
		     struct err *e);

/* The channel closed early: the target exited, or the code ended it. */
int exec_session_lost(pid_t pid, struct err *e);

/* Close the channel; with finished (the code ran to its end), free the
 * shim the target ran. */
void exec_session_end(struct exec_session *es, bool finished);

#endif
