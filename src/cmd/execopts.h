/* The command line exec and pdb share: [--thread TID] [--timeout SEC] PID,
 * exec adding -c CODE or FILE. */
#ifndef SS_CMD_EXECOPTS_H
#define SS_CMD_EXECOPTS_H

#include <stdbool.h>

#include "util/err.h"

struct exec_opts {
	int pid;
	unsigned tid;          /* 0: let snakescope choose (main thread first) */
	unsigned timeout;      /* seconds to wait for a safe point */
	const char *code;      /* -c CODE (exec only), or NULL */
	char **rest;           /* what follows PID on the command line */
	int nrest;
};

/* Parse argv (argv[0] is the command's name).  with_code accepts -c.
 * 0, 1 for --help, or SS_EUSAGE with the message recorded. */
int exec_opts_parse(int argc, char **argv, bool with_code,
		    struct exec_opts *o, struct err *e);

#endif
