/* Writing the crash report of `snakescope run` (struct crash_report);
 * never touches the target. */
#ifndef SS_OUT_CRASH_OUT_H
#define SS_OUT_CRASH_OUT_H

#include <stdio.h>

#include "out/source.h"
#include "stack/crash.h"

void out_crash_report(FILE *out, const struct crash_report *c,
		      struct source_cache *src);

#endif
