#include "so/verdict.h"

/* procfs_start_time() may be one tick (10 ms) early, and file times come
 * from a coarse clock; a change this close to the start is taken to be
 * from before it. */
#define SLACK_NS 20000000LL

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

bool so_changed_after(const struct timespec *t,
		      const struct timespec *start)
{
	long long c = (long long)t->tv_sec * 1000000000LL + t->tv_nsec;
	long long s = (long long)start->tv_sec * 1000000000LL + start->tv_nsec;

	return c > s + SLACK_NS;
}
