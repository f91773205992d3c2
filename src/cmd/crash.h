/* What `snakescope run` learns about a crash while the crashing process
 * is held: the signal, the addresses and what is mapped there, the
 * native and Python stacks (stack/crash.h). */
#ifndef SS_CMD_CRASH_H
#define SS_CMD_CRASH_H

#include <signal.h>

#include "cmd/heldcap.h"
#include "stack/crash.h"
#include "target/hold.h"

/* Fill c for thread tid of the held process h crashing with si.  The
 * Python stacks are captured with hc (release c's dump, then hc).  Never
 * fails: what cannot be found is said in the report. */
void crash_gather(struct crash_report *c, struct heldcap *hc,
		  const struct hold *h, pid_t tid, const siginfo_t *si,
		  const struct heldcap_opts *o);

#endif
