/* Choosing a row of the generated layout table, and the version facts that
 * follow from a layout without needing a table column of their own. */
#include "py/layout.h"

#include <stddef.h>

#define PY_MINOR_KEY(v) ((v) >> 16)     /* major and minor together */

/* How many micro releases v lies outside [min, max]; 0 inside. */
static uint32_t micro_distance(uint32_t v, const struct py_layout_entry *e)
{
	uint32_t m = PY_MICRO(v);

	if (m < PY_MICRO(e->version_min))
		return PY_MICRO(e->version_min) - m;
	if (m > PY_MICRO(e->version_max))
		return m - PY_MICRO(e->version_max);
	return 0;
}

const struct py_layout *py_layout_lookup(uint32_t version, bool debug)
{
	const struct py_layout_entry *best = NULL;
	uint32_t best_dist = UINT32_MAX;

	for (unsigned i = 0; i < py_layout_table_len; i++) {
		const struct py_layout_entry *e = &py_layout_table[i];
		uint32_t d;

		/* A free-threaded build is a different ABI; nothing here can
		 * ask for one (3.13+ read _Py_DebugOffsets instead), so such
		 * rows must never stand in for a default build. */
		if (e->layout.free_threaded || e->layout.debug != debug ||
		    PY_MINOR_KEY(e->version_min) != PY_MINOR_KEY(version))
			continue;
		d = micro_distance(version, e);
		/* "<=" so that, between two equally near rows, the newer one
		 * wins (the table is sorted by micro within a minor): layout
		 * changes in a micro release tend to persist. */
		if (d <= best_dist) {
			best = e;
			best_dist = d;
		}
		if (d == 0)
			break;
	}
	return best ? &best->layout : NULL;
}

enum py_frame_model py_layout_frame_model(const struct py_layout *l)
{
	return PY_VERSION_AT_LEAST(l, 3, 11) ? PY_FRAMES_INTERP :
					       PY_FRAMES_OBJECT;
}

enum py_linetable_kind py_layout_linetable_kind(const struct py_layout *l)
{
	if (PY_VERSION_AT_LEAST(l, 3, 11))
		return PY_LT_LOCATIONS;
	if (PY_VERSION_AT_LEAST(l, 3, 10))
		return PY_LT_LINETABLE;
	return PY_LT_LNOTAB;
}
