/* Choosing a safe point and handing code to it.  See runcode.h. */
#include "cmd/runcode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>

#include "elf/elffile.h"
#include "elf/nearsym.h"
#include "target/arch.h"
#include "target/inject.h"
#include "target/mem_cache.h"
#include "target/ptrace.h"
#include "target/rootview.h"
#include "util/clock.h"

#define MAX_TSTATES 4096
#define GIL_SPAN 256 /* the GIL's mutex and condition follow its flag */

enum sym_id { S_ENSURE, S_RELEASE, S_RUN, S_PENDING, S_COUNT };

static const char *const sym_names[S_COUNT] = {
	[S_ENSURE] = "PyGILState_Ensure",
	[S_RELEASE] = "PyGILState_Release",
	[S_RUN] = "PyRun_SimpleStringFlags",
	[S_PENDING] = "Py_AddPendingCall",
};

/* What the chooser knows about the target, gathered with it held. */
struct facts {
	struct elf_file interp_elf;
	bool have_elf;
	uint64_t bias;                 /* interpreter ELF load bias */
	uint64_t sym[S_COUNT];
	uint64_t errno_location;
	uint64_t libc_syscall;
	uint64_t gadget;
	uint64_t gil_flag;             /* address of the GIL's locked flag */
	/* 3.6: the GIL's statics in ceval.c; 2.7: where interpreter_lock,
	 * the GIL's semaphore, is pointed to from */
	uint64_t gil_statics[4];
	uint64_t py2_lock_ptr;
	uint64_t gil_waits[5];         /* futex words of a GIL wait */
	size_t ngil_waits;
	uint64_t gil_holder_ident;     /* pthread_t of the holder, 0 if none */
	uint64_t idents[MAX_TSTATES];  /* pthread_t of every thread state */
	uint64_t tstates[MAX_TSTATES]; /* ... and where that state is */
	size_t nidents;
};

struct job {
	struct runcode *rc;
	struct stopset *s;
	struct facts *f;
	struct err *e;
};

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* The lowest offset-0 mapping of the file the target names view. */
static const struct mapping *find_elf_mapping(const struct live *lv,
					      const struct target_root *root,
					      bool (*match)(const char *view,
							    const void *arg),
					      const void *arg)
{
	const struct mapping *best = NULL;

	for (size_t i = 0; i < lv->maps.n; i++) {
		const struct mapping *m = &lv->maps.v[i];

		if (!m->path || m->offset != 0 ||
		    !match(target_root_view(root, m->path), arg))
			continue;
		if (!best || m->start < best->start)
			best = m;
	}
	return best;
}

static bool same_path(const char *view, const void *arg)
{
	return strcmp(view, arg) == 0;
}

static bool is_libc(const char *view, const void *arg)
{
	const char *b = base_name(view);

	(void)arg;
	return strncmp(b, "libc.so", 7) == 0 || strncmp(b, "libc-", 5) == 0;
}

static int open_at(const struct live *lv, const struct mapping *m,
		   struct elf_file *f, uint64_t *bias, struct err *e)
{
	int rc = py_open_mapped_elf(lv->pid, m->path, m->start, m->end, f, e);

	if (!rc)
		*bias = elf_is_pie(f) ? m->start - f->min_vaddr : 0;
	return rc;
}

/* Before 3.7 the GIL lives in statics of ceval.c (.symtab only; without
 * it, a thread queueing for the GIL cannot be told from others). */
static void lookup_gil_statics(struct elf_file *elf, struct facts *f)
{
	static const char *const names[4] = { "gil_cond", "gil_mutex",
					      "switch_cond", "switch_mutex" };
	uint64_t v;

	for (int i = 0; i < 4; i++) {
		v = elf_lookup_file_local(elf, "ceval.c", names[i]);
		f->gil_statics[i] = v ? v + f->bias : 0;
	}
	v = elf_lookup_file_local(elf, "ceval.c", "interpreter_lock");
	f->py2_lock_ptr = v ? v + f->bias : 0;
}

static int resolve_symbols(struct live *lv, struct facts *f, struct err *e)
{
	const char *interp = lv->py.library[0] ? lv->py.library :
			     lv->py.executable;
	const char *libc_names[2] = { "__errno_location", "syscall" };
	uint64_t libc_syms[2] = { 0, 0 };
	struct target_root root;
	const struct mapping *m;
	struct elf_file libc;
	uint64_t bias;
	int rc;

	target_root_init(&root, lv->pid);
	m = find_elf_mapping(lv, &root, same_path, interp);
	if (!m)
		return err_set(e, SS_ENOTPY, "cannot find %s in the mappings "
			       "of process %d", interp, (int)lv->pid);
	rc = open_at(lv, m, &f->interp_elf, &f->bias, e);
	if (rc)
		return rc;
	f->have_elf = true;
	elf_lookup_symbols(&f->interp_elf, sym_names, S_COUNT, f->sym, NULL);
	for (int i = 0; i < S_COUNT; i++) {
		if (!f->sym[i])
			return err_set(e, SS_ENOTPY, "%s has no symbol %s, "
				       "which running code needs", interp,
				       sym_names[i]);
		f->sym[i] += f->bias;
	}
	/* a scan of the whole .symtab per name: only where needed */
	if (!PY_VERSION_AT_LEAST(&lv->py.layout, 3, 7))
		lookup_gil_statics(&f->interp_elf, f);
	m = find_elf_mapping(lv, &root, is_libc, NULL);
	if (!m)
		return err_set(e, SS_ENOTPY, "process %d has no C library "
			       "mapped (statically linked?)", (int)lv->pid);
	rc = open_at(lv, m, &libc, &bias, e);
	if (rc)
		return rc;
	elf_lookup_symbols(&libc, libc_names, 2, libc_syms, NULL);
	elf_file_close(&libc);
	for (int i = 0; i < 2; i++)
		if (!libc_syms[i])
			return err_set(e, SS_ENOTPY, "the C library of process "
				       "%d has no %s", (int)lv->pid,
				       libc_names[i]);
	f->errno_location = libc_syms[0] + bias;
	f->libc_syscall = libc_syms[1] + bias;
	return 0;
}

/* The gadget of an earlier try serves again (libc does not move). */
static int find_gadget(struct runcode *rc, struct facts *f, struct err *e)
{
	int err = 0;

	if (!rc->gadget)
		err = inject_find_gadget(rc->lv->raw, &rc->lv->maps,
					 &rc->gadget, e);
	f->gadget = rc->gadget;
	return err;
}

static uint64_t read_ptr(struct live *lv, uint64_t addr)
{
	uint64_t v = 0;

	if (!addr || memsrc_read(lv->mem, addr, &v, sizeof(v)))
		return 0;
	return v;
}

/* The GIL's flag and holder (3.7+: the layout knows them; before, the
 * current thread state), and the
 * pthread_t of every thread state of the main interpreter.  All best
 * effort: what cannot be read stays unknown. */
static void read_interp_state(struct live *lv, struct facts *f)
{
	const struct py_layout *l = &lv->py.layout;
	uint64_t interp = 0, gil, holder = 0, ts;
	int32_t locked = 0;
	struct err ignored;

	f->gil_flag = f->gil_holder_ident = 0;
	f->nidents = 0;
	if (py_proc_first_interp(&lv->py, &interp, &ignored) || !interp)
		return;
	if (lv->py.runtime && l->runtime_gil_locked != OFF_NONE &&
	    l->runtime_gil_last_holder != OFF_NONE) {
		f->gil_flag = lv->py.runtime + (uint64_t)l->runtime_gil_locked;
		holder = read_ptr(lv, lv->py.runtime +
				  (uint64_t)l->runtime_gil_last_holder);
	} else if (l->interp_gil != OFF_NONE && l->gil_locked != OFF_NONE &&
		   (gil = read_ptr(lv, interp + (uint64_t)l->interp_gil))) {
		f->gil_flag = gil + (uint64_t)l->gil_locked;
		holder = read_ptr(lv, gil + (uint64_t)l->gil_last_holder);
	}
	if (f->gil_flag &&
	    (memsrc_read(lv->mem, f->gil_flag, &locked, sizeof(locked)) ||
	     !locked))
		holder = 0;
	/* 2.7 and 3.6: the current thread state is the GIL's holder, NULL
	 * while it is released. */
	if (!f->gil_flag && lv->py.tstate_current)
		holder = read_ptr(lv, lv->py.tstate_current);
	f->ngil_waits = 0;
	for (int i = 0; i < 4; i++)
		if (f->gil_statics[i])
			f->gil_waits[f->ngil_waits++] = f->gil_statics[i];
	if (f->py2_lock_ptr && (ts = read_ptr(lv, f->py2_lock_ptr)))
		f->gil_waits[f->ngil_waits++] = ts;
	if (holder && l->tstate_thread_id != OFF_NONE)
		f->gil_holder_ident = read_ptr(lv, holder +
					       (uint64_t)l->tstate_thread_id);
	ts = read_ptr(lv, interp + (uint64_t)l->interp_tstate_head);
	while (ts && f->nidents < MAX_TSTATES) {
		f->tstates[f->nidents] = ts;
		f->idents[f->nidents++] =
			read_ptr(lv, ts + (uint64_t)l->tstate_thread_id);
		ts = read_ptr(lv, ts + (uint64_t)l->tstate_next);
	}
}

/* System calls a thread waits in inside Py_BEGIN_ALLOW_THREADS (sleep,
 * select and poll, lock acquires, reads, waits for children).  A thread in
 * any other call (mmap, write...) may be inside malloc or stdio holding a
 * C lock that running Python would need again. */
static bool waiting_syscall(long nr)
{
	static const long waits[] = {
		SYS_read, SYS_readv, SYS_pread64, SYS_recvfrom, SYS_recvmsg,
		SYS_select, SYS_pselect6, SYS_poll, SYS_ppoll,
		SYS_epoll_wait, SYS_epoll_pwait, SYS_nanosleep,
		SYS_clock_nanosleep, SYS_futex, SYS_accept, SYS_accept4,
		SYS_wait4, SYS_waitid, SYS_pause, SYS_connect,
		/* a sleep or timed wait of these resumed after a stop */
		SYS_restart_syscall,
	};

	for (size_t i = 0; i < sizeof(waits) / sizeof(waits[0]); i++)
		if (waits[i] == nr)
			return true;
	return false;
}

static bool is_python_thread(const struct facts *f, uint64_t ident)
{
	for (size_t i = 0; i < f->nidents; i++)
		if (f->idents[i] == ident)
			return true;
	return false;
}

/* A thread queueing for the GIL sleeps on the GIL's condition variable or
 * mutex.  It must never be chosen: made to wait for the GIL a second time
 * on the same condition variable, it would wait forever (glibc wakes the
 * newer waiter only once the older one, now suspended, has woken). */
static bool waits_for_gil(const struct facts *f, const arch_regs *r)
{
	uint64_t a = arch_syscall_arg0(r);

	/* restart_syscall: a timed futex wait resumed after a stop, its
	 * arguments still in place */
	if (arch_syscall_nr(r) != SYS_futex &&
	    arch_syscall_nr(r) != SYS_restart_syscall)
		return false;
	if (f->gil_flag && a + 64 >= f->gil_flag && a < f->gil_flag + GIL_SPAN)
		return true;
	for (size_t i = 0; i < f->ngil_waits; i++)
		if (a >= f->gil_waits[i] && a < f->gil_waits[i] + 64)
			return true;
	return false;
}

static bool idle_candidate(const struct job *j, pid_t tid,
			   const arch_regs *r)
{
	uint64_t ident = stopset_fs_base(j->s, tid);

	return stopset_pending_signal(j->s, tid) == 0 &&
	       arch_syscall_nr(r) >= 0 && waiting_syscall(arch_syscall_nr(r)) &&
	       (!j->f->nidents || is_python_thread(j->f, ident)) &&
	       ident != j->f->gil_holder_ident && !waits_for_gil(j->f, r);
}

/* Function names at whose instructions Py_AddPendingCall() could wait for
 * a lock this very thread holds. */
static bool in_lock_code(const char *name)
{
	static const char *const bad[] = {
		"ending", "PyThread_", "PyMutex", "ParkingLot", "ock",
		"gil", "_PySemaphore", "signal",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (strstr(name, bad[i]))
			return true;
	return false;
}

/* Whether pc lies in the interpreter's own code; if not, where says in
 * what it lies. */
static bool in_interpreter(const struct runcode *rc, uint64_t pc,
			   char *where, size_t len)
{
	const char *interp = base_name(rc->lv->py.library[0] ?
				       rc->lv->py.library :
				       rc->lv->py.executable);

	snprintf(where, len, "anonymous memory");
	for (size_t i = 0; i < rc->lv->maps.n; i++) {
		const struct mapping *m = &rc->lv->maps.v[i];

		if (pc < m->start || pc >= m->end)
			continue;
		if (m->perms[2] == 'x' && m->path &&
		    !strcmp(base_name(m->path), interp))
			return true;
		snprintf(where, len, "%s",
			 m->path ? base_name(m->path) : "anonymous memory");
		break;
	}
	return false;
}

/* Whether the main thread, computing, stands where it may call
 * Py_AddPendingCall(): inside the interpreter's own code, outside any
 * lock and the pending-call machinery. */
static bool pending_ok(struct job *j, const arch_regs *r)
{
	struct runcode *rc = j->rc;
	uint64_t pc = arch_pc(r);
	char name[256];

	if (waits_for_gil(j->f, r))
		return true;
	if (arch_syscall_nr(r) >= 0) {
		snprintf(rc->why_not, sizeof(rc->why_not),
			 "the main thread is in system call %ld",
			 arch_syscall_nr(r));
		return false;
	}
	if (!in_interpreter(rc, pc, name, sizeof(name))) {
		snprintf(rc->why_not, sizeof(rc->why_not),
			 "the main thread runs native code outside the "
			 "interpreter (in %s)", name);
		return false;
	}
	if (elf_nearest_symbol(&j->f->interp_elf, pc - j->f->bias, name,
			       sizeof(name)) == 0 && in_lock_code(name)) {
		snprintf(rc->why_not, sizeof(rc->why_not),
			 "the main thread is inside %s", name);
		return false;
	}
	return true;
}

/* Whether the GIL's holder looks set to pass the GIL on at its next switch
 * interval: it runs the interpreter's own code, or a short system call.
 * One that waits in a system call (usleep, a read) or computes in native
 * code elsewhere while holding the GIL may keep it for good: a shim
 * handed to an idle thread then would queue for the GIL, past any
 * timeout, and could be neither withdrawn nor freed.  Such a holder is
 * waited out (runcode_try() says 1) instead. */
static bool holder_lets_go(struct runcode *rc, const arch_regs *r)
{
	long nr = arch_syscall_nr(r);
	char where[128];

	if (nr >= 0 && waiting_syscall(nr)) {
		snprintf(rc->why_not, sizeof(rc->why_not),
			 "thread %d holds the GIL while it waits in system "
			 "call %ld (native code that keeps the GIL)",
			 (int)rc->gil_holder, nr);
		return false;
	}
	if (nr < 0 && !in_interpreter(rc, arch_pc(r), where, sizeof(where))) {
		snprintf(rc->why_not, sizeof(rc->why_not),
			 "thread %d holds the GIL in native code outside the "
			 "interpreter (in %s)", (int)rc->gil_holder, where);
		return false;
	}
	return true;
}

static int hand_over(struct job *j, pid_t tid, const arch_regs *r,
		     enum shim_kind kind)
{
	struct runcode *rc = j->rc;
	struct shim_spec spec = {
		.kind = kind,
		.errno_location = j->f->errno_location,
		.libc_syscall = j->f->libc_syscall,
		.gil_ensure = j->f->sym[S_ENSURE],
		.gil_release = j->f->sym[S_RELEASE],
		.run_string = j->f->sym[S_RUN],
		.add_pending = j->f->sym[S_PENDING],
		.code = rc->code,
		.saved = *r,
	};
	size_t len = arch_shim_size(&spec);
	uint8_t *buf = malloc(len);
	uint64_t addr = 0;
	arch_regs entry = *r;
	int err;

	if (!buf)
		return err_set(j->e, SS_ENOMEM, "out of memory");
	err = inject_mmap(j->s, tid, j->f->gadget, len, &addr, j->e);
	if (!err) {
		arch_build_shim(buf, addr, &spec);
		err = inject_write(rc->lv->pid, addr, buf, len, j->e);
	}
	if (!err)
		err = inject_make_exec(j->s, tid, j->f->gadget, addr,
				       ARCH_SHIM_CODE_LEN, j->e);
	if (!err) {
		arch_setup_shim_entry(&entry, addr);
		err = inject_set_regs(tid, &entry, j->e);
	}
	if (err && addr) {
		struct err ignored;

		inject_munmap(j->s, tid, j->f->gadget, addr, len, &ignored);
	}
	free(buf);
	if (err)
		return err;
	rc->tid = tid;
	rc->syscall = arch_syscall_nr(r);
	rc->shim = addr;
	rc->shim_len = len;
	rc->mech = kind == SHIM_RUN ? SAFE_IDLE_THREAD : SAFE_PENDING_CALL;
	return 0;
}

/* PEP 768: the script path and the pending flag in the thread state's
 * debugger support, then the eval-breaker bit that makes the thread look
 * (_PY_EVAL_PLEASE_STOP_BIT).  Every thread is held, so nothing updates
 * the eval breaker meanwhile. */
#define EVAL_PLEASE_STOP_BIT (1u << 5)

static int remote_debug(struct job *j, pid_t tid)
{
	struct runcode *rc = j->rc;
	const struct py_layout *l = &rc->lv->py.layout;
	uint64_t ident = stopset_fs_base(j->s, tid), ts = 0, breaker = 0;
	size_t len = strlen(rc->script) + 1;
	int32_t one = 1;
	int err;

	for (size_t i = 0; i < j->f->nidents && !ts; i++)
		if (j->f->idents[i] == ident)
			ts = j->f->tstates[i];
	if (!ts) {
		snprintf(rc->why_not, sizeof(rc->why_not),
			 "the main thread has no thread state");
		return 1;
	}
	if (len > l->rdbg.script_path_size)
		return err_set(j->e, SS_EIO, "script path %s longer than the "
			       "%llu bytes the interpreter has room for",
			       rc->script,
			       (unsigned long long)l->rdbg.script_path_size);
	err = inject_write(rc->lv->pid, ts + (uint64_t)(l->rdbg.support +
						       l->rdbg.script_path),
			   rc->script, len, j->e);
	if (!err)
		err = inject_write(rc->lv->pid,
				   ts + (uint64_t)(l->rdbg.support +
						   l->rdbg.pending_call),
				   &one, sizeof(one), j->e);
	if (!err && memsrc_read(rc->lv->raw, ts + (uint64_t)l->rdbg.eval_breaker,
				&breaker, sizeof(breaker)))
		err = err_set(j->e, SS_EFAULT, "cannot read the eval breaker "
			      "of thread %d", (int)tid);
	breaker |= EVAL_PLEASE_STOP_BIT;
	if (!err)
		err = inject_write(rc->lv->pid,
				   ts + (uint64_t)l->rdbg.eval_breaker,
				   &breaker, sizeof(breaker), j->e);
	if (err)
		return err;
	rc->tid = tid;
	rc->rdbg_tstate = ts;
	rc->mech = SAFE_REMOTE_DEBUG;
	return 0;
}

static pid_t tid_of_ident(const struct job *j, uint64_t ident)
{
	for (size_t i = 0; ident && i < j->s->n; i++)
		if (j->s->fs_base[i] == ident)
			return j->s->tids[i];
	return 0;
}

static int choose_job(void *arg)
{
	struct job *j = arg;
	struct runcode *rc = j->rc;
	pid_t main_tid = rc->lv->pid, pick = 0;
	arch_regs main_regs, pick_regs, holder_regs;
	bool have_main = false, have_holder = false;
	int err;

	rc->gil_holder = tid_of_ident(j, j->f->gil_holder_ident);
	for (size_t i = 0; i < j->s->n; i++) {
		pid_t tid = j->s->tids[i];
		arch_regs r;

		if (rc->only_tid && tid != rc->only_tid)
			continue;
		err = inject_get_regs(tid, &r, j->e);
		if (err == SS_EGONE)
			continue;
		if (err)
			return err;
		if (tid == main_tid)
			main_regs = r, have_main = true;
		if (tid == rc->gil_holder)
			holder_regs = r, have_holder = true;
		if (idle_candidate(j, tid, &r) && (!pick || tid == main_tid))
			pick = tid, pick_regs = r;
	}
	/* whatever the mechanism, the code would need the GIL first */
	if (have_holder && !holder_lets_go(rc, &holder_regs)) {
		rc->holder_stuck = true;
		return 1;
	}
	if (pick)
		return hand_over(j, pick, &pick_regs, SHIM_RUN);
	if (rc->only_tid && rc->only_tid != main_tid) {
		snprintf(rc->why_not, sizeof(rc->why_not), "thread %d is not "
			 "waiting in a system call with the GIL released",
			 (int)rc->only_tid);
		return 1;
	}
	if (!have_main) {
		snprintf(rc->why_not, sizeof(rc->why_not),
			 "no thread waits with the GIL released and the main "
			 "thread is gone");
		return 1;
	}
	if (rc->script && rc->lv->py.layout.rdbg.present)
		return remote_debug(j, main_tid);
	if (stopset_pending_signal(j->s, main_tid)) {
		snprintf(rc->why_not, sizeof(rc->why_not),
			 "a signal is being delivered to the main thread");
		return 1;
	}
	if (!pending_ok(j, &main_regs))
		return 1;
	return hand_over(j, main_tid, &main_regs, SHIM_PENDING);
}

/* 3.14+: the target's own switch for remote debugging.  Off, snakescope
 * runs nothing in it, whatever the mechanism. */
static int check_remote_debug(struct live *lv, struct err *e)
{
	const struct py_layout *l = &lv->py.layout;
	uint64_t interp = 0;
	int32_t on = 0;

	if (!l->rdbg.present)
		return 0;
	if (py_proc_first_interp(&lv->py, &interp, e))
		return e->code;
	if (memsrc_read(lv->mem, interp + (uint64_t)l->rdbg.enabled, &on,
			sizeof(on)))
		return err_set(e, SS_EFAULT, "cannot read whether process %d "
			       "allows remote debugging", (int)lv->pid);
	if (!on)
		return err_set(e, SS_EIO, "process %d has remote debugging "
			       "disabled (PYTHON_DISABLE_REMOTE_DEBUG, -X "
			       "disable-remote-debug, or a build without it): "
			       "snakescope runs no code in it", (int)lv->pid);
	return 0;
}

int runcode_try(struct runcode *rc, struct err *e)
{
	struct facts *f = calloc(1, sizeof(*f));
	struct stopset s;
	struct job j = { .rc = rc, .s = &s, .f = f, .e = e };
	int err;

	if (!f)
		return err_set(e, SS_ENOMEM, "out of memory");
	rc->mech = SAFE_NONE;
	rc->tid = rc->gil_holder = 0;
	rc->syscall = -1;
	rc->why_not[0] = '\0';
	rc->holder_stuck = false;
	f->interp_elf.fd = -1;
	err = check_remote_debug(rc->lv, e);
	if (!err)
		err = resolve_symbols(rc->lv, f, e);
	if (!err)
		err = find_gadget(rc, f, e);
	if (!err)
		err = stopset_stop_all(&s, rc->lv->pid, e);
	if (!err) {
		mem_cache_reset(rc->lv->mem);
		read_interp_state(rc->lv, f);
		err = stopset_run(&s, choose_job, &j);
		stopset_release(&s);
	}
	if (f->have_elf)
		elf_file_close(&f->interp_elf);
	free(f);
	return err;
}

struct cleanup_job {
	struct runcode *rc;
	struct stopset *s;
};

static bool shim_done(struct runcode *rc)
{
	uint8_t done = 0;

	return memsrc_read(rc->lv->raw, rc->shim + arch_shim_done_offset(
				   rc->mech == SAFE_IDLE_THREAD ? SHIM_RUN :
								  SHIM_PENDING),
			   &done, 1) == 0 && done;
}

/* Only the hijacked thread ever runs an idle thread's shim: once its done
 * flag is set and its pc is out, the mapping can go, through that thread
 * (the only one held). */
static int cleanup_job(void *arg)
{
	struct cleanup_job *c = arg;
	struct runcode *rc = c->rc;
	struct err ignored;
	arch_regs r;

	if (!shim_done(rc) || c->s->n != 1 || c->s->sig[0] ||
	    inject_get_regs(c->s->tids[0], &r, &ignored) ||
	    (arch_pc(&r) >= rc->shim && arch_pc(&r) < rc->shim + rc->shim_len))
		return 1;
	return inject_munmap(c->s, c->s->tids[0], rc->gadget, rc->shim,
			     rc->shim_len, &ignored) ? 1 : 0;
}

static bool shim_gone(struct runcode *rc)
{
	uint8_t b;

	return memsrc_read(rc->lv->raw, rc->shim, &b, 1) != 0;
}

/* Whether the wait is to end early: a stop signal came (one more than
 * when it started). */
static bool called_off(const struct runcode_wait *w)
{
	return w->stops && *w->stops != w->stops_at_start;
}

/* The done flag is set a few dozen instructions before the thread leaves
 * the shim (or, for a pending call, frees it): wait for that with plain
 * reads, which cost the target nothing. */
static bool wait_for(struct runcode *rc, bool (*cond)(struct runcode *),
		     const struct runcode_wait *w, long long deadline)
{
	long nap = 20000;

	while (!cond(rc)) {
		struct timespec ts = { 0, nap };

		if (monotonic_ns() >= deadline || called_off(w))
			return false;
		nanosleep(&ts, NULL);
		nap = nap * 2 > 1000000 ? 1000000 : nap * 2;
	}
	return true;
}

/* Held right after the flag, the thread may still be on the shim's last
 * instructions; on a loaded machine it may wait a while for a CPU to run
 * them: retry until the deadline. */
static bool free_shim(struct runcode *rc, const struct runcode_wait *w,
		      long long deadline)
{
	struct cleanup_job c = { .rc = rc };
	struct stopset s;
	struct err e;

	for (long nap = 100000;; nap = nap * 2 > 5000000 ? 5000000 : nap * 2) {
		struct timespec ts = { 0, nap };
		int r;

		/* SS_EINTR: Ctrl-C while stopping; the caller takes it
		 * once this is over */
		r = stopset_stop_thread(&s, rc->lv->pid, rc->tid, &e);
		if (r && r != SS_EINTR)
			return false;
		if (!r) {
			c.s = &s;
			r = stopset_run(&s, cleanup_job, &c);
			stopset_release(&s);
		}
		if (r == 0) {
			rc->shim = 0;
			return true;
		}
		if (monotonic_ns() >= deadline || called_off(w))
			return false;
		nanosleep(&ts, NULL);
	}
}

bool runcode_cleanup(struct runcode *rc, bool finished,
		     const struct runcode_wait *w)
{
	long long deadline = monotonic_ns() + w->budget_ns;

	/* A pending call's stub frees its mapping itself (arch.h): a
	 * finished run returns once it has, so that the caller finds the
	 * target as it was. */
	if (rc->shim && rc->mech == SAFE_PENDING_CALL) {
		if (finished && !wait_for(rc, shim_gone, w, deadline))
			return false;
		rc->shim = 0;
	}
	/* Given up on (timeout, Ctrl-C), the thread finds the channel gone
	 * as soon as it has the GIL and leaves. */
	if (!rc->shim)
		return true;
	if (!rc->gadget)
		return false;
	return wait_for(rc, shim_done, w, deadline) &&
	       free_shim(rc, w, deadline);
}

static int cancel_job(void *arg)
{
	struct runcode *rc = arg;
	const struct py_layout *l = &rc->lv->py.layout;
	uint64_t at = rc->rdbg_tstate + (uint64_t)(l->rdbg.support +
						   l->rdbg.pending_call);
	int32_t pending = 0, zero = 0;
	struct err ignored;

	if (memsrc_read(rc->lv->raw, at, &pending, sizeof(pending)) == 0 &&
	    pending)
		inject_write(rc->lv->pid, at, &zero, sizeof(zero), &ignored);
	return 0;
}

void runcode_cancel(struct runcode *rc)
{
	struct stopset s;
	struct err e;

	if (rc->mech != SAFE_REMOTE_DEBUG ||
	    stopset_stop_all(&s, rc->lv->pid, &e))
		return;
	stopset_run(&s, cancel_job, rc);
	stopset_release(&s);
}
