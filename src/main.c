/* snakescope: look inside Python processes from the outside.
 * Dispatch, global flags, error reporting and exit codes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"

static const struct cmd commands[] = {
	{ "dump", cmd_dump, "print every thread's Python stack", cmd_dump_usage },
	{ "exec", cmd_exec, "run Python code inside a running process",
	  cmd_exec_usage },
	{ "info", cmd_info, "show what Python a process runs and how it was found",
	  cmd_info_usage },
	{ "maps", cmd_maps, "find shared objects rewritten under a process",
	  cmd_maps_usage },
	{ "pdb", cmd_pdb, "debug a running process with pdb in this terminal",
	  cmd_pdb_usage },
	{ "pin", cmd_pin, "protect loaded extension modules from rewrites",
	  cmd_pin_usage },
	{ "record", cmd_record, "sample Python stacks into a profile (flame graph, ...)",
	  cmd_record_usage },
	{ "top", cmd_top, "a live table of where a process spends its time",
	  cmd_top_usage },
	{ "run", cmd_run, "run a command; report crashes with native and Python stacks",
	  cmd_run_usage },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
	size_t i;

	fputs("usage: snakescope [--version] [--help] <command> [<args>]\n\n"
	      "Look inside a running Python process (CPython 2.7, 3.6-3.15)\n"
	      "without restarting it, or run code in it.\n\ncommands:\n", out);
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(out, "   %-8s %s\n", commands[i].name,
			commands[i].summary);
	fputs("\n'snakescope <command> --help' describes a command.\n"
	      "exit status: 0 ok, 1 failure, 2 usage error, 3 permission "
	      "denied,\n4 findings (maps: an object rewritten or corrupted); record -- CMD\n"
	      "top -- CMD and run -- CMD exit with the status of CMD\n",
	      out);
}

static int exit_code(int rc)
{
	if (rc >= CMD_EXIT_BASE)
		return rc - CMD_EXIT_BASE;
	switch (rc) {
	case 0:
		return 0;
	case CMD_FINDINGS:
		return 4;
	case SS_EUSAGE:
		return 2;
	case SS_EPERM:
		return 3;
	default:
		return 1;
	}
}

/* Output errors (a full disk, a closed pipe) must not pass silently; a
 * reader that went away (EPIPE, e.g. `| head`) is not an error. */
static int check_stdout(void)
{
	if (fflush(stdout) == 0 && !ferror(stdout))
		return 0;
	if (errno == EPIPE)
		return 0;
	fprintf(stderr, "snakescope: cannot write output: %s\n",
		strerror(errno));
	return 1;
}

static const struct cmd *find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	struct ctx ctx = { .argv0 = argv[0] };
	const struct cmd *cmd;
	int rc, status;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		if (argc > 2 && (cmd = find_command(argv[2]))) {
			cmd->usage(stdout);
			return check_stdout();
		}
		usage(stdout);
		return check_stdout();
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("snakescope %s\n", SS_VERSION);
		return check_stdout();
	}
	cmd = find_command(argv[1]);
	if (!cmd) {
		fprintf(stderr, "snakescope: '%s' is not a command\n\n",
			argv[1]);
		usage(stderr);
		return 2;
	}
	rc = cmd->fn(argc - 1, argv + 1, &ctx);
	status = exit_code(rc);
	if (check_stdout() && !status)
		status = 1;
	if (rc < 0) {
		fprintf(stderr, "snakescope: %s\n",
			ctx.err.msg[0] ? ctx.err.msg : "failed");
		if (rc == SS_EUSAGE && !ctx.usage_shown) {
			fputc('\n', stderr);
			cmd->usage(stderr);
		}
	}
	return status;
}
