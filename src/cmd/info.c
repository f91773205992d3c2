/* snakescope info PID: what Python a process runs and how it was found. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd/cmd.h"
#include "cmd/corecap.h"
#include "cmd/live.h"
#include "util/strbuf.h"

void cmd_info_usage(FILE *out)
{
	fputs("usage: snakescope info [--json] PID\n"
	      "       snakescope info [--json] --core CORE [--executable PATH] "
	      "[--sysroot DIR]\n\n"
	      "Show the Python version, executable, libpython, build traits\n"
	      "(debug, free-threaded, shared or static, PIE), how the runtime\n"
	      "state was located and how many interpreters and threads there\n"
	      "are.  Reads without stopping the process.\n\n"
	      "options:\n"
	      "  -j, --json     one JSON document (schema snakescope.info/1)\n"
	      "  -c, --core CORE  a core file (also .zst, .lz4, .xz) instead of\n"
	      "                 a PID; --executable PATH and --sysroot DIR say\n"
	      "                 where the files it names are\n"
	      "  -h, --help     show this help\n", out);
}

struct counts {
	unsigned interps;
	unsigned threads;
};

static void count(const struct dump *d, struct counts *c)
{
	int64_t last = -2;

	c->threads = (unsigned)d->nthreads;
	c->interps = 0;
	for (size_t i = 0; i < d->nthreads; i++)
		if (d->threads[i].interp_id != last) {
			c->interps++;
			last = d->threads[i].interp_id;
		}
}

static void print_json(const struct py_proc *p, const struct counts *c)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addf(&sb, "{\"schema\": \"snakescope.info/1\", \"pid\": %d, "
		    "\"python\": {\"version\": ", (int)p->pid);
	strbuf_add_json_str(&sb, p->version_str);
	strbuf_addstr(&sb, ", \"executable\": ");
	if (p->executable[0])
		strbuf_add_json_str(&sb, p->executable);
	else
		strbuf_addstr(&sb, "null");
	strbuf_addstr(&sb, ", \"library\": ");
	if (p->library[0])
		strbuf_add_json_str(&sb, p->library);
	else
		strbuf_addstr(&sb, "null");
	strbuf_addf(&sb, ", \"debug\": %s, \"free_threaded\": %s, "
		    "\"shared\": %s, \"pie\": %s}, \"located\": ",
		    p->layout.debug ? "true" : "false",
		    p->layout.free_threaded ? "true" : "false",
		    p->library[0] ? "true" : "false",
		    p->pie ? "true" : "false");
	strbuf_add_json_str(&sb, p->located);
	strbuf_addstr(&sb, ", \"layout\": ");
	strbuf_add_json_str(&sb, p->layout_source);
	strbuf_addf(&sb, ", \"interpreters\": %u, \"threads\": %u}\n",
		    c->interps, c->threads);
	fwrite(sb.buf, 1, sb.len, stdout);
	strbuf_release(&sb);
}

static void print_text(const struct py_proc *p, const struct counts *c)
{
	printf("pid:          %d\n", (int)p->pid);
	printf("python:       %s\n", p->version_str);
	printf("executable:   %s\n", p->executable[0] ? p->executable : "?");
	printf("library:      %s\n", p->library[0] ? p->library :
	       "none (static build)");
	printf("build:        %s, %s, %s%s\n",
	       p->library[0] ? "shared" : "static", p->pie ? "PIE" : "non-PIE",
	       p->layout.debug ? "debug" : "release",
	       p->layout.free_threaded ? ", free-threaded" : "");
	printf("located:      %s\n", p->located);
	printf("layout:       %s\n", p->layout_source);
	printf("interpreters: %u\n", c->interps);
	printf("threads:      %u\n", c->threads);
}

static int info_core(const struct core_opts *co, int json, struct ctx *ctx,
		     int extra)
{
	struct walk_opts wo = { 1, WALK_DEFAULT_MAX_THREADS,
				WALK_DEFAULT_MAX_INTERPS };
	struct py_reader r;
	struct dump d = { 0 };
	struct counts c;
	struct corecap cc;
	int rc;

	if (extra)
		return err_set(&ctx->err, SS_EUSAGE,
			       "info: a PID or --core CORE, not both");
	rc = corecap_open(&cc, co, &ctx->err);
	if (rc)
		return rc;
	py_reader_init(&r, &cc.py);
	rc = corecap_capture(&cc, &wo, &r, &d, &ctx->err);
	if (!rc) {
		count(&d, &c);
		if (json)
			print_json(&cc.py, &c);
		else
			print_text(&cc.py, &c);
	}
	dump_release(&d);
	py_reader_release(&r);
	corecap_close(&cc);
	return rc;
}

int cmd_info(int argc, char **argv, struct ctx *ctx)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "core", required_argument, NULL, 'c' },
		{ "executable", required_argument, NULL, 'E' },
		{ "sysroot", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct walk_opts wo = { 1, WALK_DEFAULT_MAX_THREADS,
				WALK_DEFAULT_MAX_INTERPS };
	struct py_reader r;
	struct dump d = { 0 };
	struct counts c;
	struct live lv;
	struct core_opts co = { 0 };
	int ch, json = 0, pid, rc;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, "jhc:", longopts, NULL)) != -1) {
		if (ch == 'j') {
			json = 1;
		} else if (ch == 'c') {
			co.path = optarg;
		} else if (ch == 'E') {
			co.executable = optarg;
		} else if (ch == 'S') {
			co.sysroot = optarg;
		} else if (ch == 'h') {
			cmd_info_usage(stdout);
			return 0;
		} else {
			return err_set(&ctx->err, SS_EUSAGE,
				       "info: unknown option '%s'",
				       argv[optind - 1]);
		}
	}
	if (co.path)
		return info_core(&co, json, ctx, optind != argc);
	if (co.executable || co.sysroot)
		return err_set(&ctx->err, SS_EUSAGE, "info: --executable and "
			       "--sysroot go with --core");
	if (optind != argc - 1)
		return err_set(&ctx->err, SS_EUSAGE, optind >= argc ?
			       "info: which process? (give a PID)" :
			       "info: one PID, please");
	rc = parse_pid(argv[optind], &pid, &ctx->err);
	if (!rc)
		rc = live_open(&lv, pid, &ctx->err);
	if (rc)
		return rc;
	py_reader_init(&r, &lv.py);
	rc = live_capture(&lv, false, &wo, &r, &d, &ctx->err);
	if (!rc) {
		count(&d, &c);
		if (json)
			print_json(&lv.py, &c);
		else
			print_text(&lv.py, &c);
	}
	dump_release(&d);
	py_reader_release(&r);
	live_close(&lv);
	return rc;
}
