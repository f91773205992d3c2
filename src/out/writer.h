/* Writers turn a struct dump into text for a person or JSON for a program.
 * They never touch the target. */
#ifndef SS_OUT_WRITER_H
#define SS_OUT_WRITER_H

#include <stdio.h>

#include "out/source.h"
#include "stack/sample.h"

/* Traceback-style text; source lines come from src (may be NULL). */
void out_text_dump(FILE *out, const struct dump *d, struct source_cache *src);
/* One JSON document, schema snakescope.dump/1, newline-terminated. */
void out_json_dump(FILE *out, const struct dump *d);

#endif
