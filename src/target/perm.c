#include "target/perm.h"

#include <unistd.h>

#include "target/procfs.h"

#define CONTAINER_HINT \
	"; in a container give snakescope CAP_SYS_PTRACE (docker run " \
	"--cap-add SYS_PTRACE) and, to reach processes outside it, --pid=host"

static int traced_by_other(struct err *e, pid_t pid, pid_t tid,
			   const char *action)
{
	pid_t tracer = 0;
	char comm[64] = "";

	if (procfs_tracer_pid(pid, tid, &tracer) || tracer <= 0 ||
	    tracer == getpid())
		return 0;
	procfs_comm(tracer, comm, sizeof(comm));
	return err_set(e, SS_EPERM,
		       "cannot %s process %d: it is already traced by pid "
		       "%d%s%s%s (detach that debugger first)", action,
		       (int)pid, (int)tracer, comm[0] ? " (" : "", comm,
		       comm[0] ? ")" : "");
}

int perm_error(struct err *e, pid_t pid, pid_t tid, const char *action)
{
	int p = (int)pid;

	if (traced_by_other(e, pid, tid, action))
		return SS_EPERM;
	switch (procfs_yama_ptrace_scope()) {
	case 1:
		return err_set(e, SS_EPERM,
			       "cannot %s process %d: not permitted "
			       "(kernel.yama.ptrace_scope is 1: only a parent "
			       "may trace its descendants); run snakescope as "
			       "root or with CAP_SYS_PTRACE, or set "
			       "kernel.yama.ptrace_scope=0" CONTAINER_HINT,
			       action, p);
	case 2:
		return err_set(e, SS_EPERM,
			       "cannot %s process %d: not permitted "
			       "(kernel.yama.ptrace_scope is 2: tracing needs "
			       "CAP_SYS_PTRACE); run snakescope as root or with "
			       "CAP_SYS_PTRACE" CONTAINER_HINT, action, p);
	case 3:
		return err_set(e, SS_EPERM,
			       "cannot %s process %d: not permitted "
			       "(kernel.yama.ptrace_scope is 3: tracing is "
			       "disabled until reboot); lower ptrace_scope at "
			       "the next boot", action, p);
	default:
		return err_set(e, SS_EPERM,
			       "cannot %s process %d: not permitted; run "
			       "snakescope as the process's user (a process "
			       "that changed its credentials is not dumpable) "
			       "or as root / with CAP_SYS_PTRACE"
			       CONTAINER_HINT, action, p);
	}
}
