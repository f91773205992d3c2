/* When a process started, on the wall clock, to compare with file times. */
#ifndef SS_TARGET_STARTTIME_H
#define SS_TARGET_STARTTIME_H

#include <sys/types.h>
#include <time.h>

#include "util/err.h"

/* The start of process pid as CLOCK_REALTIME.  The kernel keeps it in
 * clock ticks since boot (field 22 of /proc/PID/stat), so the result is
 * exact to one tick (10 ms at USER_HZ 100) and may be up to one tick
 * early.  No such process -> SS_EGONE; an unparsable stat -> SS_ECORRUPT. */
int procfs_start_time(pid_t pid, struct timespec *out, struct err *e);

/* Pure part: field 22 of a stat line ("pid (comm) S ppid ...").  Returns
 * 0 or -1 when the line is malformed. */
int procfs_parse_starttime(const char *stat, unsigned long long *ticks);

#endif
