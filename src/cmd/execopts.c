/* See execopts.h. */
#include "cmd/execopts.h"

#include <getopt.h>
#include <stddef.h>
#include <sys/types.h>

#include "cmd/cmd.h"

#define DEFAULT_TIMEOUT 10
#define MAX_TIMEOUT 86400
#define MAX_TID 0x7fffffff

int exec_opts_parse(int argc, char **argv, bool with_code,
		    struct exec_opts *o, struct err *e)
{
	static const struct option longopts[] = {
		{ "code", required_argument, NULL, 'c' },
		{ "thread", required_argument, NULL, 'T' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	/* pdb has no -c: its table starts after the "code" entry */
	const struct option *lo = with_code ? longopts : longopts + 1;
	int c, rc = 0;

	o->timeout = DEFAULT_TIMEOUT;
	optind = 1;
	opterr = 0;
	while (!rc && (c = getopt_long(argc, argv, with_code ? "c:T:t:h" :
				       "T:t:h", lo, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->code = optarg;
			break;
		case 'T':
			rc = parse_uint_opt("--thread", optarg, &o->tid,
					    MAX_TID, e);
			break;
		case 't':
			rc = parse_uint_opt("--timeout", optarg, &o->timeout,
					    MAX_TIMEOUT, e);
			break;
		case 'h':
			return 1;
		default:
			return err_set(e, SS_EUSAGE, "unknown option '%s'",
				       argv[optind - 1]);
		}
	}
	if (rc)
		return rc;
	if (optind >= argc)
		return err_set(e, SS_EUSAGE, "no PID given");
	rc = parse_pid(argv[optind++], &o->pid, e);
	o->rest = argv + optind;
	o->nrest = argc - optind;
	return rc;
}
