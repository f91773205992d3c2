/* A core file as a target: opening it (decompressing if need be, notes,
 * memory, the files it names, the interpreter) and capturing a struct
 * dump from it.  The counterpart of live.h for `--core`. */
#ifndef SS_CMD_CORECAP_H
#define SS_CMD_CORECAP_H

#include "cmd/nativecap.h"
#include "py/proc.h"
#include "py/reader.h"
#include "py/walk.h"
#include "stack/sample.h"
#include "target/core.h"
#include "target/corefiles.h"
#include "target/memsrc.h"

struct core_opts {
	const char *path;
	const char *executable;  /* --executable, or NULL */
	const char *sysroot;     /* --sysroot, or NULL */
	enum native_mode native; /* --native / --native-all */
};

struct corecap {
	struct core core;
	struct core_files files;
	struct memsrc *mem;
	struct py_proc py;
	char display[512];       /* the core's name in messages */
	const char *sysroot;
	enum native_mode native;
};

/* Unreadable, not a core, or not a Python process -> SS_ECORRUPT,
 * SS_EIO or SS_ENOTPY with one message naming the core. */
/* The py_files that open the files cc's core names. */
void corecap_files(struct corecap *cc, struct py_files *files);

int corecap_open(struct corecap *cc, const struct core_opts *o,
		 struct err *e);
void corecap_close(struct corecap *cc);

/* Read every thread's stack into d, with the threads matched to the
 * core's and the fatal signal recorded; with native, each merged with its
 * native stack unwound from the core's registers. */
int corecap_capture(struct corecap *cc, const struct walk_opts *o,
		    struct py_reader *r, struct dump *d, struct err *e);

#endif
