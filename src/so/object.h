/* The files a process has mapped, grouped into loaded objects.
 *
 * The dynamic loader maps each ELF object as a run of mappings of one file
 * at ascending offsets (headers, text, read-only data, the RELRO part, the
 * writable data); anonymous .bss follows.  This groups /proc/PID/maps
 * lines back into those objects.  Nothing here opens a file.
 */
#ifndef SS_SO_OBJECT_H
#define SS_SO_OBJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "target/procfs.h"
#include "util/err.h"

struct so_map {
	uint64_t start, end, offset;
	char perms[5];
};

struct so_object {
	char *path;         /* as /proc/PID/maps names it, our view */
	const char *view;   /* inside path: the target's own name for it */
	uint64_t inode;
	unsigned dev_major, dev_minor;
	bool deleted;       /* maps said " (deleted)" */
	struct so_map *maps; /* ascending by address and file offset */
	size_t nmaps;
};

struct so_objects {
	struct so_object *v; /* in address order of their first mapping */
	size_t n;
};

/* Group the file-backed mappings of m.  root is the target's root as one
 * of our paths ("" for ours), stripped from names to make each view.
 * Pseudo files ([vdso]), anonymous memory and names no file system path
 * reaches (memfd:, SYSV shared memory, /dev/) are left out.  A second
 * mapping of a file that does not continue the previous run (a second
 * load, or an mmap of the file by the program) starts a new object. */
void so_objects_build(const struct maps *m, const char *root,
		      struct so_objects *out);
void so_objects_release(struct so_objects *o);

/* Whether a maps name is a file the loader could have mapped. */
bool so_mappable_name(const char *path);

#endif
