/* Writers of a sampling profile (struct profile), one file per format.
 * They read the trie only, never the target.  Each returns 0 or SS_EIO
 * with a message in e. */
#ifndef SS_OUT_PROFILE_OUT_H
#define SS_OUT_PROFILE_OUT_H

#include <stdint.h>
#include <stdio.h>

#include "stack/profile.h"
#include "util/err.h"

/* What the writers say about the run besides the trie. */
struct profile_meta {
	const char *title;        /* "python script.py (pid 123)" */
	unsigned rate_hz;
	int64_t start_unix_ns;
	int64_t duration_ns;
};

/* "a;b;c N" lines, outermost first (flamegraph.pl, inferno, Pyroscope). */
int out_collapsed(FILE *f, const struct profile *p,
		  const struct profile_meta *m, struct err *e);
/* speedscope's file format (https://www.speedscope.app/file-format-schema.json),
 * one "sampled" profile. */
int out_speedscope(FILE *f, const struct profile *p,
		   const struct profile_meta *m, struct err *e);
/* One self-contained interactive SVG flame graph. */
int out_flamegraph(FILE *f, const struct profile *p,
		   const struct profile_meta *m, struct err *e);
/* gzipped pprof profile.proto. */
int out_pprof(FILE *f, const struct profile *p, const struct profile_meta *m,
	      struct err *e);

/* Shared by the writers (profile_walk.c): the path of node n from the
 * root's child down to n, into path (at most max; returns the depth). */
size_t profile_path(const struct profile *p, uint32_t n, uint32_t *path,
		    size_t max);
/* Whether writing f failed (checked once at the end). */
int out_check(FILE *f, struct err *e);

#endif
