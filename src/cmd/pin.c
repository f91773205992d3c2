/* snakescope pin PID: make the process's extension modules immune to
 * in-place rewrites by replacing each file with an identical copy. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd/cmd.h"
#include "so/pin.h"
#include "so/scan.h"

struct pin_opts {
	int pid;
	bool dry_run;
	bool all;
};

struct tally {
	unsigned done, already, failed, perm_failed, selected;
	const char *last_failed;
	char last_why[512];
};

void cmd_pin_usage(FILE *out)
{
	fputs("usage: snakescope pin [--dry-run] [--all] PID\n\n"
	      "Replace each extension module the process has loaded (every\n"
	      "shared object with --all) by an identical copy: copied next to\n"
	      "it with the same mode, owner, times and extended attributes\n"
	      "(SELinux label included), fsynced, and renamed over it\n"
	      "atomically.  The process keeps the old file, which no path\n"
	      "reaches any more, so a later in-place rewrite (pip reinstalling\n"
	      "a wheel, cp, shutil.copyfile) cannot corrupt it.  Files on\n"
	      "read-only file systems or in directories snakescope may not\n"
	      "write are reported and skipped; the original is never touched\n"
	      "until its copy is complete.\n\n"
	      "options:\n"
	      "  -n, --dry-run  say what would be pinned, change nothing\n"
	      "  -a, --all      every shared object, system libraries included\n"
	      "  -h, --help     show this help\n", out);
}

static int parse(int argc, char **argv, struct pin_opts *o, struct ctx *ctx)
{
	static const struct option longopts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "all", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "nah", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			o->dry_run = true;
			break;
		case 'a':
			o->all = true;
			break;
		case 'h':
			cmd_pin_usage(stdout);
			return 1;
		default:
			return err_set(&ctx->err, SS_EUSAGE,
				       "pin: unknown option '%s'",
				       argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return err_set(&ctx->err, SS_EUSAGE, optind >= argc ?
			       "pin: which process? (give a PID)" :
			       "pin: one PID, please");
	return parse_pid(argv[optind], &o->pid, &ctx->err);
}

static bool selected(const struct pin_opts *o, const struct so_entry *en)
{
	return en->elf && (o->all || en->kind == SO_KIND_EXTENSION);
}

static void pin_one(const struct pin_opts *o, const struct so_report *r,
		    const struct so_entry *en, struct tally *t)
{
	const char *view = en->obj->view;
	char host[PATH_MAX + 64];
	struct so_pin_target pt = {
		.host = host,
		.dev = en->mapped_dev,
		.ino = en->mapped_ino,
		.dev_known = en->dev_known,
	};
	struct so_pin_result res;

	if (en->ev.path_other) {
		printf("already    %s (the path names another file: pinned "
		       "or replaced before)\n", view);
		t->already++;
		return;
	}
	if (en->ev.path_missing) {
		printf("gone       %s (deleted; nothing to pin)\n", view);
		t->already++;
		return;
	}
	if (target_root_host_path(&r->root, view, host, sizeof(host))) {
		res.outcome = SO_PIN_FAILED;
		res.code = SS_EIO;
		snprintf(res.why, sizeof(res.why), "its path is too long");
	} else {
		so_pin_file(&pt, o->dry_run, &res);
	}
	switch (res.outcome) {
	case SO_PIN_DONE:
		printf("pinned     %s%s%s\n", view, res.why[0] ? ": " : "",
		       res.why);
		t->done++;
		break;
	case SO_PIN_DRY:
		printf("would pin  %s\n", view);
		t->done++;
		break;
	case SO_PIN_ALREADY:
		printf("already    %s (the path names another file: pinned "
		       "or replaced before)\n", view);
		t->already++;
		break;
	case SO_PIN_FAILED:
		printf("%s %s: %s\n", o->dry_run ? "cannot pin" : "not pinned",
		       view, res.why);
		t->failed++;
		t->perm_failed += res.code == SS_EPERM;
		t->last_failed = view;
		snprintf(t->last_why, sizeof(t->last_why), "%s", res.why);
		break;
	}
	if (en->verdict == SO_CORRUPTED)
		printf("           (already corrupted in this process: pinning "
		       "protects only the future; restart it)\n");
}

int cmd_pin(int argc, char **argv, struct ctx *ctx)
{
	struct pin_opts o = { 0 };
	struct so_scan_opts so;
	struct so_report r;
	struct tally t = { 0 };
	int rc = parse(argc, argv, &o, ctx);

	if (rc)
		return rc > 0 ? 0 : rc;
	so.all = o.all;
	so.relocs = true; /* to warn about objects already corrupted */
	rc = so_scan(o.pid, &so, &r, &ctx->err);
	if (rc)
		return rc;
	for (size_t i = 0; i < r.n; i++) {
		if (!selected(&o, &r.v[i]))
			continue;
		t.selected++;
		pin_one(&o, &r, &r.v[i], &t);
	}
	if (!t.selected)
		printf("process %d has no %s loaded\n", o.pid, o.all ?
		       "shared objects outside the system's" :
		       "extension modules (--all pins every shared object)");
	if (t.failed == 1)
		rc = err_set(&ctx->err, t.perm_failed ? SS_EPERM : SS_EIO,
			     "pin: '%s' %s: %s", t.last_failed, o.dry_run ?
			     "cannot be pinned" : "not pinned", t.last_why);
	else if (t.failed)
		rc = err_set(&ctx->err, t.perm_failed == t.failed ? SS_EPERM :
			     SS_EIO, "pin: %u of %u files %s (see above)",
			     t.failed, t.selected, o.dry_run ?
			     "cannot be pinned" : "not pinned");
	so_report_release(&r);
	return rc;
}
