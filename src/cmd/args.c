#include "cmd/cmd.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

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

int parse_pid_or_command(const char *cmd, int argc, char **argv,
			 parse_opts_fn parse_opts, void *arg, int *pid,
			 char ***command, struct ctx *ctx)
{
	int rc = parse_opts(argc, argv, arg, ctx), at;

	if (rc)
		return rc;
	if (optind < argc && optind > 1 && !strcmp(argv[optind - 1], "--")) {
		*command = argv + optind;
		return 0;
	}
	if (optind >= argc)
		return err_set(&ctx->err, SS_EUSAGE, "%s: which process? "
			       "(give a PID, or -- COMMAND)", cmd);
	at = optind;
	rc = parse_pid(argv[at], pid, &ctx->err);
	if (rc || at + 1 >= argc)
		return rc;
	/* Options after the PID: parse them with the PID as argv[0]. */
	rc = parse_opts(argc - at, argv + at, arg, ctx);
	if (rc)
		return rc;
	if (optind < argc - at)
		return err_set(&ctx->err, SS_EUSAGE, "%s: one PID, please", cmd);
	return 0;
}
