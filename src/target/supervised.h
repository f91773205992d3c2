/* The processes `snakescope run` supervises: every process whose tracer
 * is snakescope.  Found from /proc when needed (a dump) rather than
 * tracked at every fork, which keeps forks cheap. */
#ifndef SS_TARGET_SUPERVISED_H
#define SS_TARGET_SUPERVISED_H

#include <stddef.h>
#include <sys/types.h>

/* The pids, ascending; free(*pids). */
void supervised_processes(pid_t **pids, size_t *n);

#endif
