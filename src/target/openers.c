#include "target/openers.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "target/procfs.h"

#define MAX_PROCS (1 << 16)
#define MAX_FDS (1 << 16)

int fdinfo_writable(const char *fdinfo)
{
	const char *p = strstr(fdinfo, "flags:");
	unsigned long flags;
	char *end;

	if (!p || (p != fdinfo && p[-1] != '\n'))
		return 0;
	flags = strtoul(p + 6, &end, 8); /* printed in octal */
	if (end == p + 6)
		return 0;
	return (flags & O_ACCMODE) == O_WRONLY || (flags & O_ACCMODE) == O_RDWR;
}

static int fd_writable(int procfd, const char *fd)
{
	char path[300], buf[512];
	ssize_t n;
	int f;

	snprintf(path, sizeof(path), "fdinfo/%s", fd);
	f = openat(procfd, path, O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return 0;
	n = read(f, buf, sizeof(buf) - 1);
	close(f);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return fdinfo_writable(buf);
}

/* Whether process dir procfd holds (dev, ino) open for writing. */
static int proc_writes(int procfd, dev_t dev, ino_t ino)
{
	struct dirent *de;
	unsigned seen = 0;
	int fdfd, found = 0;
	DIR *d;

	fdfd = openat(procfd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fdfd < 0)
		return 0;
	d = fdopendir(fdfd);
	if (!d) {
		close(fdfd);
		return 0;
	}
	while (!found && seen++ < MAX_FDS && (de = readdir(d))) {
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		/* stat follows the magic link to the open file itself, even
		 * one in another mount namespace or already unlinked. */
		if (fstatat(fdfd, de->d_name, &st, 0) != 0 ||
		    st.st_ino != ino || st.st_dev != dev)
			continue;
		found = fd_writable(procfd, de->d_name);
	}
	closedir(d);
	return found;
}

size_t procfs_find_writers(dev_t dev, ino_t ino, struct opener *out,
			   size_t max)
{
	struct dirent *de;
	unsigned seen = 0;
	size_t n = 0;
	pid_t self = getpid();
	DIR *d = opendir("/proc");

	if (!d)
		return 0;
	while (n < max && seen++ < MAX_PROCS && (de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);
		int procfd;

		if (end == de->d_name || *end || pid <= 0 || pid == self)
			continue;
		procfd = openat(dirfd(d), de->d_name,
				O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (procfd < 0)
			continue;
		if (proc_writes(procfd, dev, ino)) {
			out[n].pid = (pid_t)pid;
			out[n].comm[0] = '\0';
			procfs_comm((pid_t)pid, out[n].comm,
				    sizeof(out[n].comm));
			n++;
		}
		close(procfd);
	}
	closedir(d);
	return n;
}
