/* `snakescope maps --watch`: tell the moment a file a process has mapped
 * is opened for writing or written.
 *
 * inotify watches the mapped inodes themselves (through
 * /proc/PID/map_files when allowed, so even a file reachable by no path
 * is covered; otherwise through /proc/PID/root and the path).  An
 * in-place write shows as IN_MODIFY (truncation included); an open for
 * writing is recognised from IN_OPEN by finding a writer in /proc, or
 * from IN_CLOSE_WRITE when the writer was faster.  Files the process maps
 * later are picked up by rereading its maps once a second.  Runs until
 * the process exits or SIGINT, SIGTERM or SIGHUP arrives (taken through a
 * signalfd, so nothing happens in a signal handler). */
#ifndef SS_SO_WATCH_H
#define SS_SO_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "target/openers.h"
#include "util/err.h"

enum so_watch_kind {
	SO_WATCH_STARTED,    /* nfiles files are watched */
	SO_WATCH_OPEN_WRITE, /* a mapped file was opened for writing */
	SO_WATCH_MODIFIED,   /* a mapped file was written or truncated */
	SO_WATCH_UNLINKED,   /* a mapped file lost its name (replaced or
			      * deleted): harmless to this process */
	SO_WATCH_EXITED,     /* the process exited: the watch ends */
	SO_WATCH_STOPPED,    /* a signal ended the watch */
};

#define SO_WATCH_MAX_WRITERS 4

struct so_watch_event {
	enum so_watch_kind kind;
	pid_t pid;           /* the watched process */
	const char *path;    /* the target's name for the file, or NULL */
	struct timespec when;
	size_t nfiles;       /* STARTED */
	int signo;           /* STOPPED */
	size_t nwriters;     /* OPEN_WRITE, MODIFIED: who holds it open */
	struct opener writers[SO_WATCH_MAX_WRITERS];
};

typedef void (*so_watch_fn)(const struct so_watch_event *ev, void *arg);

struct so_watch_opts {
	bool all; /* every mapped file, not only the application's */
};

/* Watch process pid, calling fn for every event, until it ends.
 * *warnings counts OPEN_WRITE and MODIFIED events.  No such process ->
 * SS_EGONE; maps unreadable -> SS_EPERM; inotify unavailable -> SS_EIO. */
int so_watch(pid_t pid, const struct so_watch_opts *o, so_watch_fn fn,
	     void *arg, unsigned *warnings, struct err *e);

#endif
