#include "so/object.h"

#include <stdlib.h>
#include <string.h>

#include "target/rootview.h"
#include "util/xalloc.h"

/* How many of the latest objects a mapping may continue. */
#define LOOKBACK 16

bool so_mappable_name(const char *path)
{
	static const char *const skip[] = { "/memfd:", "/SYSV", "/dev/",
					    "/[" };

	if (!path || path[0] != '/')
		return false;
	for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
		if (strncmp(path, skip[i], strlen(skip[i])) == 0)
			return false;
	return true;
}

static bool same_file(const struct so_object *o, const struct mapping *m)
{
	return o->inode == m->inode && o->dev_major == m->dev_major &&
	       o->dev_minor == m->dev_minor && o->deleted == m->deleted &&
	       strcmp(o->path, m->path) == 0;
}

/* Whether m continues o's run: later in memory and not earlier in the
 * file.  (Two mappings may share an offset: the read-only and the RELRO
 * view of one file page.) */
static bool continues(const struct so_object *o, const struct mapping *m)
{
	const struct so_map *last = &o->maps[o->nmaps - 1];

	return m->start >= last->end && m->offset >= last->offset;
}

static void add_map(struct so_object *o, const struct mapping *m,
		    size_t *cap)
{
	struct so_map *sm;

	XGROW(o->maps, *cap, o->nmaps + 1);
	sm = &o->maps[o->nmaps++];
	sm->start = m->start;
	sm->end = m->end;
	sm->offset = m->offset;
	memcpy(sm->perms, m->perms, sizeof(sm->perms));
}

void so_objects_build(const struct maps *m, const char *root,
		      struct so_objects *out)
{
	size_t cap = 0, *mcap = NULL, i;

	out->v = NULL;
	out->n = 0;
	for (i = 0; i < m->n; i++) {
		const struct mapping *mp = &m->v[i];
		struct so_object *o = NULL;
		size_t j = out->n;

		if (!mp->inode || !so_mappable_name(mp->path))
			continue;
		/* The latest object of this file decides.  The loader maps
		 * an object in one reserved span, so its mappings follow
		 * each other; looking back a few objects is plenty, and
		 * keeps this linear in the number of mappings. */
		while (j-- > 0 && out->n - j <= LOOKBACK) {
			if (!same_file(&out->v[j], mp))
				continue;
			if (continues(&out->v[j], mp))
				o = &out->v[j];
			break;
		}
		if (!o) {
			size_t old = cap;

			XGROW(out->v, cap, out->n + 1);
			if (cap != old) {
				mcap = xrealloc(mcap, cap * sizeof(*mcap));
			}
			o = &out->v[out->n];
			memset(o, 0, sizeof(*o));
			mcap[out->n] = 0;
			out->n++;
			o->path = xstrdup(mp->path);
			o->view = path_strip_root(root, o->path);
			o->inode = mp->inode;
			o->dev_major = mp->dev_major;
			o->dev_minor = mp->dev_minor;
			o->deleted = mp->deleted;
		}
		add_map(o, mp, &mcap[o - out->v]);
	}
	free(mcap);
}

void so_objects_release(struct so_objects *o)
{
	for (size_t i = 0; i < o->n; i++) {
		free(o->v[i].path);
		free(o->v[i].maps);
	}
	free(o->v);
	o->v = NULL;
	o->n = 0;
}
