/* The one permission-denied message: why snakescope may not look at a
 * process and what to do about it.  Every place that meets EPERM/EACCES on
 * a target (ptrace, /proc/PID/maps, process memory) reports through here so
 * the user always gets the same reason and remedy. */
#ifndef SS_TARGET_PERM_H
#define SS_TARGET_PERM_H

#include <sys/types.h>

#include "util/err.h"

/* Record SS_EPERM: "cannot <action> process <pid>: <why>; <remedy>".
 * tid names the thread to check for another tracer (pid if unsure). */
int perm_error(struct err *e, pid_t pid, pid_t tid, const char *action);

#endif
