/* Walking every interpreter, thread state and frame of a process into the
 * neutral struct dump. */
#ifndef SS_PY_WALK_H
#define SS_PY_WALK_H

#include <stdbool.h>

#include "py/reader.h"
#include "stack/sample.h"

struct py_objects;

struct walk_opts {
	unsigned max_frames;      /* per thread */
	unsigned max_threads;     /* per interpreter */
	unsigned max_interps;
	/* Non-NULL: read every Python frame's locals with it (--locals). */
	struct py_objects *locals;
	/* Do not look up thread names (they cost a walk of sys.modules). */
	bool no_thread_names;
	/* Do not tell which thread holds the GIL (holds_gil left -1): its
	 * state may be on a page the rest of the walk does not need. */
	bool no_gil;
};

#define WALK_DEFAULT_MAX_FRAMES 10000
#define WALK_DEFAULT_MAX_THREADS 10000
#define WALK_DEFAULT_MAX_INTERPS 256

/* Append one struct thread_stack per thread state to d, main interpreter
 * first and, within an interpreter, oldest thread first.  Fills ident,
 * ns_tid (3.8+: native_thread_id), interp_id, holds_gil, tstate, frames
 * (with their locals when o->locals is set) and name (py_thread_names());
 * a thread whose stack cannot be read completely keeps what was read and
 * gets an error.  Fails only when the interpreter list itself is unreadable. */
int py_walk(struct py_reader *r, const struct walk_opts *o, struct dump *d,
	    struct err *e);

#endif
