#include "target/rootview.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "target/procfs.h"

void target_root_init(struct target_root *r, pid_t pid)
{
	char link[64];
	ssize_t n;

	r->pid = pid;
	r->prefix[0] = '\0';
	snprintf(link, sizeof(link), "/proc/%d/root", (int)pid);
	n = readlink(link, r->prefix, sizeof(r->prefix) - 1);
	if (n <= 0 || (size_t)n >= sizeof(r->prefix) - 1) {
		r->prefix[0] = '\0';
		return;
	}
	r->prefix[n] = '\0';
}

const char *path_strip_root(const char *root, const char *path)
{
	size_t len = strlen(root);

	/* Trailing slashes do not occur in readlink output except for "/"
	 * itself, which strips nothing. */
	while (len > 0 && root[len - 1] == '/')
		len--;
	if (!len)
		return path;
	if (strncmp(path, root, len) == 0 && path[len] == '/')
		return path + len;
	return path;
}

const char *target_root_view(const struct target_root *r, const char *path)
{
	return path_strip_root(r->prefix, path);
}

int target_root_host_path(const struct target_root *r, const char *view,
			  char *buf, size_t len)
{
	return procfs_root_path(r->pid, view, buf, len);
}
