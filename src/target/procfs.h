/* What /proc says about a process and its threads.
 *
 * Paths in maps and from procfs_exe() are as the kernel prints them, i.e.
 * relative to snakescope's own root; that is what the target sees unless
 * it is chrooted or in another mount namespace.  Open them through
 * procfs_root_path() to see the target's files rather than ours.
 *
 * Functions return 0 or a negative SS_E*: a vanished process or thread is
 * SS_EGONE, a permission problem SS_EPERM.  Those that take a struct err
 * record the message; the small per-thread helpers that are called in
 * loops do not, so that the caller can decide whether a failure matters.
 */
#ifndef SS_TARGET_PROCFS_H
#define SS_TARGET_PROCFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/err.h"

struct mapping {
	uint64_t start, end, offset;
	uint64_t inode;
	unsigned dev_major, dev_minor;
	char perms[5]; /* "r-xp" */
	/* NULL for anonymous memory; pseudo names such as "[heap]" and
	 * "[stack]" are kept; a " (deleted)" suffix is stripped and reported
	 * in deleted.  A newline in a file name appears as "\012", as the
	 * kernel escapes it. */
	char *path;
	bool deleted;
};

struct maps {
	struct mapping *v; /* ascending by start, as the kernel lists them */
	size_t n;
};

/* Parse /proc/PID/maps.  No such pid -> SS_EGONE "no process with pid N";
 * not allowed -> SS_EPERM.  On error *out is left empty. */
int procfs_read_maps(pid_t pid, struct maps *out, struct err *e);
void maps_release(struct maps *m);

/* The thread ids in /proc/PID/task, ascending; free(*tids) when done. */
int procfs_list_tids(pid_t pid, pid_t **tids, size_t *n, struct err *e);

/* The innermost id from the NSpid: line of /proc/PID/task/TID/status,
 * which is the id the target itself sees (what Python stores as
 * native_thread_id).  Equals tid when the target shares our pid namespace
 * or the kernel predates NSpid (4.1). */
int procfs_ns_tid(pid_t pid, pid_t tid, pid_t *ns_tid);

/* The process (thread group) that thread tid belongs to. */
int procfs_tgid(pid_t tid, pid_t *tgid);

/* 1 if process pid has a handler for sig (SigCgt), 0 if not, or a
 * negative SS_E*. */
int procfs_signal_caught(pid_t pid, int sig);
/* Whether sig is pending for process pid as a whole (kill(), not
 * tgkill()): 1 yes, 0 no, or a negative SS_E* code. */
int procfs_signal_pending(pid_t pid, int sig);

/* /proc/PID/task/TID/comm (the thread's name) without the newline. */
int procfs_thread_comm(pid_t pid, pid_t tid, char *buf, size_t len);

/* The state letter from /proc/PID/task/TID/stat: R, S, D, T, t, Z, X, I. */
int procfs_thread_state(pid_t pid, pid_t tid, char *state);

/* TracerPid from /proc/PID/task/TID/status: 0 when nobody traces it. */
int procfs_tracer_pid(pid_t pid, pid_t tid, pid_t *tracer);

/* /proc/PID/comm without the newline, truncated to fit len. */
int procfs_comm(pid_t pid, char *buf, size_t len);

/* /proc/PID/cmdline with its arguments joined by spaces (control
 * characters too), cut to fit size; "" when it cannot be read. */
void procfs_cmdline(pid_t pid, char *buf, size_t size);

/* readlink /proc/PID/exe with " (deleted)" stripped.  A path that does not
 * fit len is SS_EIO; a process without one (kernel thread, zombie) is
 * SS_EGONE if it is gone and SS_EIO otherwise. */
int procfs_exe(pid_t pid, char *buf, size_t len);

/* The path under which snakescope can open the file the target knows as
 * path: "/proc/PID/root" + path.  That link is the target's root
 * directory, so this works across chroots and mount namespaces
 * (containers).  Does not touch the file system; too long -> SS_EIO. */
int procfs_root_path(pid_t pid, const char *path, char *buf, size_t len);

/* 1 if /proc/PID exists (zombies included), else 0. */
int procfs_pid_exists(pid_t pid);

/* Whether pid lives in our PID namespace, where its tids are ours too. */
bool procfs_same_pid_namespace(pid_t pid);

/* kernel.yama.ptrace_scope: 0-3, or -1 when Yama is not built in. */
int procfs_yama_ptrace_scope(void);

#endif
