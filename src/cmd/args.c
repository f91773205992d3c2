#include "cmd/cmd.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>

int parse_pid(const char *s, int *pid, struct err *e)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v <= 0 || v > INT_MAX)
		return err_set(e, SS_EUSAGE, "'%s' is not a process id", s);
	*pid = (int)v;
	return 0;
}

int parse_uint_opt(const char *opt, const char *s, unsigned *out,
		   unsigned max, struct err *e)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v == 0 || v > max)
		return err_set(e, SS_EUSAGE,
			       "%s wants a whole number from 1 to %u, not '%s'",
			       opt, max, s);
	*out = (unsigned)v;
	return 0;
}
