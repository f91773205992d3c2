/* libdw unwinding over our own registers and memory (see unwind.h). */
#include "elf/unwind.h"

#include <elfutils/libdwfl.h>
#include <dwarf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elf/elffile.h"
#include "elf/linetab.h"
#include "util/addrmap.h"
#include "util/xalloc.h"

#define VDSO_MAX (1u << 20)

/* One reported module: the file behind a run of mappings. */
struct nmod {
	struct native *n;
	char *path;               /* as the mappings name it */
	const char *base;         /* its file name, for display */
	uint64_t start, end;      /* its first mapping, for opening */
	bool interp;              /* the python executable or libpython */
	bool vdso;
	void *image;              /* the vDSO's copy, owned */
	/* Its lines, read without libdw when that is much cheaper (see
	 * linetab.h); NULL: ask libdw. */
	struct linetab *lines;
	Dwarf_Addr lines_bias;
	bool lines_tried;
};

struct native {
	struct native_source src;
	Dwfl *dwfl;
	char *debuginfo_path;
	Dwfl_Callbacks cb;
	struct nmod *mods;
	size_t nmods;
	bool attached;
	/* What each looked-up address (pc - 1 for callers) was named:
	 * threads of one process share most of their frames, and libdw's
	 * symbol search is linear in the size of the symbol table. */
	struct addrmap named;
	/* The thread being unwound. */
	pid_t tid;
	const struct cpu_regs *regs;
};

/* How one address was named, shared by every frame at it. */
struct named {
	struct nmod *mod;         /* NULL: in no reported module */
	char *function;           /* NULL: no symbol covers it */
	uint64_t offset;          /* of the looked-up address */
	bool eval_loop;
	bool lines_done;          /* file and line were looked up */
	char *file;
	int line;
};

/* Per-unwind state of the frame callback. */
struct unwind_ctx {
	struct native_stack *out;
	uint64_t prev_sp;
	char stop[256];
};

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

static int open_vdso(struct nmod *m, Elf **elfp)
{
	size_t len = m->end - m->start;

	if (len > VDSO_MAX)
		return -1;
	m->image = xmalloc(len);
	if (memsrc_read(m->n->src.mem, m->start, m->image, len))
		return -1;
	*elfp = elf_memory(m->image, len);
	return -1;
}

static int find_elf(Dwfl_Module *mod, void **userdata, const char *name,
		    Dwarf_Addr base, char **file_name, Elf **elfp)
{
	struct nmod *m = *userdata;
	const struct py_files *files = m->n->src.files;
	struct elf_file f;
	struct err e = { 0 };

	(void)mod;
	(void)name;
	(void)base;
	*file_name = NULL;
	*elfp = NULL;
	if (m->vdso)
		return open_vdso(m, elfp);
	if (files->open(files->ctx, m->path, m->start, m->end, &f, &e))
		return -1;
	/* libdw owns descriptor and handle from now on. */
	*elfp = f.elf;
	return f.fd;
}

static bool is_file_mapping(const struct mapping *m)
{
	return m->path && m->path[0] == '/';
}

static bool same_interp(const char *view, const char *want)
{
	return want && !strcmp(view, want);
}

static void add_module(struct native *n, const struct mapping *first,
		       uint64_t end, size_t *cap, bool vdso)
{
	const struct py_files *files = n->src.files;
	const char *view = vdso ? first->path :
			   files->view(files->ctx, first->path);
	uint64_t low = first->start - (vdso ? 0 : first->offset);
	Dwfl_Module *mod;
	struct nmod *m;
	void **ud;

	mod = dwfl_report_module(n->dwfl, view, low, end);
	if (!mod)
		return;
	XGROW(n->mods, *cap, n->nmods + 1);
	m = xcalloc(1, sizeof(*m));
	m->n = n;
	m->path = xstrdup(first->path);
	m->base = base_name(m->path);
	m->start = first->start;
	m->end = vdso ? end : first->end;
	m->vdso = vdso;
	m->interp = same_interp(view, n->src.interp_exe) ||
		    same_interp(view, n->src.interp_lib);
	n->mods[n->nmods++] = *m;
	free(m);
	/* Pointer fixed up once the array stops growing. */
	dwfl_module_info(mod, &ud, NULL, NULL, NULL, NULL, NULL, NULL);
	*ud = (void *)(uintptr_t)n->nmods;
}

static int fix_userdata(Dwfl_Module *mod, void **ud, const char *name,
			Dwarf_Addr start, void *arg)
{
	struct native *n = arg;

	(void)mod;
	(void)name;
	(void)start;
	*ud = &n->mods[(uintptr_t)*ud - 1];
	return DWARF_CB_OK;
}

/* Each run of consecutive mappings of one file is one module, from its
 * first mapping's load base to the end of its last. */
static void report_modules(struct native *n)
{
	const struct maps *mp = n->src.maps;
	size_t cap = 0, i = 0;

	while (i < mp->n) {
		const struct mapping *first = &mp->v[i];
		size_t k = i + 1;

		if (first->path && !strcmp(first->path, "[vdso]")) {
			add_module(n, first, first->end, &cap, true);
			i++;
			continue;
		}
		if (!is_file_mapping(first)) {
			i++;
			continue;
		}
		while (k < mp->n && mp->v[k].path &&
		       !strcmp(mp->v[k].path, first->path) &&
		       mp->v[k].start >= mp->v[k - 1].end)
			k++;
		add_module(n, first, mp->v[k - 1].end, &cap, false);
		i = k;
	}
}

/* Open every file and load its CFI now, before the threads are held. */
static int prewarm(Dwfl_Module *mod, void **ud, const char *name,
		   Dwarf_Addr start, void *arg)
{
	Dwarf_Addr bias;

	(void)ud;
	(void)name;
	(void)start;
	(void)arg;
	if (dwfl_module_getelf(mod, &bias))
		dwfl_module_eh_cfi(mod, &bias);
	return DWARF_CB_OK;
}

static pid_t next_thread(Dwfl *dwfl, void *arg, void **thread_argp)
{
	struct native *n = arg;

	(void)dwfl;
	if (*thread_argp)
		return 0;
	*thread_argp = n;
	return n->tid;
}

static bool get_thread(Dwfl *dwfl, pid_t tid, void *arg, void **thread_argp)
{
	struct native *n = arg;

	(void)dwfl;
	if (tid != n->tid)
		return false;
	*thread_argp = n;
	return true;
}

static bool memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result,
			void *arg)
{
	struct native *n = arg;

	(void)dwfl;
	return memsrc_read(n->src.mem, addr, result, sizeof(*result)) == 0;
}

static bool set_initial_registers(Dwfl_Thread *thread, void *thread_arg)
{
	struct native *n = thread_arg;
	Dwarf_Word regs[REGS_DWARF_N];

	for (unsigned i = 0; i < REGS_DWARF_N; i++)
		regs[i] = n->regs->dwarf[i];
	if (!dwfl_thread_state_registers(thread, 0, REGS_DWARF_N, regs))
		return false;
	dwfl_thread_state_register_pc(thread, regs[REGS_DWARF_PC]);
	return true;
}

static const Dwfl_Thread_Callbacks thread_callbacks = {
	.next_thread = next_thread,
	.get_thread = get_thread,
	.memory_read = memory_read,
	.set_initial_registers = set_initial_registers,
};

static char *debug_path(const char *root)
{
	size_t len = strlen(root) * 2 + 64;
	char *p = xmalloc(len);

	/* The target's own debug files first; then ours, which only match
	 * when the build-ids do. */
	if (root[0])
		snprintf(p, len, "-%s/usr/lib/debug:/usr/lib/debug", root);
	else
		snprintf(p, len, "-:.debug:/usr/lib/debug");
	return p;
}

int native_open(struct native **np, const struct native_source *src,
		struct err *e)
{
	struct native *n = xcalloc(1, sizeof(*n));

	*np = NULL;
	n->src = *src;
	n->debuginfo_path = debug_path(src->debug_root ? src->debug_root : "");
	n->cb.find_elf = find_elf;
	n->cb.find_debuginfo = dwfl_standard_find_debuginfo;
	n->cb.section_address = dwfl_offline_section_address;
	n->cb.debuginfo_path = &n->debuginfo_path;
	n->dwfl = dwfl_begin(&n->cb);
	if (!n->dwfl) {
		free(n->debuginfo_path);
		free(n);
		return err_set(e, SS_EIO, "native unwinding unavailable: %s",
			       dwfl_errmsg(-1));
	}
	dwfl_report_begin(n->dwfl);
	report_modules(n);
	dwfl_report_end(n->dwfl, NULL, NULL);
	dwfl_getmodules(n->dwfl, fix_userdata, n, 0);
	dwfl_getmodules(n->dwfl, prewarm, n, 0);
	n->attached = dwfl_attach_state(n->dwfl, NULL, src->pid,
					&thread_callbacks, n);
	*np = n;
	return 0;
}

void native_close(struct native *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->named.cap; i++) {
		struct named *nm = n->named.keys[i] ? n->named.vals[i] : NULL;

		if (nm) {
			free(nm->function);
			free(nm->file);
			free(nm);
		}
	}
	addrmap_release(&n->named);
	dwfl_end(n->dwfl);
	for (size_t i = 0; i < n->nmods; i++) {
		free(n->mods[i].path);
		free(n->mods[i].image);
		linetab_close(n->mods[i].lines);
	}
	free(n->mods);
	free(n->debuginfo_path);
	free(n);
}

static void set_stop(struct native_stack *out, const char *why)
{
	if (!out->stop)
		out->stop = xstrdup(why);
}

static int on_frame(Dwfl_Frame *state, void *arg)
{
	struct unwind_ctx *u = arg;
	struct native_stack *out = u->out;
	Dwarf_Addr pc;
	Dwarf_Word sp = 0;
	bool activation;
	bool have_sp;
	struct frame *f;

	if (!dwfl_frame_pc(state, &pc, &activation)) {
		snprintf(u->stop, sizeof(u->stop), "%s", dwfl_errmsg(-1));
		return DWARF_CB_ABORT;
	}
	if (out->n >= NATIVE_MAX_FRAMES) {
		snprintf(u->stop, sizeof(u->stop), "more than %d frames",
			 NATIVE_MAX_FRAMES);
		return DWARF_CB_ABORT;
	}
	/* Each caller's frame is above its callee's: a stack pointer that
	 * goes down or stays put with the same pc is a loop. */
	have_sp = dwfl_frame_reg(state, REGS_DWARF_SP, &sp) == 0;
	if (have_sp && out->n && (sp < u->prev_sp ||
	    (sp == u->prev_sp && pc == out->frames[out->n - 1].address))) {
		snprintf(u->stop, sizeof(u->stop), "the stack does not advance "
			 "at 0x%llx (corrupt stack or wrong unwind data)",
			 (unsigned long long)pc);
		return DWARF_CB_ABORT;
	}
	if (have_sp)
		u->prev_sp = sp;
	XGROW(out->frames, out->cap, out->n + 1);
	f = &out->frames[out->n++];
	memset(f, 0, sizeof(*f));
	f->kind = FRAME_NATIVE;
	f->line = -1;
	f->address = pc;
	f->caller = !activation;
	f->sp = have_sp ? sp : 0;
	return DWARF_CB_OK;
}

/* libdw's message is about the last frame it could not unwind from;
 * say where that frame was. */
static void describe_stop(struct native *n, struct native_stack *out,
			  const char *why)
{
	char buf[512];
	uint64_t pc;
	Dwfl_Module *mod;
	const char *name = NULL;

	if (!out->n) {
		snprintf(buf, sizeof(buf), "%s", why);
		set_stop(out, buf);
		return;
	}
	pc = out->frames[out->n - 1].address;
	mod = dwfl_addrmodule(n->dwfl, pc);
	if (mod)
		name = dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, NULL,
					NULL);
	snprintf(buf, sizeof(buf), "%s after 0x%llx%s%s", why,
		 (unsigned long long)pc, name ? " in " : " (in no mapped file)",
		 name ? base_name(name) : "");
	set_stop(out, buf);
}

void native_unwind(struct native *n, pid_t tid, const struct cpu_regs *regs,
		   struct native_stack *out)
{
	struct unwind_ctx u = { .out = out };
	int rc;

	memset(out, 0, sizeof(*out));
	if (!regs || !regs->valid) {
		set_stop(out, "the thread's registers are unknown (no OS "
			 "thread matches it)");
		return;
	}
	if (!n->attached) {
		set_stop(out, "no module of the process could be opened");
		return;
	}
	n->tid = tid;
	n->regs = regs;
	rc = dwfl_getthread_frames(n->dwfl, tid, on_frame, &u);
	n->regs = NULL;
	if (rc == 0)
		return;
	if (u.stop[0])
		describe_stop(n, out, u.stop);
	else
		describe_stop(n, out, dwfl_errmsg(-1));
}

/* The eval loop: 2.7's PyEval_EvalFrameEx; 3.6+'s _PyEval_EvalFrameDefault
 * (with GCC's split-off .cold part) and, in builds with the tail-calling
 * interpreter (3.14+, clang), the opcode handlers it tail-calls. */
static bool is_eval_loop(const char *sym, int major)
{
	if (major == 2)
		return !strcmp(sym, "PyEval_EvalFrameEx");
	return !strcmp(sym, "_PyEval_EvalFrameDefault") ||
	       !strcmp(sym, "_PyEval_EvalFrameDefault.cold") ||
	       !strncmp(sym, "_TAIL_CALL_", 11);
}

static void name_symbol(struct native *n, Dwfl_Module *mod, uint64_t at,
			struct named *nm)
{
	GElf_Off off = 0;
	GElf_Sym s;
	const char *sym;

	sym = dwfl_module_addrinfo(mod, at, &off, &s, NULL, NULL, NULL);
	if (!sym)
		return;
	/* "memcpy@@GLIBC_2.14": the version is no part of the name. */
	nm->function = xstrndup(sym, strcspn(sym, "@"));
	nm->offset = off;
	nm->eval_loop = nm->mod && nm->mod->interp &&
			is_eval_loop(sym, n->src.py_major);
}

/* The module's compressed separate debug file, read by linetab: libdw
 * knows it (and its bias) once it has looked for symbols there. */
static bool line_from_linetab(Dwfl_Module *mod, uint64_t at, struct named *nm)
{
	struct nmod *m = nm->mod;
	Dwarf_Addr bias = (Dwarf_Addr)-1;
	const char *debugfile = NULL;

	if (!m->lines_tried) {
		m->lines_tried = true;
		dwfl_module_info(mod, NULL, NULL, NULL, &bias, NULL, NULL,
				 &debugfile);
		if (bias != (Dwarf_Addr)-1 && debugfile)
			m->lines = linetab_open(debugfile);
		m->lines_bias = bias;
	}
	return m->lines && linetab_find(m->lines, at - m->lines_bias,
					&nm->file, &nm->line) !=
			   LINETAB_ASK_LIBDW;
}

static void name_line(Dwfl_Module *mod, uint64_t at, struct named *nm)
{
	Dwfl_Line *line;
	const char *file;
	int lineno = 0;

	nm->lines_done = true;
	if (line_from_linetab(mod, at, nm))
		return;
	line = dwfl_module_getsrc(mod, at);
	file = line ? dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL) :
	       NULL;
	if (file) {
		nm->file = xstrdup(file);
		nm->line = lineno;
	}
}

static struct named *name_address(struct native *n, uint64_t at)
{
	struct named *nm = addrmap_get(&n->named, at);
	Dwfl_Module *mod;
	void **ud = NULL;

	if (nm)
		return nm;
	nm = xcalloc(1, sizeof(*nm));
	addrmap_put(&n->named, at, nm);
	mod = dwfl_addrmodule(n->dwfl, at);
	if (!mod)
		return nm;
	dwfl_module_info(mod, &ud, NULL, NULL, NULL, NULL, NULL, NULL);
	nm->mod = ud ? *ud : NULL;
	name_symbol(n, mod, at, nm);
	return nm;
}

static void symbolize_one(struct native *n, struct frame *f, bool interp_lines)
{
	uint64_t at = f->address - (f->caller ? 1 : 0);
	struct named *nm = at ? name_address(n, at) : NULL;

	if (!nm || !nm->mod)
		return;
	f->library = xstrdup(nm->mod->base);
	f->interp = nm->mod->interp;
	if (nm->function) {
		f->function = xstrdup(nm->function);
		f->offset = nm->offset + (f->address - at);
		f->eval_loop = nm->eval_loop;
	}
	/* Line tables are the costly part (DWARF to load, often
	 * compressed): skip them for frames that will not be shown. */
	if (f->interp && !interp_lines)
		return;
	if (!nm->lines_done)
		name_line(dwfl_addrmodule(n->dwfl, at), at, nm);
	if (nm->file) {
		f->file = xstrdup(nm->file);
		f->line = nm->line;
	}
}

void native_symbolize(struct native *n, struct native_stack *st,
		      bool interp_lines)
{
	for (size_t i = 0; i < st->n; i++)
		symbolize_one(n, &st->frames[i], interp_lines);
}

void native_stack_release(struct native_stack *st)
{
	for (size_t i = 0; i < st->n; i++)
		frame_release_native(&st->frames[i]);
	free(st->frames);
	free(st->stop);
	memset(st, 0, sizeof(*st));
}
