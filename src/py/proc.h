/* struct py_proc: one Python process as found from the outside, and the
 * facts every reader needs: layout, where the runtime state lives, build
 * traits.  Filled by py_proc_detect() from the target alone: its mappings,
 * the ELF symbols of its python binary or libpython, and its memory. */
#ifndef SS_PY_PROC_H
#define SS_PY_PROC_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "py/layout.h"
#include "stack/sample.h"
#include "target/memsrc.h"
#include "target/procfs.h"
#include "util/err.h"

struct py_proc {
	pid_t pid;
	struct memsrc *mem;            /* not owned */
	struct py_layout layout;
	char version_str[32];          /* "3.12.1", "3.15.0a2" */
	char executable[PATH_MAX];     /* as the target sees it */
	char library[PATH_MAX];        /* libpython as the target sees it; "" when static */
	bool pie;                      /* the ELF holding the interpreter is position independent */
	uint64_t runtime;              /* &_PyRuntime (3.7+), else 0 */
	uint64_t interp_head;          /* &interp_head (2.7, 3.6) */
	uint64_t tstate_current;       /* &_PyThreadState_Current (2.7, 3.6) */
	uint64_t finalizing;           /* &_Py_Finalizing (3.6) */
	uint64_t py2_initialized;      /* &initialized in pythonrun.c (2.7) */
	uint64_t code_type;            /* &PyCode_Type, 0 if unknown */
	char located[256];             /* how the runtime state was found */
	char layout_source[256];       /* "_Py_DebugOffsets" or the table row */
};

struct elf_file;

/* Where detection finds what is not in the target's memory: the files
 * behind its mappings.  A live process's are opened through /proc/PID
 * (py_proc_detect); a core's are those its NT_FILE note names. */
struct py_files {
	void *ctx;
	/* The main executable as the kernel names it (the same name its
	 * mappings carry); nonzero when unknown. */
	int (*exe)(void *ctx, char *buf, size_t len);
	/* The target's own name for path, a name from maps or exe(). */
	const char *(*view)(void *ctx, const char *path);
	/* Open the ELF file mapped as path at [start, end); the message of
	 * a failure is recorded in e. */
	int (*open)(void *ctx, const char *path, uint64_t start, uint64_t end,
		    struct elf_file *f, struct err *e);
	/* A short name of the program for messages ("python3"). */
	void (*comm)(void *ctx, char *buf, size_t len);
};

/* Find the interpreter in process pid.  maps are the target's mappings.
 * SS_ENOTPY when there is none, SS_EVERSION for an unsupported version,
 * SS_ENOTREADY when it is not initialised or is finalising. */
/* The files of live process *pid, opened through /proc/PID/root (or its
 * map_files when deleted); *pid must outlive files. */
void py_files_live(struct py_files *files, pid_t *pid);

int py_proc_detect(struct py_proc *p, pid_t pid, struct memsrc *mem,
		   const struct maps *maps, struct err *e);

/* The same with the files found through files (a core's). */
int py_proc_detect_with(struct py_proc *p, pid_t pid, struct memsrc *mem,
			const struct maps *maps, const struct py_files *files,
			struct err *e);

/* Address of the first PyInterpreterState, or 0 when there is none. */
int py_proc_first_interp(const struct py_proc *p, uint64_t *interp,
			 struct err *e);

/* What the neutral dump says about the interpreter (pointers into p). */
void py_proc_describe(const struct py_proc *p, struct python_info *out);

/* Read a pointer-sized value from the target. */
int py_read_ptr(const struct py_proc *p, uint64_t addr, uint64_t *out);

#endif
