/* A whole process's mapped objects, each with its verdict: what
 * `snakescope maps` reports and what `pin` and `--watch` select from.
 *
 * For each object: the file at its path now (the same inode, another one,
 * or nothing), the mapped file's change time against the process's start,
 * its ELF build-id, load bias and kind, whether its PT_LOAD segments still
 * match the mappings, and the relocation check (so/reloc.h).  The mapped
 * file itself is read through /proc/PID/map_files when allowed (root), so
 * a replaced or deleted file is still checked; otherwise through the path,
 * when that still names the mapped inode.  The process is never stopped
 * or written to.
 */
#ifndef SS_SO_SCAN_H
#define SS_SO_SCAN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "so/object.h"
#include "so/reloc.h"
#include "so/verdict.h"
#include "target/rootview.h"
#include "util/err.h"

enum so_kind {
	SO_KIND_EXECUTABLE, /* the program (/proc/PID/exe) */
	SO_KIND_LIBPYTHON,
	SO_KIND_EXTENSION,  /* exports PyInit_<name> (or init<name>) */
	SO_KIND_LIBRARY,    /* any other ELF object */
	SO_KIND_DATA,       /* a mapped file that is not ELF (--all) */
};

struct so_entry {
	const struct so_object *obj;
	enum so_kind kind;
	bool elf;
	bool system;             /* so_path_is_system() */
	char build_id[129];      /* lower-case hex, "" when none */
	uint64_t load_address;   /* start of the first mapping */
	uint64_t bias;           /* load bias: runtime minus link address */
	/* The mapped file as stat(2) sees it; dev_known is false when it
	 * came from the maps line (no /proc/PID/map_files access), whose
	 * device numbers differ from stat's on overlayfs and btrfs. */
	dev_t mapped_dev;
	ino_t mapped_ino;
	bool dev_known;
	bool have_mtime;
	struct timespec mtime;   /* of the mapped file */
	bool have_btime;
	struct timespec btime;   /* its birth (statx), when known */
	struct so_evidence ev;
	int identical;           /* replaced: 1 same contents, 0 not, -1 ? */
	bool relocs_checked;
	struct so_reloc_result reloc;
	char first_bad_symbol[256]; /* nearest symbol to reloc.first_bad */
	char note[256];          /* why a check could not be made, or "" */
	enum so_verdict verdict;
};

struct so_scan_opts {
	bool all;    /* every mapped file, not only the application's */
	bool relocs; /* run the relocation check (reads target memory) */
};

struct so_report {
	pid_t pid;
	struct timespec started;  /* the process's start (starttime.h) */
	struct target_root root;
	struct so_objects objects;
	struct so_entry *v;       /* the objects listed, in address order */
	size_t n;
	size_t hidden;            /* left out without --all */
	unsigned count[SO_NVERDICTS];
};

/* No such process -> SS_EGONE; maps or memory not readable -> SS_EPERM
 * with the remedy.  Problems with single files are notes in their
 * entries, never errors. */
int so_scan(pid_t pid, const struct so_scan_opts *o, struct so_report *r,
	    struct err *e);
void so_report_release(struct so_report *r);

/* Whether any entry is rewritten or corrupted (exit status 4). */
bool so_report_has_findings(const struct so_report *r);

const char *so_kind_name(enum so_kind k);

#endif
