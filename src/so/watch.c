#include "so/watch.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "so/filter.h"
#include "so/object.h"
#include "target/procfs.h"
#include "target/rootview.h"
#include "util/xalloc.h"

#define WATCH_MASK (IN_OPEN | IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB | \
		    IN_DELETE_SELF | IN_MOVE_SELF)
/* Rereading maps for new files, and the exit check without a pidfd. */
#define RESCAN_MS 1000
/* The same warning about the same file is repeated at most this often. */
#define REPEAT_NS 2000000000LL
/* Bound on inotify reads per wakeup (each drains up to 64 kB). */
#define MAX_READS 64

struct watched {
	int wd;             /* -1 once inotify dropped it */
	char *view;
	uint64_t map_ino;   /* as the maps line names it (the key) */
	unsigned map_major, map_minor;
	dev_t dev;          /* as stat sees it, for the writer search */
	ino_t ino;
	char *probe;        /* a path that stats the mapped inode */
	uint32_t pending;   /* event mask gathered in this wakeup */
	long long last_warn[2];
	bool unlinked_told;
};

struct watch {
	pid_t pid;
	const struct so_watch_opts *opts;
	so_watch_fn fn;
	void *arg;
	int ifd;
	struct target_root root;
	struct watched *v;
	size_t n, cap;
	unsigned warnings;
	int add_errno;      /* why the last inotify_add_watch failed */
};

static long long now_ns(clockid_t clk)
{
	struct timespec t;

	clock_gettime(clk, &t);
	return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static void emit(struct watch *w, struct so_watch_event *ev)
{
	ev->pid = w->pid;
	clock_gettime(CLOCK_REALTIME, &ev->when);
	w->fn(ev, w->arg);
}

static struct watched *find_key(struct watch *w, const struct so_object *o)
{
	for (size_t i = 0; i < w->n; i++)
		if (w->v[i].wd >= 0 && w->v[i].map_ino == o->inode &&
		    w->v[i].map_major == o->dev_major &&
		    w->v[i].map_minor == o->dev_minor)
			return &w->v[i];
	return NULL;
}

static struct watched *find_wd(struct watch *w, int wd)
{
	for (size_t i = 0; i < w->n; i++)
		if (w->v[i].wd == wd)
			return &w->v[i];
	return NULL;
}

/* Watch the mapped inode of o: through map_files (the inode itself,
 * named or not), else through the path when it still names it. */
static void add_one(struct watch *w, const struct so_object *o)
{
	char mf[96], host[PATH_MAX + 64];
	const char *probe = mf;
	struct watched *x;
	struct stat st;
	int wd;

	snprintf(mf, sizeof(mf), "/proc/%d/map_files/%llx-%llx", (int)w->pid,
		 (unsigned long long)o->maps[0].start,
		 (unsigned long long)o->maps[0].end);
	if (stat(mf, &st) != 0) {
		if (target_root_host_path(&w->root, o->view, host,
					  sizeof(host)) ||
		    stat(host, &st) != 0 || st.st_ino != o->inode)
			return;
		probe = host;
	}
	wd = inotify_add_watch(w->ifd, probe, WATCH_MASK);
	if (wd < 0)
		w->add_errno = errno;
	if (wd < 0 || find_wd(w, wd)) /* one inode, two objects: once */
		return;
	XGROW(w->v, w->cap, w->n + 1);
	x = &w->v[w->n++];
	memset(x, 0, sizeof(*x));
	x->wd = wd;
	x->view = xstrdup(o->view);
	x->map_ino = o->inode;
	x->map_major = o->dev_major;
	x->map_minor = o->dev_minor;
	x->dev = st.st_dev;
	x->ino = st.st_ino;
	x->probe = xstrdup(probe);
}

static int add_watches(struct watch *w, struct err *e)
{
	struct so_objects objs;
	struct maps maps;
	int rc = procfs_read_maps(w->pid, &maps, e);

	if (rc)
		return rc;
	so_objects_build(&maps, w->root.prefix, &objs);
	maps_release(&maps);
	for (size_t i = 0; i < objs.n; i++) {
		const struct so_object *o = &objs.v[i];

		if (!w->opts->all && so_path_is_system(o->view))
			continue;
		if (!find_key(w, o))
			add_one(w, o);
	}
	so_objects_release(&objs);
	return 0;
}

static size_t count_watched(const struct watch *w)
{
	size_t n = 0;

	for (size_t i = 0; i < w->n; i++)
		n += w->v[i].wd >= 0;
	return n;
}

static void warn(struct watch *w, struct watched *x,
		 enum so_watch_kind kind, const struct opener *wr, size_t nwr)
{
	struct so_watch_event ev = { .kind = kind, .path = x->view };
	int slot = kind == SO_WATCH_MODIFIED;
	long long t = now_ns(CLOCK_MONOTONIC);

	if (x->last_warn[slot] && t - x->last_warn[slot] < REPEAT_NS)
		return;
	x->last_warn[slot] = t;
	ev.nwriters = nwr;
	memcpy(ev.writers, wr, nwr * sizeof(*wr));
	w->warnings++;
	emit(w, &ev);
}

/* Act on the events gathered for one file in this wakeup. */
static void settle(struct watch *w, struct watched *x)
{
	struct opener wr[SO_WATCH_MAX_WRITERS];
	uint32_t m = x->pending;
	size_t nwr = 0;
	struct stat st;

	x->pending = 0;
	if (m & (IN_OPEN | IN_MODIFY | IN_CLOSE_WRITE))
		nwr = procfs_find_writers(x->dev, x->ino, wr,
					  SO_WATCH_MAX_WRITERS);
	if (m & IN_MODIFY)
		warn(w, x, SO_WATCH_MODIFIED, wr, nwr);
	else if ((m & IN_OPEN) && nwr)
		warn(w, x, SO_WATCH_OPEN_WRITE, wr, nwr);
	else if (m & IN_CLOSE_WRITE) /* opened for writing, already closed */
		warn(w, x, SO_WATCH_OPEN_WRITE, wr, nwr);
	if (!x->unlinked_told &&
	    ((m & (IN_DELETE_SELF | IN_MOVE_SELF)) ||
	     ((m & IN_ATTRIB) && stat(x->probe, &st) == 0 &&
	      st.st_nlink == 0))) {
		struct so_watch_event ev = { .kind = SO_WATCH_UNLINKED,
					     .path = x->view };

		x->unlinked_told = true;
		emit(w, &ev);
	}
	if (m & IN_IGNORED) /* inode gone or file system unmounted */
		x->wd = -1;
}

static void drain_inotify(struct watch *w)
{
	char buf[65536] __attribute__((aligned(__alignof__(struct inotify_event))));
	int reads = 0;

	for (;;) {
		ssize_t n = read(w->ifd, buf, sizeof(buf));
		ssize_t off = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		while (off + (ssize_t)sizeof(struct inotify_event) <= n) {
			const struct inotify_event *ie =
				(const struct inotify_event *)(buf + off);
			struct watched *x = find_wd(w, ie->wd);

			if (x)
				x->pending |= ie->mask;
			off += (ssize_t)sizeof(*ie) + ie->len;
		}
		if (++reads >= MAX_READS)
			break;
	}
	for (size_t i = 0; i < w->n; i++)
		if (w->v[i].pending)
			settle(w, &w->v[i]);
}

/* Without a pidfd: gone, or a zombie nobody has reaped yet. */
static bool process_gone(pid_t pid)
{
	char state = 0;

	if (!procfs_pid_exists(pid))
		return true;
	return procfs_thread_state(pid, pid, &state) == 0 &&
	       (state == 'Z' || state == 'X');
}

static int open_pidfd(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	errno = ENOSYS;
	return -1;
#endif
}

int so_watch(pid_t pid, const struct so_watch_opts *o, so_watch_fn fn,
	     void *arg, unsigned *warnings, struct err *e)
{
	struct watch w = { .pid = pid, .opts = o, .fn = fn, .arg = arg,
			   .ifd = -1 };
	struct so_watch_event ev = { 0 };
	sigset_t sigs, old;
	int sfd = -1, pfd = -1, rc = 0;
	long long last_scan;

	*warnings = 0;
	if (!procfs_pid_exists(pid))
		return err_set(e, SS_EGONE, "no process with pid %d", (int)pid);
	target_root_init(&w.root, pid);
	w.ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w.ifd < 0)
		return err_set(e, SS_EIO, "cannot use inotify: %s (raise "
			       "fs.inotify.max_user_instances)",
			       strerror(errno));
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, &old);
	sfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0) {
		/* The signals are blocked: without the signalfd nothing
		 * would ever stop the watch. */
		rc = err_set(e, SS_EIO, "cannot use signalfd: %s",
			     strerror(errno));
		goto out;
	}
	pfd = open_pidfd(pid);
	rc = add_watches(&w, e);
	if (rc)
		goto out;
	if (!count_watched(&w) && w.add_errno == ENOSPC) {
		rc = err_set(e, SS_EIO, "no inotify watch left (raise "
			     "fs.inotify.max_user_watches)");
		goto out;
	}
	ev.kind = SO_WATCH_STARTED;
	ev.nfiles = count_watched(&w);
	emit(&w, &ev);
	last_scan = now_ns(CLOCK_MONOTONIC);
	for (;;) {
		struct pollfd p[3] = {
			{ .fd = w.ifd, .events = POLLIN },
			{ .fd = sfd, .events = POLLIN },
			{ .fd = pfd, .events = POLLIN },
		};
		int r = poll(p, pfd >= 0 ? 3 : 2, RESCAN_MS);

		if (r < 0 && errno != EINTR) {
			rc = err_set(e, SS_EIO, "poll: %s", strerror(errno));
			break;
		}
		if (r > 0 && (p[0].revents & POLLIN))
			drain_inotify(&w);
		if (r > 0 && (p[1].revents & POLLIN)) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				memset(&ev, 0, sizeof(ev));
				ev.kind = SO_WATCH_STOPPED;
				ev.signo = (int)si.ssi_signo;
				emit(&w, &ev);
				break;
			}
		}
		if (pfd >= 0 ? (r > 0 && (p[2].revents & (POLLIN | POLLHUP))) :
		    process_gone(pid)) {
			/* A last look: writes that raced the exit. */
			drain_inotify(&w);
			memset(&ev, 0, sizeof(ev));
			ev.kind = SO_WATCH_EXITED;
			emit(&w, &ev);
			break;
		}
		if (now_ns(CLOCK_MONOTONIC) - last_scan >=
		    RESCAN_MS * 1000000LL) {
			struct err ignored;

			/* The process may be exiting: a failed reread is
			 * settled by the exit check above next time. */
			add_watches(&w, &ignored);
			last_scan = now_ns(CLOCK_MONOTONIC);
		}
	}
out:
	*warnings = w.warnings;
	for (size_t i = 0; i < w.n; i++) {
		free(w.v[i].view);
		free(w.v[i].probe);
	}
	free(w.v);
	if (pfd >= 0)
		close(pfd);
	if (sfd >= 0)
		close(sfd);
	close(w.ifd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return rc;
}
