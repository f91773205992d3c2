/* `snakescope maps` as a table for people. */
#include "out/maps_out.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>

void maps_format_time(const struct timespec *t, bool iso, char *buf,
		      size_t len)
{
	struct tm tm;
	char s[64];
	time_t sec = t->tv_sec;

	if (iso)
		gmtime_r(&sec, &tm);
	else
		localtime_r(&sec, &tm);
	strftime(s, sizeof(s), iso ? "%Y-%m-%dT%H:%M:%S" : "%Y-%m-%d %H:%M:%S",
		 &tm);
	snprintf(buf, len, "%s.%03ld%s", s, t->tv_nsec / 1000000,
		 iso ? "Z" : "");
}

static void details(FILE *out, const struct so_report *r,
		    const struct so_entry *en)
{
	const struct so_evidence *ev = &en->ev;
	char when[64], start[64];

	if (ev->bad_slots) {
		fprintf(out, "    relocations lost: %lu of %lu slots hold the "
			"file's unrelocated value; the first at 0x%" PRIx64,
			en->reloc.bad, en->reloc.checked,
			en->bias + en->reloc.first_bad);
		if (en->first_bad_symbol[0])
			fprintf(out, " (%s)", en->first_bad_symbol);
		fprintf(out, " holds 0x%" PRIx64 "; calling into this object "
			"will crash the process\n", en->reloc.first_bad_value);
	}
	if (ev->modified_after_start && en->have_mtime) {
		bool born_late = en->have_btime &&
				 so_born_after(&en->btime, &r->started);

		maps_format_time(&en->mtime, false, when, sizeof(when));
		maps_format_time(born_late ? &en->btime : &r->started, false,
				 start, sizeof(start));
		fprintf(out, "    rewritten in place: modified %s, %s (%s)",
			when, born_late ? "well after it was created" :
			"after the process started", start);
		if (!ev->bad_slots && en->relocs_checked &&
		    !ev->layout_mismatch)
			fputs("; relocations intact (harmless only if it "
			      "was loaded after that)", out);
		fputc('\n', out);
	}
	if (ev->layout_mismatch)
		fputs("    rewritten: the file's segments no longer match "
		      "what is mapped (different contents)\n", out);
	if (ev->short_file)
		fputs("    rewritten: the file is now shorter than its "
		      "mapping (touching the missing pages raises SIGBUS)\n",
		      out);
	if (ev->path_other) {
		if (en->identical == 1)
			fputs("    the path now names a copy with the same "
			      "contents (as `snakescope pin` leaves it); this "
			      "process keeps the file it mapped\n", out);
		else
			fputs("    the path now names another file: this "
			      "process keeps the one it mapped, the next "
			      "process or import loads the new one\n", out);
	}
	if (ev->path_missing)
		fputs("    the file was deleted; this process keeps the copy it "
		      "mapped\n", out);
	if (en->note[0])
		fprintf(out, "    %s\n", en->note);
}

void maps_write_text(FILE *out, const struct so_report *r)
{
	static const enum so_verdict order[] = {
		SO_CORRUPTED, SO_REWRITTEN, SO_DELETED, SO_REPLACED, SO_OK,
	};
	bool first = true;

	fprintf(out, "process %d: %zu mapped object%s", (int)r->pid, r->n,
		r->n == 1 ? "" : "s");
	if (r->hidden)
		fprintf(out, " (%zu system or non-ELF file%s not shown; "
			"--all lists them)", r->hidden,
			r->hidden == 1 ? "" : "s");
	fputs("\n\n", out);
	fprintf(out, "%-10s %-10s %-14s %-16s %s\n", "VERDICT", "KIND",
		"LOAD ADDRESS", "BUILD-ID", "PATH");
	for (size_t i = 0; i < r->n; i++) {
		const struct so_entry *en = &r->v[i];

		fprintf(out, "%-10s %-10s 0x%-12" PRIx64 " %-16.16s %s\n",
			so_verdict_name(en->verdict), so_kind_name(en->kind),
			en->load_address, en->build_id[0] ? en->build_id : "-",
			en->obj->view);
		if (en->verdict != SO_OK || en->note[0])
			details(out, r, en);
	}
	fputs("\n", out);
	for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
		if (!r->count[order[k]])
			continue;
		fprintf(out, "%s%u %s", first ? "" : ", ", r->count[order[k]],
			so_verdict_name(order[k]));
		first = false;
	}
	if (first)
		fputs("nothing mapped to check", out);
	fputc('\n', out);
	if (r->count[SO_CORRUPTED])
		fputs("a corrupted object crashes the process when it is "
		      "called: restart the process; `snakescope pin` "
		      "protects objects from the next in-place rewrite\n",
		      out);
	else if (r->count[SO_REWRITTEN])
		fputs("a file rewritten in place under a running process can "
		      "crash it: restart it; `snakescope pin` protects "
		      "objects from the next in-place rewrite\n", out);
}
