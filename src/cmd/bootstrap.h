/* The Python that snakescope runs inside a target (2.7 and 3.x alike): it
 * connects to the channel, receives the user's code, runs it in __main__
 * with this thread's sys.stdout/sys.stderr writes sent through the
 * channel (other threads keep writing to the real streams), sends back the
 * traceback of an exception, and puts everything back.  It never raises:
 * when the channel is gone (snakescope gave up) it does nothing at all. */
#ifndef SS_CMD_BOOTSTRAP_H
#define SS_CMD_BOOTSTRAP_H

#include <stddef.h>

#include "util/strbuf.h"

/* Channel message kinds. */
#define MSG_CODE 'c'   /* to the target: filename NUL source */
#define MSG_OUT 'o'    /* stdout text */
#define MSG_ERR 'e'    /* stderr text */
#define MSG_EXC 'x'    /* the traceback: the code raised */
#define MSG_DONE 'd'   /* the code ran to its end */
#define MSG_IN 'i'     /* to the target: a line of input (pdb) */
#define MSG_PROMPT 'p' /* pdb waits for a line: the output since the last
			* newline is its prompt */

/* The source for PyRun_SimpleString: one top-level try statement that
 * binds no name in __main__, connecting to sock_path.  payload (len
 * bytes: filename NUL source) is the code to run, carried in the source
 * itself (every blocking call costs a wait for the GIL behind busy
 * threads); NULL to receive it as a MSG_CODE message.  malloc'ed. */
char *bootstrap_source(const char *sock_path, const char *payload,
		       size_t len);

/* Append a Python string literal of text (ASCII), with ' \ and newlines
 * escaped. */
void bootstrap_literal(struct strbuf *sb, const char *text);

#endif
