/* snakescope dump PID: every thread's Python stack. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd/cmd.h"
#include "cmd/corecap.h"
#include "cmd/live.h"
#include "out/writer.h"
#include "py/locals.h"
#include "py/objects.h"
#include "target/mem_cache.h"
#include "util/xalloc.h"

/* Reading locals copies many more pages, and allocates more, while the
 * process is stopped; the memory for that is faulted in before stopping
 * (a page fault costs about 2 us in a VM): page buffers for the page cache
 * and heap for the rest, so much per thread, within bounds. */
#define LOCALS_PAGES_PER_THREAD 64
#define LOCALS_PAGES_MIN 128
#define LOCALS_PAGES_MAX 4096
#define LOCALS_HEAP_PER_THREAD (256u << 10)
#define LOCALS_HEAP_MIN (1u << 20)
#define LOCALS_HEAP_MAX (16u << 20)

static void reserve_for_locals(struct live *lv)
{
	pid_t *tids = NULL;
	size_t n = 1, pages, heap;
	struct err e = { 0 };

	if (!procfs_list_tids(lv->pid, &tids, &n, &e))
		free(tids);
	pages = n * LOCALS_PAGES_PER_THREAD;
	pages = pages < LOCALS_PAGES_MIN ? LOCALS_PAGES_MIN :
		pages > LOCALS_PAGES_MAX ? LOCALS_PAGES_MAX : pages;
	heap = n * LOCALS_HEAP_PER_THREAD;
	heap = heap < LOCALS_HEAP_MIN ? LOCALS_HEAP_MIN :
	       heap > LOCALS_HEAP_MAX ? LOCALS_HEAP_MAX : heap;
	mem_cache_reserve(lv->mem, pages);
	xprefault(heap);
}

struct dump_opts {
	int pid;
	int json;
	int nonblocking;
	int verbose;
	int locals;
	enum native_mode native;
	unsigned max_repr;
	unsigned max_items;
	struct walk_opts walk;
	struct core_opts core;    /* --core: core.path non-NULL */
};

void cmd_dump_usage(FILE *out)
{
	fputs("usage: snakescope dump [options] PID\n"
	      "       snakescope dump --core CORE [--executable PATH] "
	      "[--sysroot DIR] [options]\n\n"
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
	      "  -l, --locals          also show each Python frame's arguments and\n"
	      "                        local variables as name = repr\n"
	      "      --max-repr N      cut each repr to N characters, keeping its\n"
	      "                        head and tail around ... (default 80)\n"
	      "      --max-items N     show at most N elements of a container,\n"
	      "                        then ... (default 10)\n"
	      "      --native          also show C frames (library!symbol+0xoff,\n"
	      "                        file:line with debug info) interleaved\n"
	      "                        with the Python frames; the interpreter's\n"
	      "                        eval loop is replaced by the Python\n"
	      "                        frames it runs and its other C frames\n"
	      "                        are hidden\n"
	      "      --native-all      --native, keeping the interpreter's own\n"
	      "                        C frames\n"
	      "  -v, --verbose         also report how long the process was stopped\n"
	      "  -c, --core CORE       read a core file (also .zst, .lz4, .xz)\n"
	      "                        instead of a live process\n"
	      "      --executable PATH the core's main program is at PATH\n"
	      "      --sysroot DIR     look for the files the core names under DIR\n"
	      "  -h, --help            show this help\n", out);
}

static int parse(int argc, char **argv, struct dump_opts *o, struct ctx *ctx)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "nonblocking", no_argument, NULL, 'n' },
		{ "max-frames", required_argument, NULL, 'F' },
		{ "locals", no_argument, NULL, 'l' },
		{ "max-repr", required_argument, NULL, 'R' },
		{ "max-items", required_argument, NULL, 'I' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "native", no_argument, NULL, 'N' },
		{ "native-all", no_argument, NULL, 'A' },
		{ "core", required_argument, NULL, 'c' },
		{ "executable", required_argument, NULL, 'E' },
		{ "sysroot", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c, rc;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "jnlvhc:", longopts, NULL)) != -1) {
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
		case 'N':
			if (o->native == NATIVE_OFF)
				o->native = NATIVE_MERGED;
			break;
		case 'A':
			o->native = NATIVE_ALL;
			break;
		case 'c':
			o->core.path = optarg;
			break;
		case 'E':
			o->core.executable = optarg;
			break;
		case 'S':
			o->core.sysroot = optarg;
			break;
		case 'l':
			o->locals = 1;
			break;
		case 'R':
			rc = parse_uint_opt("--max-repr", optarg, &o->max_repr,
					    1000000, &ctx->err);
			if (rc)
				return rc;
			break;
		case 'I':
			rc = parse_uint_opt("--max-items", optarg, &o->max_items,
					    1000000, &ctx->err);
			if (rc)
				return rc;
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
	o->core.native = o->native;
	if (o->native != NATIVE_OFF && o->nonblocking)
		return err_set(&ctx->err, SS_EUSAGE,
			       "dump: --native needs the threads stopped to "
			       "read their registers (drop --nonblocking)");
	if (o->core.path && optind != argc)
		return err_set(&ctx->err, SS_EUSAGE,
			       "dump: a PID or --core CORE, not both");
	if (!o->core.path && (o->core.executable || o->core.sysroot))
		return err_set(&ctx->err, SS_EUSAGE,
			       "dump: --executable and --sysroot go with "
			       "--core");
	if (o->core.path)
		return 0;
	if (optind != argc - 1)
		return err_set(&ctx->err, SS_EUSAGE, optind >= argc ?
			       "dump: which process? (give a PID)" :
			       "dump: one PID, please");
	return parse_pid(argv[optind], &o->pid, &ctx->err);
}

/* dump --core: the same walk and writers over a core file. */
static int dump_core(struct dump_opts *o, struct ctx *ctx)
{
	struct source_cache src;
	struct py_reader r;
	struct py_objects objs;
	struct dump d = { 0 };
	struct corecap cc;
	int rc = corecap_open(&cc, &o->core, &ctx->err);

	if (rc)
		return rc;
	py_reader_init(&r, &cc.py);
	py_objects_init(&objs, &r, o->max_repr, o->max_items);
	if (o->locals)
		o->walk.locals = &objs;
	rc = corecap_capture(&cc, &o->walk, &r, &d, &ctx->err);
	if (!rc && o->locals)
		py_locals_format(&objs, &d);
	if (!rc && o->json) {
		out_json_dump(stdout, &d);
	} else if (!rc) {
		source_cache_init(&src, 0, o->core.sysroot);
		out_text_dump(stdout, &d, &src);
		source_cache_release(&src);
	}
	dump_release(&d);
	py_objects_release(&objs);
	py_reader_release(&r);
	corecap_close(&cc);
	return rc;
}

int cmd_dump(int argc, char **argv, struct ctx *ctx)
{
	struct dump_opts o = {
		.walk = { WALK_DEFAULT_MAX_FRAMES, WALK_DEFAULT_MAX_THREADS,
			  WALK_DEFAULT_MAX_INTERPS },
	};
	struct source_cache src;
	struct py_reader r;
	struct py_objects objs;
	struct dump d = { 0 };
	struct live lv;
	int rc = parse(argc, argv, &o, ctx);

	if (rc)
		return rc > 0 ? 0 : rc;
	if (o.core.path)
		return dump_core(&o, ctx);
	rc = live_open(&lv, o.pid, &ctx->err);
	if (rc)
		return rc;
	lv.native = o.native;
	py_reader_init(&r, &lv.py);
	py_objects_init(&objs, &r, o.max_repr, o.max_items);
	if (o.locals) {
		o.walk.locals = &objs;
		reserve_for_locals(&lv);
	}
	rc = live_capture(&lv, !o.nonblocking, &o.walk, &r, &d, &ctx->err);
	/* The locals were read while the process was stopped; their reprs
	 * are made now that it runs again. */
	if (!rc && o.locals)
		py_locals_format(&objs, &d);
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
	py_objects_release(&objs);
	py_reader_release(&r);
	live_close(&lv);
	return rc;
}
