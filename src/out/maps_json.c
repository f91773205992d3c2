/* `snakescope maps --json`: schema snakescope.maps/1 (see the man page). */
#include "out/maps_out.h"

#include <inttypes.h>
#include <sys/sysmacros.h>

#include "util/strbuf.h"

static const char *tf(bool b)
{
	return b ? "true" : "false";
}

static void add_str_or_null(struct strbuf *sb, const char *s)
{
	if (s && *s)
		strbuf_add_json_str(sb, s);
	else
		strbuf_addstr(sb, "null");
}

static void add_relocs(struct strbuf *sb, const struct so_entry *en)
{
	const struct so_reloc_result *rr = &en->reloc;

	if (!en->relocs_checked) {
		strbuf_addstr(sb, "null");
		return;
	}
	strbuf_addf(sb, "{\"checked\": %lu, \"bad\": %lu, \"unjudged\": %lu, "
		    "\"first_bad\": ", rr->checked, rr->bad, rr->unjudged);
	if (rr->bad) {
		strbuf_addf(sb, "\"0x%" PRIx64 "\", \"first_bad_value\": "
			    "\"0x%" PRIx64 "\", \"first_bad_symbol\": ",
			    en->bias + rr->first_bad, rr->first_bad_value);
		add_str_or_null(sb, en->first_bad_symbol);
	} else {
		strbuf_addstr(sb, "null, \"first_bad_value\": null, "
			      "\"first_bad_symbol\": null");
	}
	strbuf_addch(sb, '}');
}

static void add_entry(struct strbuf *sb, const struct so_report *r,
		      const struct so_entry *en)
{
	const struct so_evidence *ev = &en->ev;
	char when[64];

	(void)r;
	strbuf_addstr(sb, "{\"path\": ");
	strbuf_add_json_str(sb, en->obj->view);
	strbuf_addf(sb, ", \"kind\": \"%s\", \"verdict\": \"%s\", "
		    "\"load_address\": \"0x%" PRIx64 "\", \"bias\": \"0x%"
		    PRIx64 "\", \"build_id\": ", so_kind_name(en->kind),
		    so_verdict_name(en->verdict), en->load_address, en->bias);
	add_str_or_null(sb, en->build_id);
	strbuf_addf(sb, ", \"device\": \"%02x:%02x\", \"inode\": %" PRIu64
		    ", \"elf\": %s, \"system\": %s, \"unlinked\": %s, "
		    "\"deleted\": %s, \"replaced\": %s, \"same_contents\": %s, "
		    "\"rewritten\": %s, \"modified\": ",
		    en->obj->dev_major, en->obj->dev_minor, en->obj->inode,
		    tf(en->elf), tf(en->system), tf(ev->unlinked),
		    tf(ev->path_missing), tf(ev->path_other),
		    en->identical < 0 ? "null" : tf(en->identical == 1),
		    tf(so_evidence_rewritten(ev)));
	if (en->have_mtime) {
		maps_format_time(&en->mtime, true, when, sizeof(when));
		strbuf_add_json_str(sb, when);
	} else {
		strbuf_addstr(sb, "null");
	}
	strbuf_addstr(sb, ", \"created\": ");
	if (en->have_btime) {
		maps_format_time(&en->btime, true, when, sizeof(when));
		strbuf_add_json_str(sb, when);
	} else {
		strbuf_addstr(sb, "null");
	}
	strbuf_addf(sb, ", \"modified_after_start\": %s, \"layout_mismatch\": "
		    "%s, \"short_file\": %s, \"corrupted\": %s, "
		    "\"relocations\": ", tf(ev->modified_after_start),
		    tf(ev->layout_mismatch), tf(ev->short_file),
		    tf(ev->bad_slots > 0));
	add_relocs(sb, en);
	strbuf_addstr(sb, ", \"note\": ");
	add_str_or_null(sb, en->note);
	strbuf_addch(sb, '}');
}

void maps_write_json(FILE *out, const struct so_report *r)
{
	struct strbuf sb = STRBUF_INIT;
	char when[64];

	maps_format_time(&r->started, true, when, sizeof(when));
	strbuf_addf(&sb, "{\"schema\": \"snakescope.maps/1\", \"pid\": %d, "
		    "\"started\": \"%s\", \"objects\": [", (int)r->pid, when);
	for (size_t i = 0; i < r->n; i++) {
		if (i)
			strbuf_addstr(&sb, ",\n  ");
		else
			strbuf_addstr(&sb, "\n  ");
		add_entry(&sb, r, &r->v[i]);
	}
	strbuf_addf(&sb, "], \"hidden\": %zu, \"summary\": {", r->hidden);
	for (int v = 0; v < SO_NVERDICTS; v++)
		strbuf_addf(&sb, "%s\"%s\": %u", v ? ", " : "",
			    so_verdict_name((enum so_verdict)v), r->count[v]);
	strbuf_addstr(&sb, "}}\n");
	fwrite(sb.buf, 1, sb.len, out);
	strbuf_release(&sb);
}
