/* Finding the interpreter from the target alone: mappings, ELF symbols,
 * version, build traits, layout.  Never runs the target's binary and never
 * uses the Python headers snakescope was compiled against. */
#include "py/proc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elf/elffile.h"
#include "target/rootview.h"
#include "py/layout_debugoffsets.h"

enum sym_index {
	SYM_RUNTIME,
	SYM_INTERP_HEAD,
	SYM_TSTATE_CURRENT,
	SYM_PY_VERSION,
	SYM_CODE_TYPE,
	SYM_NEGATIVE_REFCOUNT,
	SYM_REF_TOTAL,
	SYM_FINALIZING,
	SYM_VERSION_BUF0,
	SYM_VERSION_BUF1,
	SYM_COUNT,
};

static const char *const sym_names[SYM_COUNT] = {
	[SYM_RUNTIME] = "_PyRuntime",
	[SYM_INTERP_HEAD] = "interp_head",
	[SYM_TSTATE_CURRENT] = "_PyThreadState_Current",
	[SYM_PY_VERSION] = "Py_Version",
	[SYM_CODE_TYPE] = "PyCode_Type",
	[SYM_NEGATIVE_REFCOUNT] = "_Py_NegativeRefcount",
	[SYM_REF_TOTAL] = "_Py_RefTotal",
	[SYM_FINALIZING] = "_Py_Finalizing",
	/* Py_GetVersion()'s static buffer, filled during start-up with
	 * sys.version; optimising builds may keep no PY_VERSION literal. */
	[SYM_VERSION_BUF0] = "version.0",
	[SYM_VERSION_BUF1] = "version.1",
};

/* detect_in(): this file holds no interpreter, try the next one. */
#define NOT_HERE 1

struct candidate {
	const char *path;        /* as the target sees it */
	uint64_t load_start;     /* lowest mapping of the file at offset 0 */
	uint64_t map_start, map_end;
};

int py_read_ptr(const struct py_proc *p, uint64_t addr, uint64_t *out)
{
	return memsrc_read(p->mem, addr, out, sizeof(*out));
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

static bool is_libpython(const char *path)
{
	const char *b = base_name(path);

	return strncmp(b, "libpython", 9) == 0 && strstr(b, ".so");
}

/* Lowest offset-0 mapping of path: where the ELF header is loaded. */
static const struct mapping *load_mapping(const struct maps *maps,
					  const char *path)
{
	const struct mapping *best = NULL;
	size_t i;

	for (i = 0; i < maps->n; i++) {
		const struct mapping *m = &maps->v[i];

		if (!m->path || strcmp(m->path, path) != 0 || m->offset != 0)
			continue;
		if (!best || m->start < best->start)
			best = m;
	}
	return best;
}

static size_t collect_candidates(const struct py_files *files,
				 const struct maps *maps,
				 struct candidate *c, size_t max)
{
	char exe[PATH_MAX];
	const struct mapping *m;
	size_t i, n = 0;

	/* libpython first: with a shared build the executable is a stub,
	 * and embedders (uwsgi, gdb) only map libpython. */
	for (i = 0; i < maps->n && n < max; i++) {
		const char *path = maps->v[i].path;
		size_t k;

		if (!path || !is_libpython(path))
			continue;
		for (k = 0; k < n && strcmp(c[k].path, path); k++)
			;
		if (k < n || !(m = load_mapping(maps, path)))
			continue;
		c[n++] = (struct candidate){ path, m->start, m->start, m->end };
	}
	if (n < max && files->exe(files->ctx, exe, sizeof(exe)) == 0 &&
	    (m = load_mapping(maps, exe)))
		c[n++] = (struct candidate){ m->path, m->start, m->start,
					     m->end };
	return n;
}

/* The kernel prints mapping and exe paths relative to *our* root: for a
 * chrooted target they carry the chroot's prefix.  Strip it to get the
 * path the target itself sees. */
static const char *target_view(pid_t pid, const char *path)
{
	struct target_root root;

	target_root_init(&root, pid);
	return target_root_view(&root, path);
}

static int live_open(void *ctx, const char *cpath, uint64_t start,
		     uint64_t end, struct elf_file *f, struct err *e)
{
	pid_t pid = *(const pid_t *)ctx;
	char path[PATH_MAX + 64];
	struct err ignored;

	if (procfs_root_path(pid, target_view(pid, cpath), path,
			     sizeof(path)) == 0 &&
	    elf_file_open(f, path, cpath, &ignored) == 0)
		return 0;
	if (elf_file_open(f, cpath, cpath, &ignored) == 0)
		return 0;
	/* Replaced or deleted on disk, or a mount we cannot see: the
	 * kernel still holds the mapped file. */
	snprintf(path, sizeof(path), "/proc/%d/map_files/%llx-%llx", (int)pid,
		 (unsigned long long)start, (unsigned long long)end);
	return elf_file_open(f, path, cpath, e);
}

static int live_exe(void *ctx, char *buf, size_t len)
{
	return procfs_exe(*(const pid_t *)ctx, buf, len);
}

static const char *live_view(void *ctx, const char *path)
{
	return target_view(*(const pid_t *)ctx, path);
}

static void live_comm(void *ctx, char *buf, size_t len)
{
	procfs_comm(*(const pid_t *)ctx, buf, len);
}

/* "libpython3.7m.so.1.0" -> "3.7."; "python3.11d" -> "3.11." */
static void version_prefix_from_name(const char *path, char *out, size_t len)
{
	const char *b = base_name(path);
	const char *s = strstr(b, "python");
	int major, minor;

	out[0] = '\0';
	if (s && sscanf(s + 6, "%d.%d", &major, &minor) == 2)
		snprintf(out, len, "%d.%d.", major, minor);
}

static uint32_t parse_version_string(const char *s)
{
	unsigned major = 0, minor = 0, micro = 0;
	unsigned level = 0xf, serial = 0;
	int used = 0;

	if (sscanf(s, "%u.%u.%u%n", &major, &minor, &micro, &used) < 3)
		return 0;
	if (s[used] == 'a' || s[used] == 'b')
		level = s[used] == 'a' ? 0xa : 0xb, serial = (unsigned)atoi(s + used + 1);
	else if (s[used] == 'r' && s[used + 1] == 'c')
		level = 0xc, serial = (unsigned)atoi(s + used + 2);
	return (major << 24) | (minor << 16) | (micro << 8) | (level << 4) |
	       (serial & 0xf);
}

static void format_version(uint32_t hex, char *out, size_t len)
{
	unsigned level = (hex >> 4) & 0xf, serial = hex & 0xf;
	const char *tag = level == 0xa ? "a" : level == 0xb ? "b" :
			  level == 0xc ? "rc" : "";

	if (*tag)
		snprintf(out, len, "%u.%u.%u%s%u", PY_MAJOR(hex), PY_MINOR(hex),
			 PY_MICRO(hex), tag, serial);
	else
		snprintf(out, len, "%u.%u.%u", PY_MAJOR(hex), PY_MINOR(hex),
			 PY_MICRO(hex));
}

static bool plausible_version(uint32_t v)
{
	unsigned major = PY_MAJOR(v), minor = PY_MINOR(v);

	return (major == 2 && minor == 7) || (major == 3 && minor <= 30);
}

/* 3.13+ begins _PyRuntime with "xdebugpy" and PY_VERSION_HEX; 3.11+ exports
 * Py_Version; older builds only have the PY_VERSION string in .rodata. */
static uint32_t find_version(struct py_proc *p, struct elf_file *f,
			     const char *path, const uint64_t *sym)
{
	char prefix[16], str[32];
	uint64_t head[2];
	uint32_t v;

	if (p->runtime && memsrc_read(p->mem, p->runtime, head, sizeof(head)) == 0 &&
	    memcmp(head, "xdebugpy", 8) == 0 && plausible_version((uint32_t)head[1]))
		return (uint32_t)head[1];
	if (sym[SYM_PY_VERSION] &&
	    memsrc_read(p->mem, sym[SYM_PY_VERSION], &v, sizeof(v)) == 0 &&
	    plausible_version(v))
		return v;
	version_prefix_from_name(path, prefix, sizeof(prefix));
	for (int i = SYM_VERSION_BUF0; i <= SYM_VERSION_BUF1; i++) {
		if (!sym[i] || memsrc_read(p->mem, sym[i], str, sizeof(str)))
			continue;
		str[sizeof(str) - 1] = '\0';
		v = parse_version_string(str);
		if (plausible_version(v) &&
		    (!*prefix || !strncmp(str, prefix, strlen(prefix))))
			return v;
	}
	if (elf_find_version_string(f, prefix, str, sizeof(str)) == 0 ||
	    (*prefix && elf_find_version_string(f, "", str, sizeof(str)) == 0)) {
		v = parse_version_string(str);
		if (plausible_version(v))
			return v;
	}
	/* Last resort: the minor version from the file name; the micro
	 * release stays unknown (0) and the nearest table row is used. */
	v = parse_version_string(strcat(prefix, "0"));
	return plausible_version(v) ? v : 0;
}

/* 3.13+: say whether the interpreter's own offsets agree with the table
 * generated from its headers (the fallback for fields it does not publish);
 * a disagreement means new headers should be fed to tools/gen-layouts. */
static void describe_debug_offsets(struct py_proc *p,
				   const struct py_layout *row)
{
	char report[160] = "";
	int n;

	if (!row) {
		snprintf(p->layout_source, sizeof(p->layout_source),
			 "_Py_DebugOffsets in _PyRuntime (no table row for "
			 "this version to check against)");
		return;
	}
	n = py_layout_compare(&p->layout, row, report, sizeof(report));
	if (n == 0)
		snprintf(p->layout_source, sizeof(p->layout_source),
			 "_Py_DebugOffsets in _PyRuntime (agrees with the "
			 "generated table)");
	else
		snprintf(p->layout_source, sizeof(p->layout_source),
			 "_Py_DebugOffsets in _PyRuntime (differs from the "
			 "generated table in %d fields: %.120s)", n, report);
}

static int choose_layout(struct py_proc *p, uint32_t version, bool debug,
			 struct err *e)
{
	const struct py_layout *row = py_layout_lookup(version, debug);
	bool debug_fallback = false;

	/* From 3.8 a debug build no longer changes the object header, so
	 * the release row is a sound fallback when the table lacks one. */
	if (!row && debug && PY_MAJOR(version) == 3 && PY_MINOR(version) >= 8) {
		row = py_layout_lookup(version, false);
		debug_fallback = row != NULL;
	}
	if (PY_MAJOR(version) == 3 && PY_MINOR(version) >= 13) {
		uint8_t buf[PY_DEBUG_OFFSETS_MAX_SIZE];
		int rc = memsrc_read(p->mem, p->runtime, buf, sizeof(buf));

		if (rc)
			return err_set(e, rc, "cannot read _PyRuntime at 0x%llx",
				       (unsigned long long)p->runtime);
		rc = py_layout_from_debug_offsets(buf, sizeof(buf), row,
						  &p->layout, e);
		if (rc)
			return rc;
		p->layout.debug = debug;
		describe_debug_offsets(p, row);
		return 0;
	}
	if (!row)
		return err_set(e, SS_EVERSION,
			       "Python %s%s is not supported (supported: 2.7 "
			       "and 3.6 to 3.15)",
			       p->version_str, debug ? " (debug build)" : "");
	p->layout = *row;
	p->layout.version = version;
	p->layout.debug = debug;
	snprintf(p->layout_source, sizeof(p->layout_source),
		 "generated table for %u.%u%s%s", PY_MAJOR(version),
		 PY_MINOR(version), row->debug ? " debug" : "",
		 debug_fallback ? " (release row: no debug row)" : "");
	return 0;
}

static bool have_runtime_symbols(const uint64_t *sym)
{
	return sym[SYM_RUNTIME] || sym[SYM_INTERP_HEAD] ||
	       sym[SYM_TSTATE_CURRENT];
}

static void relocate(uint64_t *sym, uint64_t bias)
{
	for (int i = 0; i < SYM_COUNT; i++)
		if (sym[i])
			sym[i] += bias;
}

static void describe_location(struct py_proc *p, const char *path,
			      const struct elf_file *f, const bool *symtab)
{
	const char *what = p->runtime ? "_PyRuntime" :
			   p->interp_head ? "interp_head" :
					    "_PyThreadState_Current";
	int idx = p->runtime ? SYM_RUNTIME :
		  p->interp_head ? SYM_INTERP_HEAD : SYM_TSTATE_CURRENT;

	snprintf(p->located, sizeof(p->located),
		 "symbol %s at 0x%llx in %s (%s, %s)", what,
		 (unsigned long long)(p->runtime ? p->runtime :
				      p->interp_head ? p->interp_head :
						       p->tstate_current),
		 base_name(path), symtab[idx] ? ".symtab" : ".dynsym",
		 elf_is_pie(f) ? "PIE" : "non-PIE");
}

static int not_initialised(const struct py_proc *p, struct err *e)
{
	/* The same state is seen before start-up and after Py_Finalize
	 * has finished (the process is about to exit): say both. */
	return err_set(e, SS_ENOTREADY,
		       "Python in process %d is not initialised: it is still "
		       "starting up or has already shut down (try again while "
		       "it runs)", (int)p->pid);
}

static int finalising(const struct py_proc *p, struct err *e)
{
	return err_set(e, SS_ENOTREADY,
		       "Python in process %d is finalising (shutting down): "
		       "its thread states are being torn down", (int)p->pid);
}

static bool nonzero_ptr(const struct py_proc *p, uint64_t addr)
{
	uint64_t v = 0;

	return addr && py_read_ptr(p, addr, &v) == 0 && v != 0;
}

static bool zero_int(const struct py_proc *p, uint64_t addr)
{
	int32_t v = 1;

	return addr && memsrc_read(p->mem, addr, &v, sizeof(v)) == 0 && v == 0;
}

/* Finalising is tested first: Py_FinalizeEx clears "initialized" before it
 * tears modules down.  2.7 sets its static "initialized" before creating
 * the first interpreter and clears it first thing in Py_Finalize, so with
 * an interpreter present, 0 means finalising. */
static int check_ready(struct py_proc *p, struct err *e)
{
	const struct py_layout *l = &p->layout;
	uint64_t head = 0;
	int rc;

	if (p->runtime && l->runtime_finalizing != OFF_NONE &&
	    nonzero_ptr(p, p->runtime + (uint64_t)l->runtime_finalizing))
		return finalising(p, e);
	if (nonzero_ptr(p, p->finalizing))
		return finalising(p, e);
	if (p->runtime && l->runtime_initialized != OFF_NONE &&
	    zero_int(p, p->runtime + (uint64_t)l->runtime_initialized))
		return not_initialised(p, e);
	rc = py_proc_first_interp(p, &head, e);
	if (rc)
		return rc;
	if (!head)
		return not_initialised(p, e);
	if (zero_int(p, p->py2_initialized))
		return finalising(p, e);
	return 0;
}

static int detect_in(struct py_proc *p, const struct candidate *c,
		     struct elf_file *f, const struct py_files *files,
		     struct err *e)
{
	uint64_t sym[SYM_COUNT];
	bool symtab[SYM_COUNT] = { 0 };
	uint64_t bias;
	uint32_t version;
	bool debug;
	int rc;

	elf_lookup_symbols(f, sym_names, SYM_COUNT, sym, symtab);
	if (!have_runtime_symbols(sym))
		return NOT_HERE;
	bias = elf_is_pie(f) ? c->load_start - f->min_vaddr : 0;
	relocate(sym, bias);
	p->runtime = sym[SYM_RUNTIME];
	p->interp_head = sym[SYM_INTERP_HEAD];
	p->tstate_current = sym[SYM_TSTATE_CURRENT];
	p->finalizing = sym[SYM_FINALIZING];
	p->code_type = sym[SYM_CODE_TYPE];
	if (p->interp_head && !p->runtime && !sym[SYM_FINALIZING]) {
		p->py2_initialized = elf_lookup_file_local(f, "pythonrun.c",
							   "initialized");
		if (p->py2_initialized)
			p->py2_initialized += bias;
	}
	p->pie = elf_is_pie(f);
	describe_location(p, c->path, f, symtab);

	version = find_version(p, f, c->path, sym);
	if (!version)
		return err_set(e, SS_ENOTPY,
			       "cannot tell the Python version of '%s' in "
			       "process %d", c->path, (int)p->pid);
	format_version(version, p->version_str, sizeof(p->version_str));
	debug = sym[SYM_NEGATIVE_REFCOUNT] || sym[SYM_REF_TOTAL];
	if (!p->runtime && !(PY_MAJOR(version) == 2 ||
			     (PY_MAJOR(version) == 3 && PY_MINOR(version) <= 6)))
		return err_set(e, SS_ENOTPY,
			       "no _PyRuntime symbol in '%s' (Python %s)",
			       c->path, p->version_str);
	if (!p->runtime && !p->interp_head)
		return err_set(e, SS_ENOTPY,
			       "'%s' is stripped of the interp_head symbol "
			       "that Python %s keeps its interpreters in",
			       c->path, p->version_str);
	rc = choose_layout(p, version, debug, e);
	if (rc)
		return rc;
	if (is_libpython(c->path))
		snprintf(p->library, sizeof(p->library), "%s",
			 files->view(files->ctx, c->path));
	return check_ready(p, e);
}

int py_proc_detect_with(struct py_proc *p, pid_t pid, struct memsrc *mem,
			const struct maps *maps, const struct py_files *files,
			struct err *e)
{
	struct candidate c[8];
	size_t n, i;
	char comm[64] = "?";
	int rc;

	memset(p, 0, sizeof(*p));
	p->pid = pid;
	p->mem = mem;
	if (files->exe(files->ctx, p->executable, sizeof(p->executable)) == 0)
		memmove(p->executable,
			files->view(files->ctx, p->executable),
			strlen(files->view(files->ctx, p->executable)) + 1);
	else
		p->executable[0] = '\0';
	n = collect_candidates(files, maps, c, 8);
	for (i = 0; i < n; i++) {
		struct elf_file f;

		rc = files->open(files->ctx, c[i].path, c[i].map_start,
				 c[i].map_end, &f, e);
		if (rc)
			continue;
		rc = detect_in(p, &c[i], &f, files, e);
		elf_file_close(&f);
		if (rc != NOT_HERE)
			return rc;
	}
	files->comm(files->ctx, comm, sizeof(comm));
	return err_set(e, SS_ENOTPY,
		       "process %d (%s) runs no Python interpreter (no "
		       "libpython and no Python runtime symbols in its "
		       "executable)", (int)pid, comm);
}

void py_files_live(struct py_files *files, pid_t *pid)
{
	*files = (struct py_files){
		.ctx = pid,
		.exe = live_exe,
		.view = live_view,
		.open = live_open,
		.comm = live_comm,
	};
}

int py_proc_detect(struct py_proc *p, pid_t pid, struct memsrc *mem,
		   const struct maps *maps, struct err *e)
{
	pid_t ctx = pid;
	struct py_files files;

	py_files_live(&files, &ctx);
	return py_proc_detect_with(p, pid, mem, maps, &files, e);
}

int py_proc_first_interp(const struct py_proc *p, uint64_t *interp,
			 struct err *e)
{
	uint64_t addr = p->runtime ?
		p->runtime + (uint64_t)p->layout.runtime_interpreters_head :
		p->interp_head;
	int rc = py_read_ptr(p, addr, interp);

	if (rc)
		return err_set(e, rc, "cannot read the interpreter list at "
			       "0x%llx", (unsigned long long)addr);
	return 0;
}

void py_proc_describe(const struct py_proc *p, struct python_info *out)
{
	out->version = p->version_str;
	out->executable = p->executable[0] ? p->executable : NULL;
	out->library = p->library[0] ? p->library : NULL;
	out->debug = p->layout.debug;
	out->free_threaded = p->layout.free_threaded;
}
