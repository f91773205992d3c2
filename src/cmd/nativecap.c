#include "cmd/nativecap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stack/native_merge.h"
#include "util/xalloc.h"

static int open_session(struct nativecap *nc, pid_t pid, struct memsrc *mem,
			const struct maps *maps, const char *debug_root,
			const struct py_proc *py, struct err *e)
{
	const struct native_source src = {
		.pid = pid,
		.mem = mem,
		.maps = maps,
		.files = &nc->files,
		.debug_root = debug_root,
		.interp_exe = py->executable[0] ? py->executable : NULL,
		.interp_lib = py->library[0] ? py->library : NULL,
		.py_major = PY_MAJOR(py->layout.version),
	};

	return native_open(&nc->n, &src, e);
}

int nativecap_open_live(struct nativecap *nc, pid_t pid,
			struct memsrc *mem, const struct maps *maps,
			const struct py_proc *py, struct err *e)
{
	memset(nc, 0, sizeof(*nc));
	nc->pid = pid;
	py_files_live(&nc->files, &nc->pid);
	snprintf(nc->root, sizeof(nc->root), "/proc/%d/root", (int)pid);
	return open_session(nc, pid, mem, maps, nc->root, py, e);
}

int nativecap_open_core(struct nativecap *nc, pid_t pid, struct memsrc *mem,
			const struct maps *maps, const struct py_files *files,
			const char *sysroot, const struct py_proc *py,
			struct err *e)
{
	memset(nc, 0, sizeof(*nc));
	nc->files = *files;
	return open_session(nc, pid, mem, maps, sysroot ? sysroot : "", py,
			    e);
}

void nativecap_unwind(struct nativecap *nc, size_t i, pid_t tid,
		      const struct cpu_regs *regs)
{
	if (i >= nc->nstacks) {
		size_t cap = nc->nstacks;

		XGROW(nc->stacks, cap, i + 1);
		memset(nc->stacks + nc->nstacks, 0,
		       (cap - nc->nstacks) * sizeof(*nc->stacks));
		nc->nstacks = cap;
	}
	native_unwind(nc->n, tid, regs, &nc->stacks[i]);
}

void nativecap_finish(struct nativecap *nc, struct dump *d,
		      enum native_mode mode)
{
	for (size_t i = 0; i < d->nthreads; i++) {
		struct native_stack empty = { 0 };
		struct native_stack *st = i < nc->nstacks ? &nc->stacks[i] :
					  &empty;

		if (st == &empty)
			st->stop = xstrdup("the thread was not unwound");
		native_symbolize(nc->n, st, mode == NATIVE_ALL);
		native_merge(&d->threads[i], st, mode == NATIVE_ALL);
	}
}

void nativecap_close(struct nativecap *nc)
{
	for (size_t i = 0; i < nc->nstacks; i++)
		native_stack_release(&nc->stacks[i]);
	free(nc->stacks);
	native_close(nc->n);
	memset(nc, 0, sizeof(*nc));
}
