/* snakescope maps PID: the shared objects a process has mapped, and
 * whether any was rewritten under it; --watch keeps looking. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd/cmd.h"
#include "out/maps_out.h"
#include "so/scan.h"
#include "so/watch.h"

struct maps_opts {
	int pid;
	bool json;
	bool all;
	bool watch;
};

void cmd_maps_usage(FILE *out)
{
	fputs("usage: snakescope maps [--json] [--all] [--watch] PID\n\n"
	      "List the shared objects the process has mapped (by default its\n"
	      "Python extension modules and the libraries outside the system's\n"
	      "own) with load address, build-id and a verdict:\n"
	      "  ok         as loaded\n"
	      "  replaced   the path names another file now (atomic replace;\n"
	      "             harmless to this process)\n"
	      "  deleted    the file was unlinked\n"
	      "  rewritten  the mapped file itself was written after the\n"
	      "             process started\n"
	      "  corrupted  and the process lost its relocations: relocated\n"
	      "             pointers read back as the file's values, so the\n"
	      "             next call into it crashes\n"
	      "Reads the process's memory without stopping it.  Exit status 4\n"
	      "when anything is rewritten or corrupted.\n\n"
	      "options:\n"
	      "  -j, --json     one JSON document (schema snakescope.maps/1)\n"
	      "  -a, --all      every mapped file, system libraries included\n"
	      "  -w, --watch    keep watching: warn the moment a mapped file is\n"
	      "                 opened for writing or written, naming the\n"
	      "                 writer; ends when the process exits or on\n"
	      "                 SIGINT/SIGTERM (JSON lines with --json)\n"
	      "  -h, --help     show this help\n", out);
}

static int parse(int argc, char **argv, struct maps_opts *o, struct ctx *ctx)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "all", no_argument, NULL, 'a' },
		{ "watch", no_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "jawh", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			o->json = true;
			break;
		case 'a':
			o->all = true;
			break;
		case 'w':
			o->watch = true;
			break;
		case 'h':
			cmd_maps_usage(stdout);
			return 1;
		default:
			return err_set(&ctx->err, SS_EUSAGE,
				       "maps: unknown option '%s'",
				       argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return err_set(&ctx->err, SS_EUSAGE, optind >= argc ?
			       "maps: which process? (give a PID)" :
			       "maps: one PID, please");
	return parse_pid(argv[optind], &o->pid, &ctx->err);
}

static void print_event(const struct so_watch_event *ev, void *arg)
{
	const struct maps_opts *o = arg;

	maps_write_watch_event(stdout, ev, o->json);
}

static int watch(const struct maps_opts *o, struct ctx *ctx)
{
	struct so_watch_opts wo = { .all = o->all };
	unsigned warnings = 0;
	int rc;

	rc = so_watch(o->pid, &wo, print_event, (void *)o, &warnings,
		      &ctx->err);
	if (rc)
		return rc;
	return warnings ? CMD_FINDINGS : 0;
}

int cmd_maps(int argc, char **argv, struct ctx *ctx)
{
	struct maps_opts o = { 0 };
	struct so_scan_opts so;
	struct so_report r;
	int rc = parse(argc, argv, &o, ctx);

	if (rc)
		return rc > 0 ? 0 : rc;
	if (o.watch)
		return watch(&o, ctx);
	so.all = o.all;
	so.relocs = true;
	rc = so_scan(o.pid, &so, &r, &ctx->err);
	if (rc)
		return rc;
	if (o.json)
		maps_write_json(stdout, &r);
	else
		maps_write_text(stdout, &r);
	rc = so_report_has_findings(&r) ? CMD_FINDINGS : 0;
	so_report_release(&r);
	return rc;
}
