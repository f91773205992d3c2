/* The private channel: see channel.h. */
#include "cmd/channel.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "target/procfs.h"

#define SOCK_NAME "sock"
#define MAX_MESSAGE (64u << 20)

/* The target's user and group, from /proc/PID/status (effective ids). */
static int target_owner(pid_t pid, uid_t *uid, gid_t *gid)
{
	char path[64], line[256];
	unsigned long r, ef;
	int found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Uid: %lu %lu", &r, &ef) == 2)
			*uid = (uid_t)ef, found |= 1;
		else if (sscanf(line, "Gid: %lu %lu", &r, &ef) == 2)
			*gid = (gid_t)ef, found |= 2;
	}
	fclose(f);
	return found == 3 ? 0 : -1;
}

static void host_path(const struct channel *c, const char *name, char *buf,
		      size_t len)
{
	snprintf(buf, len, "%s/%s", c->host_dir, name);
}

int channel_open(struct channel *c, pid_t pid, struct err *e)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char tmpl[128], sock[160];
	uid_t uid;
	gid_t gid;

	memset(c, 0, sizeof(*c));
	c->pid = pid;
	c->listen_fd = c->fd = -1;
	snprintf(tmpl, sizeof(tmpl), "/proc/%d/root/tmp/snakescope-XXXXXX",
		 (int)pid);
	if (!mkdtemp(tmpl))
		return err_set(e, errno == EACCES ? SS_EPERM : SS_EIO,
			       "cannot make a private directory in the "
			       "target's /tmp (%s): %s", tmpl, strerror(errno));
	snprintf(c->host_dir, sizeof(c->host_dir), "%s", tmpl);
	snprintf(c->target_dir, sizeof(c->target_dir), "/tmp/%s",
		 strrchr(tmpl, '/') + 1);
	snprintf(c->target_sock, sizeof(c->target_sock), "%s/" SOCK_NAME,
		 c->target_dir);
	/* As root, hand the directory to the target's user: it must be able
	 * to connect, and nobody else. */
	if (geteuid() == 0 && target_owner(pid, &uid, &gid) == 0 &&
	    chown(c->host_dir, uid, gid) < 0)
		return err_set(e, SS_EIO, "cannot hand %s to the target's user: "
			       "%s", c->host_dir, strerror(errno));
	host_path(c, SOCK_NAME, sock, sizeof(sock));
	if (strlen(sock) >= sizeof(sa.sun_path))
		return err_set(e, SS_EIO, "socket path too long: %s", sock);
	memcpy(sa.sun_path, sock, strlen(sock) + 1);
	c->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->listen_fd < 0 ||
	    bind(c->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(c->listen_fd, 4) < 0)
		return err_set(e, SS_EIO, "cannot listen on %s: %s", sock,
			       strerror(errno));
	if (geteuid() == 0 && target_owner(pid, &uid, &gid) == 0 &&
	    chown(sock, uid, gid) < 0)
		return err_set(e, SS_EIO, "cannot hand %s to the target's user: "
			       "%s", sock, strerror(errno));
	return 0;
}

int channel_write_file(struct channel *c, const char *name, const char *text,
		       char *target_path, size_t len, struct err *e)
{
	char path[PATH_MAX];
	size_t n = strlen(text);
	uid_t uid;
	gid_t gid;
	int fd;

	host_path(c, name, path, sizeof(path));
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_set(e, SS_EIO, "cannot create %s: %s", path,
			       strerror(errno));
	if (write(fd, text, n) != (ssize_t)n) {
		close(fd);
		return err_set(e, SS_EIO, "cannot write %s", path);
	}
	if (geteuid() == 0 && target_owner(c->pid, &uid, &gid) == 0 &&
	    fchown(fd, uid, gid) < 0) {
		close(fd);
		return err_set(e, SS_EIO, "cannot hand %s to the target's "
			       "user: %s", path, strerror(errno));
	}
	close(fd);
	snprintf(target_path, len, "%s/%s", c->target_dir, name);
	return 0;
}

/* Wait up to timeout_ms (-1: no limit) for fd to be readable: 1 it is, 0
 * not yet (the time is up, or an unrelated signal), -2 c->stop is set,
 * -1 an error.  The stop signals are held from the flag's check to the
 * wait, which lets them in: one that comes between the two ends the wait
 * rather than being seen only when the target next speaks. */
static int wait_readable(const struct channel *c, int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	struct timespec ts, *tp = NULL;
	sigset_t open_mask;
	int r;

	if (timeout_ms >= 0) {
		ts.tv_sec = timeout_ms / 1000;
		ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000L;
		tp = &ts;
	}
	if (c->stop)
		sigprocmask(SIG_BLOCK, &c->stop_sigs, &open_mask);
	if (c->stop && *c->stop)
		r = -2;
	else
		r = ppoll(&p, 1, tp, c->stop ? &open_mask : NULL);
	if (r == -1)
		r = errno != EINTR ? -1 : c->stop && *c->stop ? -2 : 0;
	if (c->stop)
		sigprocmask(SIG_SETMASK, &open_mask, NULL);
	return r > 0 ? 1 : r;
}

int channel_accept(struct channel *c, int timeout_ms, struct err *e)
{
	int waited = 0;

	while (waited < timeout_ms) {
		int slice = timeout_ms - waited > 100 ? 100 :
			    timeout_ms - waited;
		int r = wait_readable(c, c->listen_fd, slice);

		if (r == -1)
			return err_set(e, SS_EIO, "poll: %s", strerror(errno));
		if (r == -2)
			return err_set(e, SS_EINTR, "interrupted");
		if (r > 0) {
			c->fd = accept4(c->listen_fd, NULL, NULL,
					SOCK_CLOEXEC);
			if (c->fd >= 0)
				return 1;
			if (errno != EINTR && errno != EAGAIN)
				return err_set(e, SS_EIO, "accept: %s",
					       strerror(errno));
		}
		waited += slice;
		if (!procfs_pid_exists(c->pid))
			return err_set(e, SS_EGONE, "process %d exited",
				       (int)c->pid);
	}
	return 0;
}

int channel_send_raw(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int channel_send(struct channel *c, char kind, const void *buf, size_t len,
		 struct err *e)
{
	uint8_t hdr[5] = { (uint8_t)kind, (uint8_t)(len >> 24),
			   (uint8_t)(len >> 16), (uint8_t)(len >> 8),
			   (uint8_t)len };

	if (channel_send_raw(c->fd, hdr, 5) ||
	    channel_send_raw(c->fd, buf, len))
		return err_set(e, SS_EGONE, "the target closed the channel: %s",
			       strerror(errno));
	return 0;
}

/* 0, 1 at a clean end of stream, -1 on error or a cut message, -2 when
 * interrupted with c->stop set. */
static int read_all(const struct channel *c, void *buf, size_t len,
		    bool first)
{
	char *p = buf;
	size_t got = 0;

	while (got < len) {
		int r = wait_readable(c, c->fd, -1);
		ssize_t n;

		if (r == -2)
			return -2;
		if (r == -1)
			return -1;
		if (r == 0)
			continue;
		n = recv(c->fd, p + got, len - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 && got == 0 && first)
			return 1;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

int channel_recv(struct channel *c, char *kind, char **buf, size_t *len,
		 struct err *e)
{
	uint8_t hdr[5];
	size_t n;
	int rc = read_all(c, hdr, 5, true);

	*buf = NULL;
	if (rc == -2)
		return err_set(e, SS_EINTR, "interrupted");
	if (rc == 1)
		return 1;
	if (rc)
		return 1; /* cut mid-message: the target went away */
	n = (size_t)hdr[1] << 24 | (size_t)hdr[2] << 16 |
	    (size_t)hdr[3] << 8 | hdr[4];
	if (n > MAX_MESSAGE)
		return err_set(e, SS_ECORRUPT, "message of %zu bytes from the "
			       "target", n);
	*buf = malloc(n + 1);
	if (!*buf)
		return err_set(e, SS_ENOMEM, "out of memory");
	rc = read_all(c, *buf, n, false);
	if (rc) {
		free(*buf);
		*buf = NULL;
		return rc == -2 ? err_set(e, SS_EINTR, "interrupted") : 1;
	}
	(*buf)[n] = '\0';
	*kind = (char)hdr[0];
	*len = n;
	return 0;
}

void channel_close(struct channel *c)
{
	DIR *d;
	struct dirent *de;

	if (c->fd >= 0)
		close(c->fd);
	if (c->listen_fd >= 0)
		close(c->listen_fd);
	c->fd = c->listen_fd = -1;
	if (!c->host_dir[0])
		return;
	d = opendir(c->host_dir);
	while (d && (de = readdir(d))) {
		if (de->d_name[0] != '.')
			unlinkat(dirfd(d), de->d_name, 0);
	}
	if (d)
		closedir(d);
	rmdir(c->host_dir);
	c->host_dir[0] = '\0';
}
