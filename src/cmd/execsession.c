/* See execsession.h. */
#include "cmd/execsession.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>

#include "cmd/bootstrap.h"
#include "target/procfs.h"

#define RETRY_NAP_NS 2000000L
/* how long a shim's thread is waited for silently, then in all */
#define SHIM_QUICK_NS 1000000000LL
#define SHIM_PATIENT_NS 20000000000LL

/* Ctrl-C, kill or a closed terminal while the code is handed over: the
 * signal that asked snakescope to stop, taken only so that the target is
 * tidied up first (see exec_session_run()). */
static volatile sig_atomic_t stop_signal;
/* how many came: a second one calls off the wait for a shim's thread */
static volatile sig_atomic_t stop_count;
static const int stop_signals[] = { SIGINT, SIGTERM, SIGHUP };
#define NSTOP (sizeof(stop_signals) / sizeof(stop_signals[0]))

static void on_stop_signal(int sig)
{
	stop_signal = sig;
	stop_count++;
}

/* No SA_RESTART: the naps, poll() and recv() return to look at the
 * flag. */
static void take_stop_signals(struct exec_session *es)
{
	struct sigaction sa = { .sa_handler = on_stop_signal };

	if (es->sigs_taken)
		return;
	stop_signal = 0;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&es->ch.stop_sigs);
	for (size_t i = 0; i < NSTOP; i++) {
		sigaction(stop_signals[i], &sa, &es->old_sigs[i]);
		sigaddset(&es->ch.stop_sigs, stop_signals[i]);
	}
	es->sigs_taken = true;
	es->ch.stop = &stop_signal;
}

/* Put the handlers back, and die of a signal that came meanwhile as
 * snakescope would have without them. */
static void give_back_stop_signals(struct exec_session *es)
{
	if (!es->sigs_taken)
		return;
	es->sigs_taken = false;
	es->ch.stop = NULL;
	for (size_t i = 0; i < NSTOP; i++)
		sigaction(stop_signals[i], &es->old_sigs[i], NULL);
	if (stop_signal)
		raise(stop_signal);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *syscall_name(long nr)
{
	switch (nr) {
	case SYS_futex:
		return "futex (a lock or condition wait)";
	case SYS_nanosleep:
	case SYS_clock_nanosleep:
		return "a sleep";
	case SYS_select:
	case SYS_pselect6:
	case SYS_poll:
	case SYS_ppoll:
	case SYS_epoll_wait:
	case SYS_epoll_pwait:
		return "select/poll";
	case SYS_read:
	case SYS_readv:
	case SYS_recvfrom:
	case SYS_recvmsg:
		return "a read";
	default:
		return "a system call";
	}
}

static int timed_out(struct exec_session *es, unsigned timeout,
		     struct err *e)
{
	const struct runcode *rc = &es->rc;
	pid_t pid = es->lv.pid;
	char holder[64] = "";

	if (rc->gil_holder)
		snprintf(holder, sizeof(holder), " (thread %d holds it)",
			 (int)rc->gil_holder);
	switch (rc->mech) {
	case SAFE_IDLE_THREAD:
		return err_set(e, SS_EIO, "process %d reached no safe point "
			       "within %u s: thread %d, waiting in %s, was "
			       "set to run the code but never got the GIL%s; "
			       "a thread holding the GIL in native code never "
			       "lets go (the code will not run)", (int)pid,
			       timeout, (int)rc->tid, syscall_name(rc->syscall),
			       holder);
	case SAFE_PENDING_CALL:
		return err_set(e, SS_EIO, "process %d reached no safe point "
			       "within %u s: every thread computes, and the "
			       "main thread, asked to run the code between "
			       "two bytecodes, never did (native code holding "
			       "the GIL?); the code will not run", (int)pid,
			       timeout);
	case SAFE_REMOTE_DEBUG:
		return err_set(e, SS_EIO, "process %d reached no safe point "
			       "within %u s: every thread computes, and the "
			       "main thread, asked through the interpreter's "
			       "remote debugging support (PEP 768), never "
			       "looked (native code holding the GIL?); the "
			       "code will not run", (int)pid, timeout);
	default:
		if (rc->holder_stuck)
			return err_set(e, SS_EIO, "process %d reached no safe "
				       "point within %u s: %s, so code run in "
				       "any thread would wait for the GIL "
				       "(nothing was run)", (int)pid, timeout,
				       rc->why_not);
		return err_set(e, SS_EIO, "process %d reached no safe point "
			       "within %u s: no thread waits with the GIL "
			       "released, and %s", (int)pid, timeout,
			       rc->why_not[0] ? rc->why_not :
			       "the main thread cannot take a pending call");
	}
}

/* Hand the bootstrap over, retrying while no safe point is in sight. */
static int hand_over(struct exec_session *es, long long deadline,
		     struct err *e)
{
	for (;;) {
		struct timespec nap = { 0, RETRY_NAP_NS };
		int rc = runcode_try(&es->rc, e);

		if (rc <= 0)
			return rc;
		if (now_ms() >= deadline)
			return 1;
		nanosleep(&nap, NULL);
		if (stop_signal)
			return err_set(e, SS_EINTR, "interrupted");
	}
}

/* Checked once the pid is known to be a Python process, so that a wrong
 * pid is reported as such and not as a wrong thread. */
static int check_thread(pid_t pid, pid_t tid, struct err *e)
{
	char state;

	if (!tid || procfs_thread_state(pid, tid, &state) == 0)
		return 0;
	return err_set(e, SS_EUSAGE, "thread %d is not a thread of process %d "
		       "(its threads are listed in /proc/%d/task)", (int)tid,
		       (int)pid, (int)pid);
}

int exec_session_open(struct exec_session *es, int pid, pid_t tid,
		      struct err *e)
{
	int rc;

	memset(es, 0, sizeof(*es));
	es->ch.fd = es->ch.listen_fd = -1;
	es->tid = tid;
	rc = live_open(&es->lv, pid, e);
	if (rc)
		return rc;
	es->lv_open = true;
	rc = check_thread(pid, tid, e);
	if (!rc)
		rc = channel_open(&es->ch, pid, e);
	if (rc)
		exec_session_end(es, false);
	return rc;
}

int exec_session_run(struct exec_session *es, unsigned timeout,
		     const char *payload, size_t len, struct err *e)
{
	long long deadline = now_ms() + (long long)timeout * 1000;
	pid_t pid = es->lv.pid;
	int rc;

	es->boot = bootstrap_source(es->ch.target_sock, payload, len);
	es->rc.lv = &es->lv;
	es->rc.code = es->boot;
	es->rc.only_tid = es->tid;
	if (es->lv.py.layout.rdbg.present) {
		rc = channel_write_file(&es->ch, "boot.py", es->boot,
					es->script, sizeof(es->script), e);
		if (rc)
			goto fail;
		es->rc.script = es->script;
	}
	/* From the hand-over on, a shim may be in the target: an interrupted
	 * run still frees it (if its thread is done with it) before going. */
	take_stop_signals(es);
	rc = hand_over(es, deadline, e);
	if (rc == 1)
		rc = timed_out(es, timeout, e);
	/* a signal held off while the target was stopped lands here */
	if (rc == 0 && stop_signal)
		rc = err_set(e, SS_EINTR, "interrupted");
	else if (rc == 0) {
		rc = channel_accept(&es->ch, (int)(deadline - now_ms() > 0 ?
						   deadline - now_ms() : 0), e);
		if (rc == 0)
			rc = timed_out(es, timeout, e);
	}
	if (rc == 1 && stop_signal)
		rc = err_set(e, SS_EINTR, "interrupted");
	if (rc < 0)
		runcode_cancel(&es->rc);
	if (rc < 0) {
		if (rc == SS_EGONE || !procfs_pid_exists(pid))
			rc = err_set(e, SS_EGONE, "process %d exited",
				     (int)pid);
		exec_session_end(es, false);
		return rc;
	}
	if (!es->sigs_until_end)
		give_back_stop_signals(es);
	return 0;
fail:
	if (rc == SS_EGONE || !procfs_pid_exists(pid))
		rc = err_set(e, SS_EGONE, "process %d exited", (int)pid);
	exec_session_end(es, false);
	return rc;
}

int exec_session_start(struct exec_session *es, int pid, pid_t tid,
		       unsigned timeout, const char *payload, size_t len,
		       struct err *e)
{
	int rc = exec_session_open(es, pid, tid, e);

	es->sigs_until_end = true;
	if (!rc)
		rc = exec_session_run(es, timeout, payload, len, e);
	return rc;
}

void exec_payload(struct strbuf *sb, const char *name, const char *src)
{
	strbuf_addstr(sb, name);
	strbuf_add(sb, "", 1);
	strbuf_addstr(sb, src);
}

int exec_session_results(struct exec_session *es, FILE *out, struct err *e)
{
	for (;;) {
		char kind = 0, *buf = NULL;
		size_t len = 0;
		int rc = channel_recv(&es->ch, &kind, &buf, &len, e);

		if (rc < 0)
			return rc;
		if (rc == 1)
			return exec_session_lost(es->ch.pid, e);
		if (kind == MSG_OUT) {
			fwrite(buf, 1, len, out);
			fflush(out);
		} else if (kind == MSG_ERR || kind == MSG_EXC) {
			fflush(stdout);
			fwrite(buf, 1, len, stderr);
		}
		free(buf);
		if (kind == MSG_DONE)
			return 0;
		if (kind == MSG_EXC)
			return 1;
	}
}

static bool gone(pid_t pid)
{
	char state = '?';

	return !procfs_pid_exists(pid) ||
	       (procfs_thread_state(pid, pid, &state) == 0 &&
		(state == 'Z' || state == 'X'));
}

int exec_session_lost(pid_t pid, struct err *e)
{
	/* A dying process closes its sockets before it becomes a zombie:
	 * give it a moment to finish. */
	for (int i = 0; i < 100 && !gone(pid); i++) {
		struct timespec nap = { 0, 10000000 };

		nanosleep(&nap, NULL);
	}
	if (gone(pid))
		return err_set(e, SS_EGONE, "process %d exited while the code "
			       "ran", (int)pid);
	return err_set(e, SS_EIO, "process %d closed the channel before the "
		       "code finished (did the code close it, or fork?)",
		       (int)pid);
}

/* The shim's thread normally leaves it within microseconds of the code's
 * end, or of finding the channel gone once it has the GIL.  One that
 * still waits for the GIL (2.7's, whose holder mostly takes it straight
 * back; a loaded machine) is waited for longer, saying so, rather than
 * leaving executable pages in the target; another stop signal calls the
 * wait off.  Code given up on while it runs (it connected) may run for
 * ever: no longer wait for that. */
static void release_shim(struct exec_session *es, bool finished, bool ran)
{
	struct runcode_wait w = { .budget_ns = SHIM_QUICK_NS };
	bool freed = runcode_cleanup(&es->rc, finished, &w);

	if (!freed && (finished || !ran)) {
		w.budget_ns = SHIM_PATIENT_NS;
		if (es->sigs_taken) {
			w.stops = &stop_count;
			w.stops_at_start = stop_count;
		}
		fprintf(stderr, "snakescope: waiting up to %lld s for thread "
			"%d of process %d to %s the code handed to it, to "
			"unmap that code%s\n",
			SHIM_PATIENT_NS / 1000000000LL, (int)es->rc.tid,
			(int)es->lv.pid, finished ? "leave" :
			"take the GIL and leave",
			w.stops ? " (Ctrl-C again leaves it mapped)" : "");
		freed = runcode_cleanup(&es->rc, finished, &w);
	}
	if (!freed)
		fprintf(stderr, "snakescope: left %llu bytes of code mapped at "
			"0x%llx in process %d: thread %d %s\n",
			(unsigned long long)es->rc.shim_len,
			(unsigned long long)es->rc.shim, (int)es->lv.pid,
			(int)es->rc.tid, finished ? "has not left it yet" :
			ran ? "still runs the code" :
			"has not taken the GIL yet");
}

void exec_session_end(struct exec_session *es, bool finished)
{
	bool ran = es->ch.fd >= 0;

	channel_close(&es->ch);
	if (es->rc.shim)
		release_shim(es, finished, ran);
	free(es->boot);
	es->boot = NULL;
	if (es->lv_open)
		live_close(&es->lv);
	es->lv_open = false;
	give_back_stop_signals(es);
}
