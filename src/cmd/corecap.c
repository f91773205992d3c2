#include "cmd/corecap.h"

#include <stdio.h>
#include <string.h>

#include "elf/elffile.h"
#include "target/decompress.h"
#include "target/mem_core.h"

/* py_files over a core: the executable is the NT_FILE mapping holding
 * AT_ENTRY; files are those NT_FILE names, found by core_files. */
static int core_exe(void *ctx, char *buf, size_t len)
{
	struct corecap *cc = ctx;

	if (!cc->files.exe_recorded)
		return SS_ENOTPY;
	snprintf(buf, len, "%s", cc->files.exe_recorded);
	return 0;
}

static const char *core_view(void *ctx, const char *path)
{
	(void)ctx;
	return path;
}

static int core_open_file(void *ctx, const char *path, uint64_t start,
			  uint64_t end, struct elf_file *f, struct err *e)
{
	struct corecap *cc = ctx;
	const char *found = NULL;
	int fd;

	(void)start;
	(void)end;
	fd = core_files_fd(&cc->files, path, &found, e);
	if (fd < 0)
		return fd;
	return elf_file_open(f, found, path, e);
}

static void core_comm(void *ctx, char *buf, size_t len)
{
	struct corecap *cc = ctx;

	snprintf(buf, len, "%s", cc->core.comm[0] ? cc->core.comm : "?");
}

/* detect.c reports a file it could not open only when no other candidate
 * held Python; when the missing one is the executable or a libpython, say
 * which file was missing rather than "not Python". */
static int missing_file(struct corecap *cc, struct err *e)
{
	for (size_t i = 0; i < cc->files.n; i++) {
		const struct core_file_ent *f = &cc->files.v[i];
		const char *base = strrchr(f->recorded, '/');

		base = base ? base + 1 : f->recorded;
		if (f->fd < 0 && (!strncmp(base, "libpython", 9) ||
				  (cc->files.exe_recorded &&
				   !strcmp(f->recorded, cc->files.exe_recorded))))
			return core_files_fd(&cc->files, f->recorded, NULL, e);
	}
	return 0;
}

void corecap_files(struct corecap *cc, struct py_files *files)
{
	*files = (struct py_files){
		.ctx = cc,
		.exe = core_exe,
		.view = core_view,
		.open = core_open_file,
		.comm = core_comm,
	};
}

int corecap_open(struct corecap *cc, const struct core_opts *o,
		 struct err *e)
{
	struct py_files files;
	int fd, rc;

	memset(cc, 0, sizeof(*cc));
	corecap_files(cc, &files);
	cc->core.fd = -1;
	snprintf(cc->display, sizeof(cc->display), "%s", o->path);
	cc->sysroot = o->sysroot;
	cc->native = o->native;
	fd = decompress_open(o->path, e);
	if (fd < 0)
		return fd;
	rc = core_open_fd(&cc->core, fd, cc->display, e);
	if (rc)
		return rc;
	core_files_init(&cc->files, &cc->core, o->sysroot, o->executable,
			stderr);
	mem_core_open(&cc->mem, &cc->core, &cc->files, e);
	rc = py_proc_detect_with(&cc->py, cc->core.pid, cc->mem,
				 &cc->core.files, &files, e);
	if (rc == SS_ENOTPY && missing_file(cc, e))
		rc = e->code;
	if (rc) {
		err_prefix(e, "core '%s'", cc->display);
		corecap_close(cc);
	}
	return rc;
}

void corecap_close(struct corecap *cc)
{
	if (cc->mem)
		cc->mem->ops->release(cc->mem);
	cc->mem = NULL;
	core_files_release(&cc->files);
	core_close(&cc->core);
}

static const struct core_thread *by_tid(const struct core *c, int64_t tid)
{
	for (size_t i = 0; i < c->nthreads; i++)
		if (c->threads[i].tid == tid)
			return &c->threads[i];
	return NULL;
}

/* 3.11+ thread states know their native thread id; before that only the
 * pthread_t, which on glibc x86-64 is the thread pointer (fs_base). */
static void match_threads(const struct core *c, struct dump *d)
{
	for (size_t i = 0; i < d->nthreads; i++) {
		struct thread_stack *t = &d->threads[i];
		const struct core_thread *ct = NULL;

		if (t->ns_tid >= 0)
			ct = by_tid(c, t->ns_tid);
		for (size_t k = 0; !ct && k < c->nthreads; k++)
			if (c->threads[k].fs_base == t->ident)
				ct = &c->threads[k];
		if (!ct)
			continue;
		t->tid = t->ns_tid = ct->tid;
		t->faulted = d->signal && ct == &c->threads[0];
	}
}

static void merge_native(struct corecap *cc, struct dump *d)
{
	struct nativecap nc;
	struct py_files files;
	struct err ignored = { 0 };

	corecap_files(cc, &files);
	if (nativecap_open_core(&nc, cc->core.pid, cc->mem, &cc->core.files,
				&files, cc->sysroot, &cc->py, &ignored))
		return;
	for (size_t i = 0; i < d->nthreads; i++) {
		const struct core_thread *ct = by_tid(&cc->core,
						      d->threads[i].tid);

		nativecap_unwind(&nc, i, ct ? ct->tid : -1,
				 ct ? &ct->regs : NULL);
	}
	nativecap_finish(&nc, d, cc->native);
	nativecap_close(&nc);
}

int corecap_capture(struct corecap *cc, const struct walk_opts *o,
		    struct py_reader *r, struct dump *d, struct err *e)
{
	const struct core *c = &cc->core;
	int rc;

	d->pid = c->pid;
	d->source = "core";
	py_proc_describe(&cc->py, &d->python);
	d->pause_us = -1;
	d->signal = c->signo;
	d->si_code = c->si_code;
	d->has_addr = c->has_addr;
	d->fault_addr = c->fault_addr;
	d->signal_tid = c->signo ? c->threads[0].tid : -1;
	rc = py_walk(r, o, d, e);
	if (rc)
		return err_prefix(e, "core '%s'", cc->display);
	match_threads(c, d);
	if (cc->native != NATIVE_OFF)
		merge_native(cc, d);
	return 0;
}
