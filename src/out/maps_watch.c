/* The lines `snakescope maps --watch` prints, text or JSON. */
#include "out/maps_out.h"

#include <signal.h>
#include <string.h>

#include "util/strbuf.h"

static const char *event_name(enum so_watch_kind k)
{
	switch (k) {
	case SO_WATCH_STARTED: return "watching";
	case SO_WATCH_OPEN_WRITE: return "opened-for-writing";
	case SO_WATCH_MODIFIED: return "modified";
	case SO_WATCH_UNLINKED: return "unlinked";
	case SO_WATCH_EXITED: return "exited";
	default: return "stopped";
	}
}

static void writers_text(struct strbuf *sb, const struct so_watch_event *ev)
{
	if (!ev->nwriters) {
		strbuf_addstr(sb, " (writer not found: it has closed the "
			      "file, or snakescope cannot see it)");
		return;
	}
	strbuf_addstr(sb, " by ");
	for (size_t i = 0; i < ev->nwriters; i++)
		strbuf_addf(sb, "%spid %d (%s)", i ? ", " : "",
			    (int)ev->writers[i].pid,
			    ev->writers[i].comm[0] ? ev->writers[i].comm :
			    "?");
}

static void text(struct strbuf *sb, const struct so_watch_event *ev)
{
	switch (ev->kind) {
	case SO_WATCH_STARTED:
		strbuf_addf(sb, "watching %zu file%s mapped by process %d",
			    ev->nfiles, ev->nfiles == 1 ? "" : "s",
			    (int)ev->pid);
		break;
	case SO_WATCH_OPEN_WRITE:
		strbuf_addf(sb, "warning: %s: opened for writing", ev->path);
		writers_text(sb, ev);
		strbuf_addf(sb, "; an in-place rewrite can crash process %d",
			    (int)ev->pid);
		break;
	case SO_WATCH_MODIFIED:
		strbuf_addf(sb, "warning: %s: modified", ev->path);
		writers_text(sb, ev);
		strbuf_addf(sb, "; check process %d with `snakescope maps %d`",
			    (int)ev->pid, (int)ev->pid);
		break;
	case SO_WATCH_UNLINKED:
		strbuf_addf(sb, "%s: unlinked (replaced or deleted); process "
			    "%d keeps the file it mapped", ev->path,
			    (int)ev->pid);
		break;
	case SO_WATCH_EXITED:
		strbuf_addf(sb, "process %d exited", (int)ev->pid);
		break;
	case SO_WATCH_STOPPED:
		if (sigabbrev_np(ev->signo))
			strbuf_addf(sb, "stopped by SIG%s",
				    sigabbrev_np(ev->signo));
		else
			strbuf_addf(sb, "stopped by signal %d", ev->signo);
		break;
	}
}

static void json(struct strbuf *sb, const struct so_watch_event *ev,
		 const char *when)
{
	strbuf_addf(sb, "{\"schema\": \"snakescope.maps-watch/1\", "
		    "\"time\": \"%s\", \"pid\": %d, \"event\": \"%s\", "
		    "\"path\": ", when, (int)ev->pid, event_name(ev->kind));
	if (ev->path)
		strbuf_add_json_str(sb, ev->path);
	else
		strbuf_addstr(sb, "null");
	if (ev->kind == SO_WATCH_STARTED)
		strbuf_addf(sb, ", \"files\": %zu", ev->nfiles);
	if (ev->kind == SO_WATCH_STOPPED)
		strbuf_addf(sb, ", \"signal\": %d", ev->signo);
	if (ev->kind == SO_WATCH_OPEN_WRITE || ev->kind == SO_WATCH_MODIFIED) {
		strbuf_addstr(sb, ", \"writers\": [");
		for (size_t i = 0; i < ev->nwriters; i++) {
			strbuf_addf(sb, "%s{\"pid\": %d, \"comm\": ",
				    i ? ", " : "", (int)ev->writers[i].pid);
			strbuf_add_json_str(sb, ev->writers[i].comm);
			strbuf_addch(sb, '}');
		}
		strbuf_addch(sb, ']');
	}
	strbuf_addch(sb, '}');
}

void maps_write_watch_event(FILE *out, const struct so_watch_event *ev,
			    bool as_json)
{
	struct strbuf sb = STRBUF_INIT;
	char when[64];

	maps_format_time(&ev->when, as_json, when, sizeof(when));
	if (as_json) {
		json(&sb, ev, when);
	} else {
		strbuf_addf(&sb, "%s ", when);
		text(&sb, ev);
	}
	strbuf_addch(&sb, '\n');
	fwrite(sb.buf, 1, sb.len, out);
	fflush(out);
	strbuf_release(&sb);
}
