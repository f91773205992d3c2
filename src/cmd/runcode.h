/* Getting a live interpreter to run a piece of Python at a safe point.
 *
 * With every thread held, one mechanism is chosen from the threads' state:
 *
 *  - SAFE_IDLE_THREAD: a thread blocked in a waiting system call (sleep,
 *    select/poll, a lock's futex, a read) that does not hold the GIL and
 *    is not queueing for it is inside Py_BEGIN_ALLOW_THREADS: it holds no
 *    interpreter lock.  It is pointed at a shim that calls
 *    PyGILState_Ensure(), PyRun_SimpleStringFlags(code), PyGILState_Release()
 *    and then returns to the interrupted call, which the kernel restarts.
 *    The shim waits for the GIL as any thread does: a busy Python thread
 *    hands it over at its next switch interval.
 *  - SAFE_PENDING_CALL: no such thread, so every thread computes.  The
 *    main thread (the one that runs pending calls) is made to call
 *    Py_AddPendingCall() at an instruction boundary inside the
 *    interpreter that is not in the pending-call machinery or a lock: the
 *    interpreter runs the code between two bytecodes, as it runs signal
 *    handlers.  From 3.14 on the interpreter's own remote-debugging
 *    protocol (PEP 768) replaces this: SAFE_REMOTE_DEBUG writes the path
 *    of a script into the main thread's debugger-support fields and sets
 *    its eval-breaker bit, and the interpreter runs the script between two
 *    bytecodes.  When the target disabled remote debugging
 *    (PYTHON_DISABLE_REMOTE_DEBUG, -X disable-remote-debug, a build
 *    without it) nothing is run at all, by either mechanism.
 *
 * Either way the shim finishes on its own (arch.h): if the GIL never comes
 * free the code simply never runs, and if it runs after snakescope gave
 * up, the bootstrap finds no channel and does nothing. */
#ifndef SS_CMD_RUNCODE_H
#define SS_CMD_RUNCODE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cmd/live.h"

enum safe_mech {
	SAFE_NONE,
	SAFE_IDLE_THREAD,
	SAFE_PENDING_CALL,
	SAFE_REMOTE_DEBUG,
};

struct runcode {
	struct live *lv;
	const char *code;    /* the bootstrap for PyRun_SimpleString */
	const char *script;  /* the same in a file, as the target names it
			      * (PEP 768), or NULL */
	pid_t only_tid;      /* 0, or the one thread to use */

	/* filled by runcode_try() */
	enum safe_mech mech;
	pid_t tid;           /* the thread used */
	long syscall;        /* the system call it was in, -1 if none */
	pid_t gil_holder;    /* the thread holding the GIL, 0 if unknown/none */
	char why_not[320];   /* why no safe point was found this time */
	bool holder_stuck;   /* ... because the GIL's holder sits in native
			      * code, though a thread waits idle */
	uint64_t shim, shim_len;
	uint64_t gadget;       /* a `syscall` instruction in the target, 0 until
				* found */
	uint64_t rdbg_tstate;  /* SAFE_REMOTE_DEBUG: the thread state used */
};

/* Hold every thread, choose, inject, release.  0 when the code was handed
 * over (rc->mech says how), 1 when no safe point was found right now
 * (rc->why_not says why: try again later), or SS_E*. */
int runcode_try(struct runcode *rc, struct err *e);

/* After a timeout: withdraw a PEP 768 request the interpreter has not
 * taken yet, so that the script is not even opened. */
void runcode_cancel(struct runcode *rc);

/* How long runcode_cleanup() waits: budget_ns at most, and no longer
 * than *stops (a count of stop signals, or NULL) stays stops_at_start. */
struct runcode_wait {
	long long budget_ns;
	const volatile sig_atomic_t *stops;
	sig_atomic_t stops_at_start;
};

/* Free an idle thread's shim once its thread has left it, waiting for
 * that as w says: the thread leaves as soon as the code ended, or, when
 * snakescope gave up, as soon as it has the GIL and finds the channel
 * gone.  A pending call's shim is never freed here: its stub frees it
 * when it runs, however late; with finished (the code ran to its end)
 * this waits for that.  True when no shim is left to free; false when
 * the thread is still inside (it waits for the GIL or runs the code), or
 * a finished pending call's stub has not freed it yet: called again, it
 * waits again. */
bool runcode_cleanup(struct runcode *rc, bool finished,
		     const struct runcode_wait *w);

#endif
