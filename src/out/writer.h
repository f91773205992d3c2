/* Writers turn a struct dump into text for a person or JSON for a program.
 * They never touch the target. */
#ifndef SS_OUT_WRITER_H
#define SS_OUT_WRITER_H

#include <stdio.h>

#include "out/source.h"
#include "stack/sample.h"

/* Traceback-style text; source lines come from src (may be NULL). */
void out_text_dump(FILE *out, const struct dump *d, struct source_cache *src);
/* One thread of out_text_dump(): its header line and traceback. */
void out_text_thread(FILE *out, const struct thread_stack *t,
		     struct source_cache *src);
/* Only the traceback (and why it is partial) of one thread. */
void out_text_frames(FILE *out, const struct thread_stack *t,
		     struct source_cache *src);
/* One JSON document, schema snakescope.dump/1, newline-terminated. */
void out_json_dump(FILE *out, const struct dump *d);

#endif
