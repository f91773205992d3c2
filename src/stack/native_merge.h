/* One stack per thread from its native (C) frames and its Python frames:
 * each interpreter eval-loop C frame (named so, or, 3.12+, holding the
 * call's entry frame in its stack range: frame.eval_entry, frame.sp) is
 * replaced by the Python frames it runs (struct frame.eval_seq says which), the interpreter's other C frames
 * are hidden unless asked for, and nothing is invented when the two do not
 * pair up.  Pure: no target, no libdw. */
#ifndef SS_STACK_NATIVE_MERGE_H
#define SS_STACK_NATIVE_MERGE_H

#include <stdbool.h>

#include "elf/unwind.h"
#include "stack/sample.h"

/* Replace t's frames (Python, innermost first) with the merged list,
 * innermost first.  Takes ns's frames and stop reason (ns is left empty).
 * all: keep the interpreter's own C frames, eval loop included (each after
 * the Python frames it runs).  Python frames left over when the native
 * stack has no more eval-loop frames (unwinding stopped early, or the eval
 * loop could not be recognised) follow, in order, a FRAME_UNWIND_STOP
 * frame saying why; one also ends a stack whose unwinding stopped
 * early. */
void native_merge(struct thread_stack *t, struct native_stack *ns, bool all);

#endif
