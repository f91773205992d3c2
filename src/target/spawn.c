/* fork + PTRACE_SEIZE + exec, with exec failures reported through a
 * close-on-exec pipe. */
#include "target/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

long spawn_ptrace_options(bool kill_on_exit)
{
	long o = PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK |
		 PTRACE_O_TRACEVFORK | PTRACE_O_TRACEEXEC;

	return kill_on_exit ? o | PTRACE_O_EXITKILL : o;
}

static ssize_t read_full(int fd, void *buf, size_t len)
{
	ssize_t r;

	do
		r = read(fd, buf, len);
	while (r < 0 && errno == EINTR);
	return r;
}

/* In the child: wait until the parent has attached, then exec.  Only
 * async-signal-safe calls from here on (the parent may have threads). */
static void __attribute__((noreturn))
child_exec(char *const argv[], int go_fd, int err_fd, const sigset_t *mask)
{
	char go;
	int errnum;

	sigprocmask(SIG_SETMASK, mask, NULL);
	if (read_full(go_fd, &go, 1) != 1)
		_exit(127);
	close(go_fd);
	execvp(argv[0], argv);
	errnum = errno;
	if (write(err_fd, &errnum, sizeof(errnum)) < 0)
		_exit(127);
	_exit(127);
}

static void close_pair(int p[2])
{
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	p[0] = p[1] = -1;
}

int spawn_traced(char *const argv[], bool kill_on_exit,
		 const sigset_t *child_mask, pid_t *pid, int *exec_errno,
		 struct err *e)
{
	int go[2] = { -1, -1 }, ex[2] = { -1, -1 }, errnum = 0, rc = 0;
	ssize_t n;
	pid_t c;

	*exec_errno = 0;
	if (pipe2(go, O_CLOEXEC) || pipe2(ex, O_CLOEXEC)) {
		rc = err_set(e, SS_EIO, "cannot create a pipe: %s",
			     strerror(errno));
		goto out;
	}
	c = fork();
	if (c < 0) {
		rc = err_set(e, SS_EIO, "cannot fork: %s", strerror(errno));
		goto out;
	}
	if (c == 0) {
		close(go[1]);
		close(ex[0]);
		child_exec(argv, go[0], ex[1], child_mask);
	}
	close(go[0]);
	close(ex[1]);
	go[0] = ex[1] = -1;
	if (ptrace(PTRACE_SEIZE, c, NULL,
		   (void *)spawn_ptrace_options(kill_on_exit)) < 0) {
		rc = err_set(e, SS_EIO, "cannot trace '%s': %s", argv[0],
			     strerror(errno));
		kill(c, SIGKILL);
		waitpid(c, NULL, 0);
		goto out;
	}
	if (write(go[1], "g", 1) != 1) {
		rc = err_set(e, SS_EIO, "cannot start '%s'", argv[0]);
		kill(c, SIGKILL);
		waitpid(c, NULL, __WALL);
		goto out;
	}
	/* EOF: exec succeeded (the pipe closed on exec); an errno: it
	 * failed and the child exits. */
	n = read_full(ex[0], &errnum, sizeof(errnum));
	if (n == (ssize_t)sizeof(errnum)) {
		*exec_errno = errnum ? errnum : ENOEXEC;
		while (waitpid(c, NULL, __WALL) < 0 && errno == EINTR)
			;
	}
	*pid = c;
out:
	close_pair(go);
	close_pair(ex);
	return rc;
}
