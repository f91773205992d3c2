/* The files a core's NT_FILE note names, found on this machine: as
 * recorded, under a sysroot (a core from a container or another machine),
 * or, for the main executable, where the user says.  Each is looked up
 * once; its build-id is checked against the one in the core's copy of its
 * first page, and a mismatch is reported as a warning naming both. */
#ifndef SS_TARGET_COREFILES_H
#define SS_TARGET_COREFILES_H

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>

#include "target/core.h"
#include "util/err.h"

struct core_file_ent {
	char *recorded;       /* path as the core names it */
	char *found;          /* where it was opened, NULL when absent */
	int fd;               /* -1 when absent */
	char tried[512];      /* where it was looked for, for the error */
};

struct core_files {
	const struct core *core;
	const char *sysroot;      /* NULL or a directory */
	bool sysroot_only;        /* never open recorded paths as they are */
	const char *executable;   /* NULL or the main binary */
	const char *exe_recorded; /* NT_FILE name of the main binary, or NULL */
	FILE *warn;               /* where warnings go (stderr), or NULL */
	struct core_file_ent *v;
	size_t n, cap;
};

void core_files_init(struct core_files *cf, const struct core *core,
		     const char *sysroot, const char *executable, FILE *warn);
void core_files_release(struct core_files *cf);

/* A descriptor of the file recorded as path (owned by cf), or a negative
 * SS_EIO naming the file and where it was looked for. */
int core_files_fd(struct core_files *cf, const char *path, const char **found,
		  struct err *e);

#endif
