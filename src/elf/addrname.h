/* Naming an address of a live process for a person: the mapping it is in
 * and, inside an ELF object, the nearest symbol and the object's
 * build-id.  Files are opened through /proc/PID/root. */
#ifndef SS_ELF_ADDRNAME_H
#define SS_ELF_ADDRNAME_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "target/procfs.h"

struct addr_name {
	const struct mapping *map;  /* NULL: unmapped */
	/* The file's path as the target sees it (points into map->path),
	 * NULL when not a file. */
	const char *view;
	char symbol[256];           /* "crash_null+0x14", "" unknown */
	char build_id[129];         /* hex, "" unknown */
};

/* Look addr up in pid's maps (and the ELF file behind its mapping). */
void addr_name_lookup(pid_t pid, const struct maps *maps, uint64_t addr,
		      struct addr_name *out);

/* The basename of a mapping's path, or its pseudo name ("[heap]"), or
 * "anonymous memory". */
const char *addr_map_name(const struct mapping *m);

/* The path of the file as the target sees it, or the mapping's pseudo
 * name, "anonymous memory", "unmapped". */
const char *addr_name_path(const struct addr_name *an);

#endif
