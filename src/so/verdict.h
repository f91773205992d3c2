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
	/* the mapped inode's mtime is later than the process could have
	 * mapped it (so_modified_after_mapping()) */
	bool modified_after_start;
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

/* Whether a file born at birth (NULL when the file system does not say)
 * was created after the process started. */
bool so_born_after(const struct timespec *birth,
		   const struct timespec *start);

/* Whether a file modified at mtime was modified after the process mapped
 * it.  Without a birth time: after the process started.  A file born after
 * the start was mapped after its birth, so only a modification more than
 * the creation window (2 s) after its birth counts: installing a module
 * while the process runs and then importing it is not a rewrite. */
bool so_modified_after_mapping(const struct timespec *mtime,
			       const struct timespec *start,
			       const struct timespec *birth);

#endif
