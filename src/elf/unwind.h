/* Native (C) stacks of a live process or a core, unwound with elfutils
 * libdw.
 *
 * One unwinder for both: libdw is given our own thread callbacks
 * (dwfl_attach_state), so registers come from the stop set (live: the
 * tracer thread captured them with PTRACE_GETREGS) or from the core's
 * NT_PRSTATUS notes, and memory from the memsrc the Python walker reads.
 * libdw never ptraces anything itself, so it works with snakescope's
 * short-lived tracer thread and, the files being opened through the
 * py_files interface (/proc/PID/root, map_files, a core's --sysroot),
 * across mount namespaces.
 *
 * A session is opened before the threads are stopped (reporting modules
 * and loading their CFI costs file I/O), threads are unwound while they
 * are held (native_unwind() only reads stack memory), and the addresses
 * are symbolised once they run again (native_symbolize()). */
#ifndef SS_ELF_UNWIND_H
#define SS_ELF_UNWIND_H

#include <stdbool.h>
#include <sys/types.h>

#include "py/proc.h"
#include "stack/sample.h"
#include "target/memsrc.h"
#include "target/procfs.h"
#include "target/regs.h"
#include "util/err.h"

/* At most this many native frames per thread. */
#define NATIVE_MAX_FRAMES 512

struct native;

struct native_source {
	pid_t pid;                    /* the process (a core's pid) */
	struct memsrc *mem;           /* its memory */
	const struct maps *maps;      /* its mappings: /proc/PID/maps, or a
	                               * core's NT_FILE entries */
	const struct py_files *files; /* how to open the mapped files */
	/* Where the target's /usr/lib/debug is ("/proc/PID/root", a
	 * sysroot, or "" for ours); the host's is searched after it. */
	const char *debug_root;
	/* The interpreter (its executable and libpython as the target
	 * names them; NULL: none) and its major version, to tell its eval
	 * loop and its other C frames. */
	const char *interp_exe;
	const char *interp_lib;
	int py_major;
};

/* The native frames of one thread, innermost first, all FRAME_NATIVE;
 * stop says why unwinding ended before the outermost frame (NULL: it
 * reached it). */
struct native_stack {
	struct frame *frames;
	size_t n, cap;
	char *stop;
};

/* Start a session: report the mapped ELF files as modules and load their
 * unwind tables.  A file that cannot be opened (deleted from disk, not in
 * the sysroot) is still reported by name; its frames are then named by
 * library only and unwinding through them falls back to frame pointers.
 * Fails only when libdw itself cannot start (SS_EIO). */
int native_open(struct native **np, const struct native_source *src,
		struct err *e);
void native_close(struct native *n);

/* Unwind thread tid from regs (NULL: unknown, which only records why)
 * into out, reading nothing but target memory: call it while the thread
 * is held.  Never fails: a stack that cannot be unwound further ends with
 * out->stop set.  Frames get address and caller; names come from
 * native_symbolize(). */
void native_unwind(struct native *n, pid_t tid, const struct cpu_regs *regs,
		   struct native_stack *out);

/* Name every frame of st: library, function + offset (from .symtab,
 * .dynsym, MiniDebugInfo or a separate debug file found by build-id,
 * return addresses looked up at pc - 1), file:line when DWARF is there
 * (for the interpreter's own frames only with interp_lines: they are
 * hidden unless --native-all); mark the interpreter's frames and its eval
 * loop.  Each distinct address is looked up once per session; lines of
 * modules with a compressed separate debug file come from linetab.h.
 * Reads no target memory. */
void native_symbolize(struct native *n, struct native_stack *st,
		      bool interp_lines);

void native_stack_release(struct native_stack *st);

#endif
