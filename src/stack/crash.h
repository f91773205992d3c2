/* The neutral result of a crash seen by `snakescope run`: what happened,
 * where, and the stacks.  Filled while the process is held (cmd/crash.c);
 * the report writer (out/crash_text.c) never touches the target. */
#ifndef SS_STACK_CRASH_H
#define SS_STACK_CRASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stack/sample.h"

/* One frame of the crashing thread's native stack. */
struct native_frame {
	uint64_t pc;
	char where[512];          /* "lib.so!symbol+0x1f", or "" unknown */
};

struct crash_report {
	int pid, tid;
	char comm[64];            /* the process's name */
	char thread_comm[64];     /* the crashing thread's OS name */
	int signo, si_code;
	int sender;               /* who sent it, when si_code <= 0 */
	bool has_addr;
	uint64_t addr;
	char addr_where[600];     /* "is unmapped", "is in [heap] (rw-p)" */
	uint64_t pc;
	char pc_where[1200];      /* "lib.so: sym+0x1f (build-id ...)" */
	/* When the unwinder gave nothing: the faulting instruction alone
	 * (native[0]) and why (native_note). */
	struct native_frame *native;
	size_t nnative;
	char native_note[1100];
	/* The Python stacks when the process runs Python (python_ok), else
	 * why not (python_note). */
	bool python_ok;
	char python_note[1100];
	/* Python: every thread, the crashing one with its native frames
	 * merged in; else the crashing thread's native frames alone. */
	struct dump dump;
	/* Where --core-dir wrote a core (core_path) or why it could not. */
	char core_path[4200];
	char core_note[1100];
};

void crash_report_release(struct crash_report *c);

#endif
