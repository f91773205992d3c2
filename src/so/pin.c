#include "so/pin.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "util/err.h"
#include "util/xalloc.h"

/* Bound on extended attribute list retries (it may grow meanwhile). */
#define XATTR_TRIES 4

struct pin {
	const struct so_pin_target *t;
	struct so_pin_result *res;
	int dirfd, src, tmp;
	char dir[PATH_MAX + 64];
	const char *base;
	char tmpname[NAME_MAX + 1];
	struct stat st; /* the original, when opened */
};

static void failed(struct pin *p, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void failed(struct pin *p, int code, const char *fmt, ...)
{
	va_list ap;

	p->res->outcome = SO_PIN_FAILED;
	p->res->code = code;
	va_start(ap, fmt);
	vsnprintf(p->res->why, sizeof(p->res->why), fmt, ap);
	va_end(ap);
}

/* A failed system call on the file or its directory, in words. */
static void failed_errno(struct pin *p, int errnum, const char *doing)
{
	switch (errnum) {
	case EROFS:
		failed(p, SS_EIO, "read-only file system (remount it "
		       "read-write to pin it)");
		break;
	case EACCES:
	case EPERM:
		failed(p, SS_EPERM, "%s: permission denied (run as the "
		       "owner of its directory, or as root)", doing);
		break;
	case ENOSPC:
	case EDQUOT:
		failed(p, SS_EIO, "%s: no space left for the copy", doing);
		break;
	case ENOENT:
		failed(p, SS_EIO, "it disappeared while being pinned "
		       "(deleted or moved away); nothing changed");
		break;
	default:
		failed(p, SS_EIO, "%s: %s", doing, strerror(errnum));
		break;
	}
}

static bool is_mapped(const struct so_pin_target *t, const struct stat *st)
{
	return st->st_ino == t->ino && (!t->dev_known || st->st_dev == t->dev);
}

static int open_quietly_at(int dirfd, const char *name)
{
	int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC;
	int fd = openat(dirfd, name, flags | O_NOATIME);

	if (fd < 0 && errno == EPERM)
		fd = openat(dirfd, name, flags);
	return fd;
}

static int copy_bytes(struct pin *p)
{
	off_t in = 0, out = 0, size = p->st.st_size;
	char buf[65536];
	bool plain = false;

	/* Each round moves at least one byte or ends: the loop is bounded
	 * by the size. */
	while (in < size) {
		ssize_t n;

		if (!plain) {
			n = copy_file_range(p->src, &in, p->tmp, &out,
					    (size_t)(size - in), 0);
			if (n < 0 && (errno == EXDEV || errno == EINVAL ||
				      errno == ENOSYS || errno == EOPNOTSUPP)) {
				plain = true;
				continue;
			}
		} else {
			n = pread(p->src, buf, sizeof(buf) < (size_t)(size - in) ?
				  sizeof(buf) : (size_t)(size - in), in);
			if (n > 0) {
				ssize_t w = pwrite(p->tmp, buf, (size_t)n, out);

				if (w != n) {
					failed_errno(p, w < 0 ? errno : ENOSPC,
						     "cannot write the copy");
					return -1;
				}
				in += n;
				out += n;
			}
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			failed_errno(p, errno, "cannot copy it");
			return -1;
		}
		if (n == 0) {
			failed(p, SS_EIO, "it shrank while being copied "
			       "(someone is rewriting it); nothing changed");
			return -1;
		}
	}
	return 0;
}

static int copy_xattrs(struct pin *p)
{
	char *names = NULL, *val = NULL, *cur = NULL;
	ssize_t len = -1;
	int rc = 0;

	for (int tries = 0; tries < XATTR_TRIES; tries++) {
		len = flistxattr(p->src, NULL, 0);
		if (len <= 0)
			break;
		names = xrealloc(names, (size_t)len);
		len = flistxattr(p->src, names, (size_t)len);
		if (len >= 0 || errno != ERANGE)
			break;
	}
	if (len < 0 && errno != ENOTSUP) {
		failed_errno(p, errno, "cannot list its extended attributes");
		rc = -1;
	}
	for (ssize_t off = 0; len > 0 && off < len && !rc;
	     off += (ssize_t)strlen(names + off) + 1) {
		const char *name = names + off;
		ssize_t vlen = fgetxattr(p->src, name, NULL, 0), got;

		if (vlen < 0) {
			if (errno == ENODATA) /* removed meanwhile */
				continue;
			failed(p, SS_EIO, "cannot read extended attribute %s: "
			       "%s", name, strerror(errno));
			rc = -1;
			break;
		}
		val = xrealloc(val, (size_t)vlen + 1);
		cur = xrealloc(cur, (size_t)vlen + 1);
		vlen = fgetxattr(p->src, name, val, (size_t)vlen);
		if (vlen < 0) {
			failed(p, SS_EIO, "cannot read extended attribute %s: "
			       "%s", name, strerror(errno));
			rc = -1;
			break;
		}
		/* The new file may carry it already (a security label
		 * given on creation): setting it again could need a
		 * privilege we do not have for no change. */
		got = fgetxattr(p->tmp, name, cur, (size_t)vlen);
		if (got == vlen && !memcmp(cur, val, (size_t)vlen))
			continue;
		if (fsetxattr(p->tmp, name, val, (size_t)vlen, 0) != 0) {
			failed(p, errno == EPERM || errno == EACCES ?
			       SS_EPERM : SS_EIO,
			       "cannot give the copy extended attribute %s: "
			       "%s%s", name, strerror(errno),
			       errno == EPERM || errno == EACCES ?
			       " (run as root)" : "");
			rc = -1;
		}
	}
	free(names);
	free(val);
	free(cur);
	return rc;
}

/* Mode, owner, xattrs, then times (the others change ctime only). */
static int copy_metadata(struct pin *p)
{
	struct timespec times[2] = { p->st.st_atim, p->st.st_mtim };

	if (fchown(p->tmp, p->st.st_uid, p->st.st_gid) != 0) {
		failed(p, SS_EPERM, "cannot give the copy its owner %u:%u: "
		       "%s (run as root)", (unsigned)p->st.st_uid,
		       (unsigned)p->st.st_gid, strerror(errno));
		return -1;
	}
	/* after fchown, which clears set-user-ID and capabilities */
	if (fchmod(p->tmp, p->st.st_mode & 07777) != 0) {
		failed_errno(p, errno, "cannot set the copy's mode");
		return -1;
	}
	if (copy_xattrs(p))
		return -1;
	if (futimens(p->tmp, times) != 0) {
		failed_errno(p, errno, "cannot set the copy's times");
		return -1;
	}
	return 0;
}

/* Whether the original is still the mapped file, at its name. */
static int still_there(struct pin *p)
{
	struct stat now;

	if (fstatat(p->dirfd, p->base, &now, AT_SYMLINK_NOFOLLOW) != 0) {
		failed_errno(p, errno, "cannot look at it");
		return -1;
	}
	if (!is_mapped(p->t, &now) || now.st_size != p->st.st_size ||
	    now.st_mtim.tv_sec != p->st.st_mtim.tv_sec ||
	    now.st_mtim.tv_nsec != p->st.st_mtim.tv_nsec) {
		failed(p, SS_EIO, "it was replaced or written while being "
		       "pinned; nothing changed (try again)");
		return -1;
	}
	return 0;
}

/* Put the copy in place: rename(2) over the original, right after
 * still_there() checked it.  (RENAME_EXCHANGE would close the last small
 * window, but it moves the mapped file's dentry to the temporary name, and
 * /proc/PID/maps, lsof and `maps` would then show the process mapping
 * ".NAME.pin-XXXXXX (deleted)" instead of NAME.) */
static int swap_in(struct pin *p)
{
	if (renameat(p->dirfd, p->tmpname, p->dirfd, p->base) != 0) {
		failed_errno(p, errno, "cannot rename the copy into place");
		return -1;
	}
	p->tmpname[0] = '\0';
	return 0;
}

static int make_temp(struct pin *p)
{
	char path[PATH_MAX + 128];
	int n = snprintf(path, sizeof(path), "%s/.%.*s.pin-XXXXXX", p->dir,
			 NAME_MAX - 12, p->base);

	if (n < 0 || (size_t)n >= sizeof(path)) {
		failed(p, SS_EIO, "its path is too long");
		return -1;
	}
	p->tmp = mkostemp(path, O_CLOEXEC);
	if (p->tmp < 0) {
		failed_errno(p, errno, "cannot create a copy in its "
			     "directory");
		return -1;
	}
	snprintf(p->tmpname, sizeof(p->tmpname), "%s",
		 strrchr(path, '/') + 1);
	return 0;
}

/* Everything short of creating a file: is it there, is it the mapped
 * one, is its directory on a writable file system and writable to us. */
static int precheck(struct pin *p)
{
	struct statvfs vfs;

	if (fstatat(p->dirfd, p->base, &p->st, AT_SYMLINK_NOFOLLOW) != 0) {
		if (errno == ENOENT)
			failed(p, SS_EIO, "it is gone (deleted or moved "
			       "away); nothing to pin");
		else
			failed_errno(p, errno, "cannot look at it");
		return -1;
	}
	if (!S_ISREG(p->st.st_mode)) {
		failed(p, SS_EIO, "not a regular file");
		return -1;
	}
	if (!is_mapped(p->t, &p->st)) {
		p->res->outcome = SO_PIN_ALREADY;
		return 1;
	}
	if (fstatvfs(p->dirfd, &vfs) == 0 && (vfs.f_flag & ST_RDONLY)) {
		failed_errno(p, EROFS, "");
		return -1;
	}
	if (faccessat(p->dirfd, ".", W_OK, AT_EACCESS) != 0 &&
	    (errno == EACCES || errno == EPERM || errno == EROFS)) {
		failed_errno(p, errno, "cannot write to its directory");
		return -1;
	}
	return 0;
}

void so_pin_file(const struct so_pin_target *t, bool dry_run,
		 struct so_pin_result *res)
{
	struct pin p = { .t = t, .res = res, .dirfd = -1, .src = -1,
			 .tmp = -1 };
	char *slash;
	struct stat after;

	memset(res, 0, sizeof(*res));
	snprintf(p.dir, sizeof(p.dir), "%s", t->host);
	slash = strrchr(p.dir, '/');
	if (!slash || !slash[1]) {
		failed(&p, SS_EIO, "not a file name");
		return;
	}
	*slash = '\0';
	p.base = t->host + (slash - p.dir) + 1;
	p.dirfd = open(p.dir[0] ? p.dir : "/",
		       O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (p.dirfd < 0) {
		failed_errno(&p, errno, "cannot open its directory");
		return;
	}
	if (precheck(&p))
		goto out;
	if (dry_run) {
		res->outcome = SO_PIN_DRY;
		goto out;
	}
	p.src = open_quietly_at(p.dirfd, p.base);
	if (p.src < 0 || fstat(p.src, &p.st) != 0) {
		failed_errno(&p, errno, "cannot read it");
		goto out;
	}
	if (!is_mapped(t, &p.st)) {
		res->outcome = SO_PIN_ALREADY;
		goto out;
	}
	if (make_temp(&p) || copy_bytes(&p))
		goto out;
	if (fstat(p.src, &after) != 0 || after.st_size != p.st.st_size ||
	    after.st_mtim.tv_sec != p.st.st_mtim.tv_sec ||
	    after.st_mtim.tv_nsec != p.st.st_mtim.tv_nsec) {
		failed(&p, SS_EIO, "it changed while being copied (someone "
		       "is rewriting it); nothing changed");
		goto out;
	}
	if (copy_metadata(&p))
		goto out;
	if (fsync(p.tmp) != 0) {
		failed_errno(&p, errno, "cannot sync the copy");
		goto out;
	}
	if (still_there(&p) || swap_in(&p))
		goto out;
	if (fsync(p.dirfd) != 0 && errno != EINVAL) {
		failed_errno(&p, errno, "pinned, but cannot sync the "
			     "directory");
		goto out;
	}
	res->outcome = SO_PIN_DONE;
	if (p.st.st_nlink > 1)
		snprintf(res->why, sizeof(res->why), "it has %lu other hard "
			 "link%s, which still reach the mapped file",
			 (unsigned long)p.st.st_nlink - 1,
			 p.st.st_nlink == 2 ? "" : "s");
out:
	if (p.tmpname[0])
		unlinkat(p.dirfd, p.tmpname, 0);
	if (p.tmp >= 0)
		close(p.tmp);
	if (p.src >= 0)
		close(p.src);
	close(p.dirfd);
}
