/* The private channel between snakescope and code it runs in a target: a
 * unix socket in a fresh 0700 directory made under the target's own /tmp
 * (reached through /proc/PID/root, so it works for a target in a chroot
 * or another mount namespace), owned by the target's user.  Messages are
 * framed: one kind byte, a 4-byte big-endian length, the payload. */
#ifndef SS_CMD_CHANNEL_H
#define SS_CMD_CHANNEL_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <sys/types.h>

#include "util/err.h"

struct channel {
	pid_t pid;
	int listen_fd;
	int fd;                       /* the accepted connection, or -1 */
	char host_dir[128];           /* the directory as we reach it */
	char target_dir[128];       /* ... and as the target names it */
	char target_sock[160];     /* the socket's path for the target */
	/* when set and nonzero, a wait gives up (SS_EINTR) instead of
	 * carrying on; stop_sigs are the signals whose handlers set it */
	volatile sig_atomic_t *stop;
	sigset_t stop_sigs;
};

/* Make the directory and listen on its socket. */
int channel_open(struct channel *c, pid_t pid, struct err *e);

/* Write a file of the channel directory (0600, the target's owner). */
int channel_write_file(struct channel *c, const char *name, const char *text,
		       char *target_path, size_t len, struct err *e);

/* Wait up to timeout_ms for the target to connect: 1 connected, 0 timed
 * out, or a negative SS_E*.  Gives up early when pid is gone. */
int channel_accept(struct channel *c, int timeout_ms, struct err *e);

int channel_send(struct channel *c, char kind, const void *buf, size_t len,
		 struct err *e);

/* All of buf on socket fd, unframed (pdb's input lines), without SIGPIPE
 * when the peer is gone: 0 or -1. */
int channel_send_raw(int fd, const void *buf, size_t len);

/* Receive one message; *buf is malloc'ed and NUL-terminated.  0, 1 at
 * end of stream (the target closed it, or died), or SS_E* (SS_EINTR: see
 * stop). */
int channel_recv(struct channel *c, char *kind, char **buf, size_t *len,
		 struct err *e);

/* Close everything and remove the socket, files and directory: code that
 * reaches its safe point later finds nobody and does nothing. */
void channel_close(struct channel *c);

#endif
