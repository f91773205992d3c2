/* Capturing the stacks of a process that `snakescope run` holds stopped
 * (target/hold.h): the live capture of cmd/live.h on threads that are
 * already stopped, native stacks unwound from the registers of the hold
 * (cmd/nativecap.h), reprs of locals made before the threads are let go
 * (a crashing process will not be there afterwards). */
#ifndef SS_CMD_HELDCAP_H
#define SS_CMD_HELDCAP_H

#include <stdbool.h>

#include "cmd/live.h"
#include "cmd/nativecap.h"
#include "py/objects.h"
#include "target/hold.h"

struct heldcap {
	struct live lv;
	struct py_reader r;
	struct py_objects objs;
	bool open;
};

struct heldcap_opts {
	bool locals;
	unsigned max_repr, max_items;
	/* Merge native frames into the Python stacks: of the thread
	 * native_tid only (a crash), or of all threads (native_tid 0). */
	enum native_mode native;
	pid_t native_tid;
};

/* Capture every thread of h->pid into d (strings owned by hc: release d
 * before hc).  The thread native_tid is in d even if it runs no Python.
 * SS_ENOTPY and friends when the process runs no Python that can be
 * read, with the message in e. */
int heldcap_capture(struct heldcap *hc, const struct hold *h,
		    const struct heldcap_opts *o, struct dump *d,
		    struct err *e);
void heldcap_release(struct heldcap *hc);

/* The native stack of thread tid of a held process that runs no Python,
 * as the only thread of d.  Why it could not be unwound goes to e. */
int heldcap_native_only(const struct hold *h, pid_t tid, struct dump *d,
			struct err *e);

#endif
