/* snakescope dump PID: every thread's Python stack. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd/cmd.h"
#include "cmd/live.h"
#include "out/writer.h"

struct dump_opts {
	int pid;
	int json;
	int nonblocking;
	int verbose;
	struct walk_opts walk;
};

void cmd_dump_usage(FILE *out)
{
	fputs("usage: snakescope dump [options] PID\n\n"
	      "Print every thread's Python stack, most recent call last, with\n"
	      "its OS thread id, Python ident, whether it holds the GIL and\n"
	      "whether it is running or idle.  By default every thread is\n"
	      "stopped for the few milliseconds the read takes, so the stacks\n"
	      "are a consistent snapshot; the process is always resumed.\n\n"
	      "options:\n"
	      "  -j, --json            one JSON document (schema snakescope.dump/1)\n"
	      "  -n, --nonblocking     read without stopping the process (stacks\n"
	      "                        of running threads may come out partial)\n"
	      "      --max-frames N    at most N frames per thread (default 10000)\n"
	      "  -v, --verbose         also report how long the process was stopped\n"
	      "  -h, --help            show this help\n", out);
}

static int parse(int argc, char **argv, struct dump_opts *o, struct ctx *ctx)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "nonblocking", no_argument, NULL, 'n' },
		{ "max-frames", required_argument, NULL, 'F' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c, rc;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "jnvh", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			o->json = 1;
			break;
		case 'n':
			o->nonblocking = 1;
			break;
		case 'v':
			o->verbose = 1;
			break;
		case 'F':
			rc = parse_uint_opt("--max-frames", optarg,
					    &o->walk.max_frames, 1000000,
					    &ctx->err);
			if (rc)
				return rc;
			break;
		case 'h':
			cmd_dump_usage(stdout);
			return 1;
		default:
			return err_set(&ctx->err, SS_EUSAGE,
				       "dump: unknown option '%s'",
				       argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return err_set(&ctx->err, SS_EUSAGE, optind >= argc ?
			       "dump: which process? (give a PID)" :
			       "dump: one PID, please");
	return parse_pid(argv[optind], &o->pid, &ctx->err);
}

int cmd_dump(int argc, char **argv, struct ctx *ctx)
{
	struct dump_opts o = {
		.walk = { WALK_DEFAULT_MAX_FRAMES, WALK_DEFAULT_MAX_THREADS,
			  WALK_DEFAULT_MAX_INTERPS },
	};
	struct source_cache src;
	struct py_reader r;
	struct dump d = { 0 };
	struct live lv;
	int rc = parse(argc, argv, &o, ctx);

	if (rc)
		return rc > 0 ? 0 : rc;
	rc = live_open(&lv, o.pid, &ctx->err);
	if (rc)
		return rc;
	py_reader_init(&r, &lv.py);
	rc = live_capture(&lv, !o.nonblocking, &o.walk, &r, &d, &ctx->err);
	if (!rc) {
		if (o.json) {
			out_json_dump(stdout, &d);
		} else {
			source_cache_init(&src, o.pid, NULL);
			out_text_dump(stdout, &d, &src);
			source_cache_release(&src);
		}
		if (o.verbose && d.pause_us >= 0)
			fprintf(stderr, "snakescope: process %d was stopped "
				"for %lld us\n", o.pid, (long long)d.pause_us);
	}
	dump_release(&d);
	py_reader_release(&r);
	live_close(&lv);
	return rc;
}
