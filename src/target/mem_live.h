/* A memsrc reading the memory of a running process.
 *
 * Reading does not need the target to be stopped or traced, only the
 * permission to trace it (same user, or CAP_SYS_PTRACE); callers that want
 * a consistent picture stop it first with stopset_stop_all().
 */
#ifndef SS_TARGET_MEM_LIVE_H
#define SS_TARGET_MEM_LIVE_H

#include <sys/types.h>

#include "target/memsrc.h"
#include "util/err.h"

/* Open the memory of process pid.  Read failures are later recorded in e
 * (struct memsrc.err), so e must outlive the memsrc.  No such process ->
 * SS_EGONE; not allowed -> SS_EPERM.  Release with (*out)->ops->release. */
int mem_live_open(struct memsrc **out, pid_t pid, struct err *e);

#endif
