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
	FRAME_NATIVE,             /* a C frame (dump --native) */
	FRAME_UNWIND_STOP,        /* native unwinding ended here; function
	                           * says why, frames below are Python only */
};

/* One local variable of a frame (dump --locals): read while the target
 * is stopped (name, obj), its repr made afterwards (py_locals_format). */
struct local {
	const char *name;         /* owned by the reader's string cache */
	uint64_t obj;             /* the value's address in the target */
	char *repr;               /* owned by the dump; NULL until formatted */
};

/* Strings of FRAME_NATIVE and FRAME_UNWIND_STOP frames are owned by the
 * frame (freed by dump_release()); those of Python frames by the reader's
 * caches. */
struct frame {
	enum frame_kind kind;
	const char *function;     /* co_name; native: symbol, NULL unknown */
	const char *qualname;     /* co_qualname (3.11+), else NULL */
	const char *file;         /* co_filename as the target sees it;
	                           * native: source file, NULL unknown */
	int line;                 /* -1 when unknown */
	/* Python: which interpreter eval-loop call runs this frame, counted
	 * from the thread's innermost one (0).  Up to 3.10 every frame has
	 * its own; from 3.11 one call runs several frames, down to an
	 * entry frame. */
	unsigned eval_seq;
	/* Python, 3.12+: address of the entry frame that call linked in, a
	 * local of its C eval-loop frame, so on the C stack; 0 unknown. */
	uint64_t eval_entry;
	/* Native frames. */
	const char *library;      /* file name of the ELF (no directory),
	                           * NULL when the address is in none */
	uint64_t address;         /* the pc; a return address for callers */
	uint64_t offset;          /* from the symbol's start */
	bool caller;              /* address is a return address (named
	                           * by the call before it, address - 1) */
	uint64_t sp;              /* its stack pointer (the callee's CFA);
	                           * 0 unknown */
	bool eval_loop;           /* the interpreter's eval loop */
	bool interp;              /* in the python executable or libpython */
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
/* Free the strings a native or unwind-stop frame owns. */
void frame_release_native(struct frame *f);
void dump_release(struct dump *d);
/* Empty d for the next sample, keeping its arrays: filling it again with
 * stacks no larger than before allocates nothing. */
void dump_reset(struct dump *d);
/* Empty t's frames (what they own freed) and its error; the frame array
 * is kept. */
void thread_clear(struct thread_stack *t);

#endif
