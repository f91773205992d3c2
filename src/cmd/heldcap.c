#include "cmd/heldcap.h"

#include <string.h>

#include "py/locals.h"

int heldcap_capture(struct heldcap *hc, const struct hold *h,
		    const struct heldcap_opts *o, struct dump *d,
		    struct err *e)
{
	struct walk_opts w = { WALK_DEFAULT_MAX_FRAMES,
			       WALK_DEFAULT_MAX_THREADS,
			       WALK_DEFAULT_MAX_INTERPS };
	struct stopset s;
	int rc;

	memset(hc, 0, sizeof(*hc));
	rc = live_open(&hc->lv, h->pid, e);
	if (rc)
		return rc;
	hc->open = true;
	py_reader_init(&hc->r, &hc->lv.py);
	py_objects_init(&hc->objs, &hc->r, o->max_repr, o->max_items);
	if (o->locals)
		w.locals = &hc->objs;
	hold_as_stopset(h, &s);
	rc = live_capture_held(&hc->lv, &s, &w, &hc->r, d, e);
	stopset_release(&s);
	if (!rc && o->locals)
		py_locals_format(&hc->objs, d);
	return rc;
}

void heldcap_release(struct heldcap *hc)
{
	if (!hc->open)
		return;
	py_objects_release(&hc->objs);
	py_reader_release(&hc->r);
	live_close(&hc->lv);
	hc->open = false;
}
