/* Subcommands.  Each cmd_<name>() parses its own options (usage text and
 * option table live together in its file), does its work and returns 0 or a
 * negative SS_E* with the message recorded in ctx->err; main.c reports it. */
#ifndef SS_CMD_CMD_H
#define SS_CMD_CMD_H

#include <stdio.h>

#include "util/err.h"

struct ctx {
	struct err err;
	const char *argv0;
	/* Set by a command that already printed its usage for a usage error,
	 * so main.c does not print it twice. */
	int usage_shown;
};

/* A command's positive return value: it ran and found problems, exit
 * status 4 (`maps` finding a rewritten or corrupted object). */
#define CMD_FINDINGS 4
/* CMD_EXIT_BASE + N: exit with status N (record passing its child's
 * exit status through). */
#define CMD_EXIT_BASE 256

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv, struct ctx *ctx);
	const char *summary;
	void (*usage)(FILE *out);
};

int cmd_dump(int argc, char **argv, struct ctx *ctx);
int cmd_info(int argc, char **argv, struct ctx *ctx);
void cmd_dump_usage(FILE *out);
void cmd_info_usage(FILE *out);
int cmd_maps(int argc, char **argv, struct ctx *ctx);
int cmd_pin(int argc, char **argv, struct ctx *ctx);
void cmd_maps_usage(FILE *out);
void cmd_pin_usage(FILE *out);
int cmd_exec(int argc, char **argv, struct ctx *ctx);
void cmd_exec_usage(FILE *out);
int cmd_pdb(int argc, char **argv, struct ctx *ctx);
void cmd_pdb_usage(FILE *out);
int cmd_record(int argc, char **argv, struct ctx *ctx);
void cmd_record_usage(FILE *out);
int cmd_top(int argc, char **argv, struct ctx *ctx);
void cmd_top_usage(FILE *out);
int cmd_run(int argc, char **argv, struct ctx *ctx);
void cmd_run_usage(FILE *out);

/* Parse a pid argument; SS_EUSAGE with a message when it is not one. */
int parse_pid(const char *s, int *pid, struct err *e);
/* Parse a positive integer option value. */
int parse_uint_opt(const char *opt, const char *s, unsigned *out,
		   unsigned max, struct err *e);

/* Parses the options up to the first non-option of argv with getopt
 * (optind starting over); 0, 1 for --help, or a negative SS_E*. */
typedef int (*parse_opts_fn)(int argc, char **argv, void *arg,
			     struct ctx *ctx);
/* `CMD [options] PID [options]` or `CMD [options] -- COMMAND [ARGS...]`:
 * the PID, or the command (left NULL for a PID).  Returns parse_opts's
 * nonzero result, or SS_EUSAGE for a missing or second PID. */
int parse_pid_or_command(const char *cmd, int argc, char **argv,
			 parse_opts_fn parse_opts, void *arg, int *pid,
			 char ***command, struct ctx *ctx);

#endif
