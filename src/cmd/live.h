/* A live target process: opening it (mappings, memory, interpreter) and
 * capturing a struct dump of it, stopped or not.  Shared by every command
 * that works on a PID. */
#ifndef SS_CMD_LIVE_H
#define SS_CMD_LIVE_H

#include <stdbool.h>
#include <sys/types.h>

#include "cmd/nativecap.h"
#include "py/proc.h"
#include "py/reader.h"
#include "py/walk.h"
#include "stack/sample.h"
#include "target/memsrc.h"
#include "target/procfs.h"
#include "target/ptrace.h"

struct live {
	pid_t pid;
	struct maps maps;
	struct memsrc *raw;       /* the process itself */
	struct memsrc *mem;       /* page cache over raw: what readers use */
	struct py_proc py;
	/* dump --native: unwind and merge C frames while stopped (set
	 * before live_capture(); needs stop). */
	enum native_mode native;
};

/* No such process -> SS_EGONE "no process with pid N"; not Python ->
 * SS_ENOTPY; permission -> SS_EPERM with the remedy. */
int live_open(struct live *lv, pid_t pid, struct err *e);
void live_close(struct live *lv);

/* Read every thread's stack into d.  With stop, every thread is held
 * stopped (PTRACE_SEIZE + PTRACE_INTERRUPT) only while memory is read, and
 * released before this returns, on every path.  With lv->native set (and
 * stop), each thread's native stack is unwound in the same stop and
 * merged into its frames (nativecap.h). */
int live_capture(struct live *lv, bool stop, const struct walk_opts *o,
		 struct py_reader *r, struct dump *d, struct err *e);

/* The same for a process whose threads the caller already holds stopped
 * (snakescope run, which traces them): held lists them with their
 * fs_base and whether each is in a system call; nothing is stopped or
 * resumed here. */
int live_capture_held(struct live *lv, const struct stopset *held,
		      const struct walk_opts *o, struct py_reader *r,
		      struct dump *d, struct err *e);

#endif
