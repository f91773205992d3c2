/* Paths as the target sees them.
 *
 * /proc/PID/maps names files relative to *our* root: for a chrooted
 * target that includes the chroot directory ("/srv/jail/usr/lib/x.so"),
 * while the target itself, and /proc/PID/root, know the file as
 * "/usr/lib/x.so".  A struct target_root remembers where the target's root
 * is (the link /proc/PID/root points to) so such names can be translated
 * back, and files opened through /proc/PID/root whatever the namespace.
 */
#ifndef SS_TARGET_ROOTVIEW_H
#define SS_TARGET_ROOTVIEW_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

struct target_root {
	pid_t pid;
	/* The target's root as a path of ours ("" when it is our root or
	 * cannot be read, e.g. for another mount namespace's root). */
	char prefix[PATH_MAX];
};

/* Read /proc/PID/root.  Never fails: an unreadable link leaves the prefix
 * empty, so names are used as the kernel prints them. */
void target_root_init(struct target_root *r, pid_t pid);

/* The target's name for path (a pointer into path): path with the root
 * prefix removed when it starts with it at a component boundary. */
const char *target_root_view(const struct target_root *r, const char *path);

/* Pure part of target_root_view(): root "" or "/" strips nothing. */
const char *path_strip_root(const char *root, const char *path);

/* "/proc/PID/root" + view: where snakescope opens the target's file.
 * Too long -> SS_EIO. */
int target_root_host_path(const struct target_root *r, const char *view,
			  char *buf, size_t len);

#endif
