/* Capturing the Python stacks of a process that `snakescope run` holds
 * stopped (target/hold.h): the live capture of cmd/live.h on threads that
 * are already stopped, reprs of locals made before they are let go (a
 * crashing process will not be there afterwards). */
#ifndef SS_CMD_HELDCAP_H
#define SS_CMD_HELDCAP_H

#include <stdbool.h>

#include "cmd/live.h"
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
};

/* Capture every thread of h->pid into d (strings owned by hc: release d
 * before hc).  SS_ENOTPY and friends when the process runs no Python
 * that can be read, with the message in e. */
int heldcap_capture(struct heldcap *hc, const struct hold *h,
		    const struct heldcap_opts *o, struct dump *d,
		    struct err *e);
void heldcap_release(struct heldcap *hc);

#endif
