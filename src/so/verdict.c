#include "so/verdict.h"

/* procfs_start_time() may be one tick (10 ms) early, and file times come
 * from a coarse clock; a change this close to the start is taken to be
 * from before it. */
#define SLACK_NS 20000000LL
/* How long writing a freshly created file may take (an installer
 * extracting a large wheel); writes within it belong to the creation. */
#define CREATION_NS 2000000000LL

bool so_evidence_rewritten(const struct so_evidence *ev)
{
	return ev->bad_slots || ev->layout_mismatch || ev->short_file ||
	       ev->modified_after_start;
}

enum so_verdict so_verdict_of(const struct so_evidence *ev)
{
	if (ev->bad_slots)
		return SO_CORRUPTED;
	if (so_evidence_rewritten(ev))
		return SO_REWRITTEN;
	if (ev->path_missing)
		return SO_DELETED;
	if (ev->path_other)
		return SO_REPLACED;
	return SO_OK;
}

const char *so_verdict_name(enum so_verdict v)
{
	static const char *const names[SO_NVERDICTS] = {
		[SO_OK] = "ok",
		[SO_REPLACED] = "replaced",
		[SO_DELETED] = "deleted",
		[SO_REWRITTEN] = "rewritten",
		[SO_CORRUPTED] = "corrupted",
	};

	return (unsigned)v < SO_NVERDICTS ? names[v] : "?";
}

static long long ns_of(const struct timespec *t)
{
	return (long long)t->tv_sec * 1000000000LL + t->tv_nsec;
}

bool so_changed_after(const struct timespec *t,
		      const struct timespec *start)
{
	return ns_of(t) > ns_of(start) + SLACK_NS;
}

bool so_born_after(const struct timespec *birth,
		   const struct timespec *start)
{
	return birth && so_changed_after(birth, start);
}

bool so_modified_after_mapping(const struct timespec *mtime,
			       const struct timespec *start,
			       const struct timespec *birth)
{
	/* A file created after the process started can only have been
	 * mapped after it was created: its own writing is no rewrite. */
	if (so_born_after(birth, start))
		return ns_of(mtime) > ns_of(birth) + CREATION_NS;
	return so_changed_after(mtime, start);
}
