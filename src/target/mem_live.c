/* Live process memory: process_vm_readv(2), or pread(2) on /proc/PID/mem
 * where that system call is missing.
 *
 * This is the hot path of a dump (thousands of small reads), so a read does
 * one system call in the common case, allocates nothing and formats a
 * message only when it fails.
 */
#include "target/mem_live.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "target/perm.h"
#include "target/procfs.h"

struct mem_live {
	struct memsrc base; /* first: a struct memsrc * is a struct mem_live * */
	pid_t pid;
	int fd; /* /proc/PID/mem for the pread fallback, else -1 */
};

static struct mem_live *to_live(struct memsrc *m)
{
	return (struct mem_live *)m;
}

/* Turn the errno of a failed read of [addr, addr+len) into the one recorded
 * message.  at is where the failing attempt started (after a short read it
 * lies inside the range); naming it tells which page is missing. */
static int read_failed(struct mem_live *ml, int errnum, uint64_t addr,
		       size_t len, uint64_t at)
{
	int pid = (int)ml->pid;

	switch (errnum) {
	case ESRCH:
		return err_set(ml->base.err, SS_EGONE, "process %d exited",
			       pid);
	case EPERM:
	case EACCES:
		return perm_error(ml->base.err, ml->pid, ml->pid,
				  "read the memory of");
	case ENOMEM:
		return err_set(ml->base.err, SS_ENOMEM,
			       "out of memory reading process %d", pid);
	case EFAULT:
	case EIO:
	case EINVAL: /* pread: offset beyond off_t */
		if (at != addr)
			return err_set(ml->base.err, SS_EFAULT,
				       "cannot read %zu bytes at 0x%" PRIx64
				       " in process %d: 0x%" PRIx64
				       " is not mapped", len, addr, pid, at);
		return err_set(ml->base.err, SS_EFAULT,
			       "cannot read %zu bytes at 0x%" PRIx64
			       " in process %d: address not mapped",
			       len, addr, pid);
	default:
		return err_set(ml->base.err, SS_EIO,
			       "cannot read memory of process %d: %s", pid,
			       strerror(errnum));
	}
}

/* Reject ranges that wrap around the address space before the kernel sees
 * them: the pointer casts below would otherwise hide the wrap. */
static int range_ok(uint64_t addr, size_t len)
{
	return (uint64_t)len <= UINT64_MAX - addr;
}

static int read_vm(struct memsrc *m, uint64_t addr, void *dst, size_t len)
{
	struct mem_live *ml = to_live(m);
	size_t done = 0;

	if (!range_ok(addr, len))
		return read_failed(ml, EFAULT, addr, len, addr);
	while (done < len) {
		struct iovec local = { (char *)dst + done, len - done };
		struct iovec remote = { (void *)(uintptr_t)(addr + done),
					len - done };
		ssize_t r = process_vm_readv(ml->pid, &local, 1, &remote, 1, 0);

		if (r > 0) {
			/* Short read: the range crosses into a page that is
			 * unmapped; retrying from there yields the error. */
			done += (size_t)r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		/* 0 bytes with no error would loop forever: treat as fault */
		return read_failed(ml, r < 0 ? errno : EFAULT, addr, len,
				   addr + done);
	}
	return 0;
}

static int read_procmem(struct memsrc *m, uint64_t addr, void *dst,
			size_t len)
{
	struct mem_live *ml = to_live(m);
	size_t done = 0;

	if (!range_ok(addr, len) || addr + len > (uint64_t)INT64_MAX)
		return read_failed(ml, EFAULT, addr, len, addr);
	while (done < len) {
		ssize_t r = pread(ml->fd, (char *)dst + done, len - done,
				  (off_t)(addr + done));

		if (r > 0) {
			done += (size_t)r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		/* /proc/PID/mem reads 0 bytes once the address space is
		 * gone, which is how an exit shows up here. */
		if (r == 0 && !procfs_pid_exists(ml->pid))
			return read_failed(ml, ESRCH, addr, len, addr + done);
		return read_failed(ml, r < 0 ? errno : EFAULT, addr, len,
				   addr + done);
	}
	return 0;
}

/* Batch: one process_vm_readv for up to BATCH segments.  The kernel stops
 * at the first remote range it cannot read and reports the bytes read
 * until then; the segments before it are whole, that one is skipped and
 * the rest go in the next call.  A segment that straddles a mapping's end
 * is read alone by read_vm() to know whether it is whole. */
#define BATCH 1024

static int readv_vm(struct memsrc *m, struct memseg *segs, size_t n)
{
	struct mem_live *ml = to_live(m);
	struct iovec local[BATCH], remote[BATCH];
	size_t i = 0;

	for (size_t k = 0; k < n; k++)
		segs[k].ok = false;
	while (i < n) {
		size_t k, cnt = n - i < BATCH ? n - i : BATCH, nremote = 0;
		ssize_t r;

		for (k = 0; k < cnt; k++) {
			const struct memseg *sg = &segs[i + k];
			struct iovec *prev = nremote ? &remote[nremote - 1] : NULL;

			local[k].iov_base = sg->dst;
			local[k].iov_len = sg->len;
			/* Adjacent ranges (pages of one stack chunk) are one
			 * remote range: the kernel looks up a mapping and pins
			 * pages once per range. */
			if (prev && (uintptr_t)prev->iov_base + prev->iov_len ==
				    sg->addr) {
				prev->iov_len += sg->len;
				continue;
			}
			remote[nremote].iov_base = (void *)(uintptr_t)sg->addr;
			remote[nremote++].iov_len = sg->len;
		}
		r = process_vm_readv(ml->pid, local, cnt, remote, nremote, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno != EFAULT)
			return read_failed(ml, errno, segs[i].addr, segs[i].len,
					   segs[i].addr);
		for (k = 0; k < cnt && r > 0 && (size_t)r >= segs[i + k].len; k++) {
			segs[i + k].ok = true;
			r -= (ssize_t)segs[i + k].len;
		}
		/* segs[i + k] failed (or was cut short): decide it alone. */
		if (k < cnt) {
			struct err *saved = ml->base.err, scratch;

			ml->base.err = &scratch;
			segs[i + k].ok = !read_vm(m, segs[i + k].addr,
						  segs[i + k].dst,
						  segs[i + k].len);
			ml->base.err = saved;
			k++;
		}
		i += k;
	}
	return 0;
}

static void live_release(struct memsrc *m)
{
	struct mem_live *ml = to_live(m);

	if (!ml)
		return;
	if (ml->fd >= 0)
		close(ml->fd);
	free(ml);
}

static const struct memsrc_ops vm_ops = {
	.name = "live",
	.read = read_vm,
	.release = live_release,
	.readv = readv_vm,
};

static const struct memsrc_ops procmem_ops = {
	.name = "live",
	.read = read_procmem,
	.release = live_release,
};

/* Whether process_vm_readv can be used at all.  A zero-length request
 * returns before the kernel looks at the target, so the only failures are
 * "no such system call" (ENOSYS: old or stripped kernels) and a seccomp
 * filter refusing it (EPERM: container profiles without CAP_SYS_PTRACE),
 * and /proc/PID/mem may still work in both cases. */
static int have_process_vm_readv(pid_t pid)
{
	return process_vm_readv(pid, NULL, 0, NULL, 0, 0) == 0 ||
	       (errno != ENOSYS && errno != EPERM);
}

int mem_live_open(struct memsrc **out, pid_t pid, struct err *e)
{
	struct mem_live *ml;

	*out = NULL;
	if (pid <= 0)
		return err_set(e, SS_EUSAGE, "invalid pid %d", (int)pid);
	if (!procfs_pid_exists(pid))
		return err_set(e, SS_EGONE, "no process with pid %d",
			       (int)pid);
	ml = calloc(1, sizeof(*ml));
	if (!ml)
		return err_set(e, SS_ENOMEM, "out of memory");
	ml->base.err = e;
	ml->pid = pid;
	ml->fd = -1;
	ml->base.ops = &vm_ops;
	if (!have_process_vm_readv(pid)) {
		char path[64];

		snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
		ml->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (ml->fd < 0) {
			int errnum = errno;

			free(ml);
			if (errnum == ENOENT || errnum == ESRCH)
				return err_set(e, SS_EGONE,
					       "no process with pid %d",
					       (int)pid);
			if (errnum == EACCES || errnum == EPERM)
				return perm_error(e, pid, pid,
						  "read the memory of");
			return err_set(e, SS_EIO, "cannot open %s: %s", path,
				       strerror(errnum));
		}
		ml->base.ops = &procmem_ops;
	}
	*out = &ml->base;
	return 0;
}
