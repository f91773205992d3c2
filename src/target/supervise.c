/* The event loop of `snakescope run`: waitpid() on every tracee, a
 * signalfd for the signals sent to snakescope. */
#include "target/supervise.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "target/procfs.h"

/* Passed on to the command when another process sends them to us. */
static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1,
				 SIGUSR2 };
#define NFORWARDED (sizeof(forwarded) / sizeof(forwarded[0]))

#define MAX_SIGINFO 16
/* A signal the command received from a sender this recently is taken
 * for the copy of one sent to its whole process group. */
#define SAME_SEND_NS 200000000LL

static long long mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static bool is_forwarded(int sig)
{
	for (size_t i = 0; i < NFORWARDED; i++)
		if (forwarded[i] == sig)
			return true;
	return false;
}

int supervisor_init(struct supervisor *s, int dump_sig, sigset_t *child_mask,
		    struct err *e)
{
	sigset_t set;

	s->dump_sig = dump_sig;
	s->sfd = -1;
	s->child_done = false;
	memset(&s->received, 0, sizeof(s->received));
	sigemptyset(&set);
	for (size_t i = 0; i < NFORWARDED; i++)
		sigaddset(&set, forwarded[i]);
	if (dump_sig > 0)
		sigaddset(&set, dump_sig);
	sigaddset(&set, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &set, &s->oldmask))
		return err_set(e, SS_EIO, "cannot block signals: %s",
			       strerror(errno));
	*child_mask = s->oldmask;
	s->sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (s->sfd < 0) {
		sigprocmask(SIG_SETMASK, &s->oldmask, NULL);
		return err_set(e, SS_EIO, "cannot open a signalfd: %s",
			       strerror(errno));
	}
	return 0;
}

void supervisor_release(struct supervisor *s)
{
	if (s->sfd >= 0)
		close(s->sfd);
	s->sfd = -1;
	sigprocmask(SIG_SETMASK, &s->oldmask, NULL);
}

void supervisor_reaped(struct supervisor *s, pid_t pid, int status)
{
	if (pid == s->child && !s->child_done) {
		s->child_done = true;
		s->child_status = status;
	}
}

bool supervise_is_crash(int sig, const siginfo_t *si, pid_t pid)
{
	/* kill() of itself is how a wrapper (unshare, timeout) dies of
	 * the signal its child died of: not a crash of its own.  abort()
	 * and raise() use tgkill (SI_TKILL). */
	if (si->si_code == SI_USER && si->si_pid == pid)
		return false;
	switch (sig) {
	case SIGSEGV:
	case SIGBUS:
	case SIGILL:
	case SIGFPE:
	case SIGABRT:
	case SIGSYS:
		return true;
	case SIGTRAP:
		/* A breakpoint the program hit itself (si_code > 0), or a
		 * raise(); not one another process (a debugger) sent. */
		return si->si_code > 0 || si->si_pid == pid;
	default:
		return false;
	}
}

static bool is_stop_signal(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN ||
	       sig == SIGTTOU;
}

/* A signal about to be delivered to tid: report it first when it is a
 * crash the process has no handler for (a handler, such as faulthandler,
 * runs first and re-raises with the default action if it means to die,
 * and the report comes then). */
static void note_received(struct supervisor *s, pid_t pid, int sig,
			  const siginfo_t *si)
{
	if (pid != s->child || !is_forwarded(sig) || si->si_code > 0)
		return;
	s->received.sig = sig;
	s->received.sender = si->si_pid;
	s->received.at_ns = mono_ns();
}

/* A signal about to be delivered to tid: report it first when it is a
 * crash the process has no handler for (a handler, such as faulthandler,
 * runs first and re-raises with the default action if it means to die,
 * and the report comes then). */
static void signal_stop(struct supervisor *s, pid_t tid, int sig)
{
	siginfo_t si;
	pid_t pid;

	memset(&si, 0, sizeof(si));
	if (ptrace(PTRACE_GETSIGINFO, tid, NULL, &si) < 0 ||
	    procfs_tgid(tid, &pid))
		goto deliver;
	note_received(s, pid, sig, &si);
	if (!s->ops.crash || !supervise_is_crash(sig, &si, pid) ||
	    procfs_signal_caught(pid, sig) == 1)
		goto deliver;
	s->ops.crash(s->ops.ctx, pid, tid, &si);
	ptrace(PTRACE_DETACH, tid, NULL, (void *)(long)sig);
	return;
deliver:
	ptrace(PTRACE_CONT, tid, NULL, (void *)(long)sig);
}

/* One wait status of a tracee. */
static void handle_status(struct supervisor *s, pid_t tid, int status)
{
	int event = status >> 16, sig;

	if (!WIFSTOPPED(status)) {
		supervisor_reaped(s, tid, status);
		return;
	}
	sig = WSTOPSIG(status);
	if (event == 0) {
		signal_stop(s, tid, sig);
		return;
	}
	/* A group-stop (Ctrl-Z, SIGSTOP) stays in force until SIGCONT;
	 * any other event stop (a new thread's first stop, an interrupt
	 * left over from a hold, clone, fork, exec) just goes on. */
	if (event == PTRACE_EVENT_STOP && is_stop_signal(sig))
		ptrace(PTRACE_LISTEN, tid, NULL, NULL);
	else
		ptrace(PTRACE_CONT, tid, NULL, NULL);
}

/* Collect every wait status pending.  -ECHILD when no tracee is left. */
static int drain(struct supervisor *s)
{
	for (;;) {
		int status;
		pid_t w = waitpid(-1, &status, __WALL | WNOHANG);

		if (w == 0)
			return 0;
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		handle_status(s, w, status);
	}
}

/* Whether the command has, or just had, its own copy of sig from
 * sender: kill() of a process group reaches every member at once. */
static bool child_got_it(struct supervisor *s, int sig, pid_t sender)
{
	drain(s);
	if (s->received.sig == sig && s->received.sender == sender &&
	    mono_ns() - s->received.at_ns < SAME_SEND_NS) {
		s->received.sig = 0;
		return true;
	}
	return procfs_signal_pending(s->child, sig) == 1;
}

static void handle_signal(struct supervisor *s,
			  const struct signalfd_siginfo *si)
{
	int sig = (int)si->ssi_signo;

	if (sig == SIGCHLD)
		return;
	if (sig == s->dump_sig) {
		if (s->ops.dump)
			s->ops.dump(s->ops.ctx);
		return;
	}
	/* From the terminal (SI_KERNEL) it reached the command's process
	 * group too; only what a process sent us alone is passed on. */
	if ((int)si->ssi_code > 0)
		return;
	if (!s->child_done && !child_got_it(s, sig, (pid_t)si->ssi_pid))
		kill(s->child, sig);
}

static void read_signals(struct supervisor *s)
{
	struct signalfd_siginfo si[MAX_SIGINFO];
	ssize_t n;

	for (;;) {
		n = read(s->sfd, si, sizeof(si));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		for (size_t i = 0; i < (size_t)n / sizeof(si[0]); i++)
			handle_signal(s, &si[i]);
	}
}

int supervisor_run(struct supervisor *s, int *status, struct err *e)
{
	struct pollfd p = { .fd = s->sfd, .events = POLLIN };
	int rc;

	for (;;) {
		rc = drain(s);
		if (s->child_done)
			break;
		if (rc == -ECHILD)
			return err_set(e, SS_EIO, "lost track of process %d",
				       (int)s->child);
		if (poll(&p, 1, -1) < 0 && errno != EINTR)
			return err_set(e, SS_EIO, "poll: %s", strerror(errno));
		read_signals(s);
	}
	/* Let whatever else stopped meanwhile go on before we leave. */
	drain(s);
	*status = s->child_status;
	return 0;
}
