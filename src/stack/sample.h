/* The neutral result of reading a process: threads and their frames.
 * Decoders fill it; writers (text, JSON, ...) read it and never touch the
 * target.  Strings are owned by the dump (or by caches that outlive it). */
#ifndef SS_STACK_SAMPLE_H
#define SS_STACK_SAMPLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum frame_kind {
	FRAME_PYTHON,
	FRAME_NATIVE,
};

/* One local variable of a frame (dump --locals): read while the target
 * is stopped (name, obj), its repr made afterwards (py_locals_format). */
struct local {
	const char *name;         /* owned by the reader's string cache */
	uint64_t obj;             /* the value's address in the target */
	char *repr;               /* owned by the dump; NULL until formatted */
};

struct frame {
	enum frame_kind kind;
	const char *function;     /* co_name */
	const char *qualname;     /* co_qualname (3.11+), else NULL */
	const char *file;         /* co_filename as the target sees it */
	int line;                 /* -1 when unknown */
	/* --locals: arguments, locals, cell and free variables with a value,
	 * in definition order.  locals_read says they were asked for (there
	 * may be none); locals_error why they could not be read. */
	struct local *locals;
	size_t nlocals;
	bool locals_read;
	char *locals_error;
};

enum thread_status {
	THREAD_UNKNOWN,
	THREAD_RUNNING,           /* on a CPU or runnable */
	THREAD_IDLE,              /* sleeping or blocked */
};

struct thread_stack {
	int64_t tid;              /* in snakescope's pid namespace; -1 unknown */
	int64_t ns_tid;           /* as the target sees it; -1 unknown */
	uint64_t ident;           /* threading.get_ident() */
	uint64_t tstate;          /* PyThreadState address */
	const char *name;         /* thread name, NULL unknown */
	int64_t interp_id;        /* interpreter id, -1 unknown */
	int holds_gil;            /* 1, 0, -1 unknown */
	enum thread_status status;
	struct frame *frames;     /* innermost first */
	size_t nframes, cap;
	/* Why the stack is partial (torn read, cycle, limit), or NULL. */
	char *error;
	/* From a core: this thread received the signal that killed it. */
	bool faulted;
};

struct python_info {
	const char *version;
	const char *executable;
	const char *library;      /* NULL when static */
	bool debug;
	bool free_threaded;
};

struct dump {
	int pid;
	const char *source;       /* "live", "core" */
	struct python_info python;
	struct thread_stack *threads;
	size_t nthreads, cap;
	/* Slots [0, kept) of threads hold frame arrays kept by dump_reset()
	 * for reuse (a sampler fills the same dump again and again). */
	size_t kept;
	/* Microseconds the target was held stopped; -1 when not stopped. */
	int64_t pause_us;
	/* From a core: the signal that killed the process (0: none known),
	 * its si_code, the faulting address when has_addr, and the thread
	 * that received it (-1 unknown). */
	int signal;
	int si_code;
	bool has_addr;
	uint64_t fault_addr;
	int64_t signal_tid;
};

struct thread_stack *dump_add_thread(struct dump *d);
struct frame *thread_add_frame(struct thread_stack *t);
void thread_set_error(struct thread_stack *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void dump_release(struct dump *d);
/* Empty d for the next sample, keeping its arrays: filling it again with
 * stacks no larger than before allocates nothing. */
void dump_reset(struct dump *d);

#endif
