/* Who has a file open for writing: a scan of /proc/[0-9]*\/fd.
 *
 * Used to name the culprit when a mapped file changes.  The scan only
 * sees processes snakescope may inspect (all of them as root) and only
 * while they hold the file open; a writer that already closed it is not
 * found. */
#ifndef SS_TARGET_OPENERS_H
#define SS_TARGET_OPENERS_H

#include <stddef.h>
#include <sys/types.h>

struct opener {
	pid_t pid;
	char comm[17];
};

/* Fill out[0..max) with processes other than ourselves that hold a file
 * descriptor on (dev, ino) opened with write access; returns how many were
 * found (at most max).  Bounded: at most 1<<16 processes and 1<<16
 * descriptors per process are looked at. */
size_t procfs_find_writers(dev_t dev, ino_t ino, struct opener *out,
			   size_t max);

/* Pure part: whether an fdinfo text says the descriptor can write. */
int fdinfo_writable(const char *fdinfo);

#endif
