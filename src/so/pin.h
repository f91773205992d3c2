/* Pinning one mapped file: replace it by an identical copy, atomically,
 * so that the process's mappings refer to an inode no path reaches any
 * more and no later in-place rewrite (pip, shutil.copyfile, cp) can reach
 * its pages.
 *
 * The copy is made next to the original (a temporary ".NAME.pin-XXXXXX"
 * in the same directory, so the final step is a rename within one file
 * system) with the original's mode, owner, extended attributes (ACLs,
 * security.selinux, security.capability) and access and modification
 * times, and fsynced; then, if the path still names the mapped file
 * unchanged, the copy is renamed over it (the path always names one
 * complete file) and the directory fsynced.  A file deleted, replaced or
 * written while it is copied is noticed and left alone.  Any failure
 * removes the copy and leaves the original as it was.  (What remains is
 * the few microseconds between the last check and rename(2): a
 * replacement landing exactly then is overwritten, as with any installer.)
 */
#ifndef SS_SO_PIN_H
#define SS_SO_PIN_H

#include <stdbool.h>
#include <sys/types.h>

enum so_pin_outcome {
	SO_PIN_DONE,    /* pinned */
	SO_PIN_DRY,     /* would be pinned (dry run) */
	SO_PIN_ALREADY, /* the path names another file already */
	SO_PIN_FAILED,  /* not pinned; why says why and what helps */
};

struct so_pin_target {
	const char *host;  /* where snakescope reaches it (/proc/PID/root) */
	dev_t dev;         /* the mapped file, as stat(2) sees it */
	ino_t ino;
	bool dev_known;    /* else only the inode number is compared */
};

struct so_pin_result {
	enum so_pin_outcome outcome;
	int code;       /* FAILED: SS_EPERM (not allowed) or SS_EIO */
	char why[512];  /* FAILED: reason and remedy; DONE: a caveat or "" */
};

/* Pin t (dry_run: only check that it could be).  Returns 0 in all cases
 * the result describes; nothing here is fatal to the caller. */
void so_pin_file(const struct so_pin_target *t, bool dry_run,
		 struct so_pin_result *res);

#endif
