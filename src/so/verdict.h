/* What the evidence about one mapped object adds up to. */
#ifndef SS_SO_VERDICT_H
#define SS_SO_VERDICT_H

#include <stdbool.h>
#include <time.h>

enum so_verdict {
	SO_OK,
	SO_REPLACED,  /* the path now names another file */
	SO_DELETED,   /* the mapped file was unlinked, nothing at the path */
	SO_REWRITTEN, /* the mapped file itself was written after mapping */
	SO_CORRUPTED, /* and the process lost relocations because of it */
};
#define SO_NVERDICTS 5

struct so_evidence {
	bool unlinked;        /* maps says " (deleted)" */
	bool path_missing;    /* nothing at the path any more */
	bool path_other;      /* the path names another file */
	bool modified_after_start; /* mapped inode's mtime > process start */
	bool layout_mismatch; /* its segments no longer match the mappings */
	bool short_file;      /* it ends before its mappings do */
	unsigned long bad_slots; /* relocation slots holding file values */
};

/* The most serious verdict the evidence supports:
 * corrupted > rewritten > deleted > replaced > ok. */
enum so_verdict so_verdict_of(const struct so_evidence *ev);

/* Whether the evidence says the mapped file was written after it was
 * mapped.  Lost relocations count: only a truncation (or a hole punched)
 * makes the kernel drop a process's private copies of file pages. */
bool so_evidence_rewritten(const struct so_evidence *ev);

/* "ok", "replaced", ... */
const char *so_verdict_name(enum so_verdict v);

/* Whether a file modified at time t was modified after a process that
 * started at start (as procfs_start_time() gives it, up to one clock tick early)
 * could have mapped it.  Times within the clock's uncertainty count as
 * before. */
bool so_changed_after(const struct timespec *t,
		      const struct timespec *start);

#endif
