/* A Python frame's fast locals (arguments, locals, cell and free
 * variables) and the names of a process's threads, read with the object
 * readers of py/objects.h while the target is stopped. */
#ifndef SS_PY_LOCALS_H
#define SS_PY_LOCALS_H

#include <stdint.h>

#include "py/objects.h"
#include "stack/sample.h"

/* Read the locals of the Python frame at `frame` (a PyFrameObject up to
 * 3.10, a _PyInterpreterFrame from 3.11) running code object `code` into
 * f->locals (names and object addresses).  Then py_locals_prefetch() reads
 * what their reprs need, and py_locals_format() makes the reprs (after
 * the target runs again).  Definition order (co_varnames, co_cellvars,
 * co_freevars up to 3.10; co_localsplusnames from 3.11), cells dereferenced, unbound ones
 * (NULL slots, empty cells) left out, a name that appears twice (2.7 and
 * 3.6-3.10 keep an argument that is also a cell variable in both places)
 * shown once at its first place with its last value, like frame.f_locals.
 * Code that is not CO_OPTIMIZED (module and class bodies, whose namespace
 * is a dict) has no fast locals to show.  Sets f->locals_read; on failure
 * f->locals_error. */
void py_frame_locals(struct py_objects *o, uint64_t frame, uint64_t code,
		     struct frame *f);

/* Read (py_prefetch) everything the reprs of the locals of d need, in
 * batches: call while the target is stopped, after the walk. */
void py_locals_prefetch(struct py_objects *o, struct dump *d);

/* Make the repr of every local of d read by py_frame_locals() with the
 * same o (its page cache holds what was prefetched). */
void py_locals_format(struct py_objects *o, struct dump *d);

/* Fill thread_stack.name for every thread of d from its interpreter's own
 * threading module (sys.modules['threading']._active[ident]._name, and
 * _limbo for threads that are starting); threads of an interpreter that
 * never imported threading keep NULL.  Best effort: never fails. */
void py_thread_names(struct py_reader *r, struct dump *d);

#endif
