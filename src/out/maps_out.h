/* Writers of a `snakescope maps` report (struct so_report) and of the
 * events of `maps --watch`.  They format what the scan found and never
 * look at the target. */
#ifndef SS_OUT_MAPS_OUT_H
#define SS_OUT_MAPS_OUT_H

#include <stdbool.h>
#include <stdio.h>

#include "so/scan.h"
#include "so/watch.h"

/* A table, one object per line, with indented detail lines under the
 * ones that are not ok, then a summary line. */
void maps_write_text(FILE *out, const struct so_report *r);

/* One document, schema snakescope.maps/1. */
void maps_write_json(FILE *out, const struct so_report *r);

/* One line per watch event; JSON lines (schema snakescope.maps-watch/1)
 * with json. */
void maps_write_watch_event(FILE *out, const struct so_watch_event *ev,
			    bool json);

/* "2025-11-24 12:00:01.234" (local time), or with iso
 * "2025-11-24T11:00:01.234Z" (UTC). */
void maps_format_time(const struct timespec *t, bool iso, char *buf,
		      size_t len);

#endif
