/* pprof: the profile.proto message built with protobuf-c (generated
 * profile.pb-c.[ch]), gzipped with zlib.  One Function per (name, file),
 * one Location per frame (its line), one Sample per distinct stack with
 * values [samples, cpu nanoseconds]. */
#include "out/profile_out.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "out/profile.pb-c.h"
#include "util/addrmap.h"
#include "util/xalloc.h"


struct strtab {
	char **v;
	size_t n, cap;
	struct addrmap index;     /* profile string address -> index + 1 */
	char **owned;             /* strings made here */
	size_t nowned, owned_cap;
};

static int64_t str_add(struct strtab *t, const char *s)
{
	XGROW(t->v, t->cap, t->n + 1);
	t->v[t->n] = (char *)s;
	return (int64_t)t->n++;
}

/* Index of a string owned by the profile (interned, so one per text). */
static int64_t str_of(struct strtab *t, const char *s)
{
	uintptr_t v = (uintptr_t)addrmap_get(&t->index, (uintptr_t)s);

	if (v)
		return (int64_t)v - 1;
	v = (uintptr_t)str_add(t, s) + 1;
	addrmap_put(&t->index, (uintptr_t)s, (void *)v);
	return (int64_t)v - 1;
}

/* pprof shortens names by dropping <...> (C++ template arguments), which
 * would turn Python's <module>, <lambda>, <listcomp> into nothing: their
 * angle brackets are written as the look-alike U+2039 and U+203A. */
static const char *pprof_name(struct strtab *t, const char *s)
{
	size_t n = 0;
	char *out, *o;

	for (const char *c = s; *c; c++)
		n += (*c == '<' || *c == '>') ? 3 : 1;
	if (n == strlen(s))
		return s;
	out = o = xmalloc(n + 1);
	for (const char *c = s; *c; c++) {
		if (*c == '<' || *c == '>') {
			memcpy(o, *c == '<' ? "\xe2\x80\xb9" : "\xe2\x80\xba", 3);
			o += 3;
		} else {
			*o++ = *c;
		}
	}
	*o = '\0';
	XGROW(t->owned, t->owned_cap, t->nowned + 1);
	t->owned[t->nowned++] = out;
	return out;
}

static int cmp_fn(const void *a, const void *b, void *ctx)
{
	const struct pframe *fr = ctx;
	const struct pframe *x = &fr[*(const uint32_t *)a];
	const struct pframe *y = &fr[*(const uint32_t *)b];

	if (x->function != y->function)
		return (uintptr_t)x->function < (uintptr_t)y->function ? -1 : 1;
	if (x->file != y->file)
		return (uintptr_t)x->file < (uintptr_t)y->file ? -1 : 1;
	return 0;
}

static int write_gz(FILE *f, const uint8_t *buf, size_t len, struct err *e)
{
	int fd;
	gzFile gz;
	int ok;

	if (fflush(f))
		return out_check(f, e);
	fd = dup(fileno(f));
	if (fd < 0)
		return err_set(e, SS_EIO, "cannot write the profile: %s",
			       strerror(errno));
	gz = gzdopen(fd, "wb");
	if (!gz) {
		close(fd);
		return err_set(e, SS_EIO, "cannot start gzip output");
	}
	ok = len == 0 || gzwrite(gz, buf, (unsigned)len) == (int)len;
	if (gzclose(gz) != Z_OK)
		ok = 0;
	if (!ok)
		return err_set(e, SS_EIO, "cannot write the gzipped profile");
	return 0;
}

int out_pprof(FILE *f, const struct profile *p, const struct profile_meta *m,
	      struct err *e)
{
	Perftools__Profiles__Profile pb = PERFTOOLS__PROFILES__PROFILE__INIT;
	Perftools__Profiles__ValueType vt[3], *vtp[2];
	Perftools__Profiles__Mapping map = PERFTOOLS__PROFILES__MAPPING__INIT;
	Perftools__Profiles__Mapping *mapp = &map;
	Perftools__Profiles__Function *fns, **fnp;
	Perftools__Profiles__Location *locs, **locp;
	Perftools__Profiles__Line *lines, **linep;
	Perftools__Profiles__Sample *samples, **samplep;
	struct strtab st = { 0 };
	uint32_t *order, *fn_of;
	uint64_t *path;
	uint64_t *loc_ids;
	int64_t *values;
	size_t nfn = 0, nsamples = 0, nloc_ids = 0, i, k;
	uint8_t *buf;
	size_t len;
	int64_t period = m->rate_hz ? 1000000000LL / m->rate_hz : 0;
	int rc;

	str_add(&st, "");
	for (i = 0; i < 3; i++)
		perftools__profiles__value_type__init(&vt[i]);
	vt[0].type = str_add(&st, "samples");
	vt[0].unit = str_add(&st, "count");
	vt[1].type = str_add(&st, "cpu");
	vt[1].unit = str_add(&st, "nanoseconds");
	vt[2] = vt[1];
	vtp[0] = &vt[0];
	vtp[1] = &vt[1];
	pb.n_sample_type = 2;
	pb.sample_type = vtp;
	pb.period_type = &vt[2];
	pb.period = period;
	pb.time_nanos = m->start_unix_ns;
	pb.duration_nanos = m->duration_ns;
	map.id = 1;
	map.filename = str_add(&st, "python");
	map.has_functions = map.has_filenames = map.has_line_numbers = 1;
	pb.n_mapping = 1;
	pb.mapping = &mapp;

	/* Functions: frames grouped by (name, file). */
	order = xmalloc((p->nframes + 1) * sizeof(*order));
	fn_of = xmalloc((p->nframes + 1) * sizeof(*fn_of));
	for (i = 0; i < p->nframes; i++)
		order[i] = (uint32_t)i;
	if (p->nframes > 1)
		qsort_r(order, p->nframes, sizeof(*order), cmp_fn, p->frames);
	fns = xcalloc(p->nframes + 1, sizeof(*fns));
	fnp = xcalloc(p->nframes + 1, sizeof(*fnp));
	for (i = 0; i < p->nframes; i++) {
		const struct pframe *fr = &p->frames[order[i]];

		if (!i || cmp_fn(&order[i - 1], &order[i], p->frames)) {
			perftools__profiles__function__init(&fns[nfn]);
			fns[nfn].id = nfn + 1;
			fns[nfn].name = fns[nfn].system_name =
				str_of(&st, pprof_name(&st, fr->function));
			fns[nfn].filename = fr->file ? str_of(&st, fr->file) : 0;
			fnp[nfn] = &fns[nfn];
			nfn++;
		}
		fn_of[order[i]] = (uint32_t)nfn;
	}
	pb.n_function = nfn;
	pb.function = fnp;

	/* Locations: one per frame, id = frame index + 1. */
	locs = xcalloc(p->nframes + 1, sizeof(*locs));
	locp = xcalloc(p->nframes + 1, sizeof(*locp));
	lines = xcalloc(p->nframes + 1, sizeof(*lines));
	linep = xcalloc(p->nframes + 1, sizeof(*linep));
	for (i = 0; i < p->nframes; i++) {
		perftools__profiles__location__init(&locs[i]);
		perftools__profiles__line__init(&lines[i]);
		lines[i].function_id = fn_of[i];
		lines[i].line = p->frames[i].line > 0 ? p->frames[i].line : 0;
		linep[i] = &lines[i];
		locs[i].id = i + 1;
		locs[i].mapping_id = 1;
		locs[i].address = i + 1;
		locs[i].n_line = 1;
		locs[i].line = &linep[i];
		locp[i] = &locs[i];
	}
	pb.n_location = p->nframes;
	pb.location = locp;

	/* Samples: location ids leaf first. */
	for (i = 1; i < p->nnodes; i++)
		if (p->nodes[i].self) {
			nsamples++;
			for (uint32_t n = (uint32_t)i; n; n = p->nodes[n].parent)
				nloc_ids++;
		}
	samples = xcalloc(nsamples + 1, sizeof(*samples));
	samplep = xcalloc(nsamples + 1, sizeof(*samplep));
	loc_ids = xcalloc(nloc_ids + 1, sizeof(*loc_ids));
	values = xcalloc(2 * nsamples + 1, sizeof(*values));
	path = loc_ids;
	for (i = 1, k = 0; i < p->nnodes; i++) {
		Perftools__Profiles__Sample *s;
		size_t depth = 0;

		if (!p->nodes[i].self)
			continue;
		s = &samples[k];
		perftools__profiles__sample__init(s);
		s->location_id = path;
		for (uint32_t n = (uint32_t)i; n; n = p->nodes[n].parent)
			path[depth++] = p->nodes[n].frame + 1;
		s->n_location_id = depth;
		path += depth;
		values[2 * k] = (int64_t)p->nodes[i].self;
		values[2 * k + 1] = (int64_t)p->nodes[i].self * period;
		s->value = &values[2 * k];
		s->n_value = 2;
		samplep[k] = s;
		k++;
	}
	pb.n_sample = nsamples;
	pb.sample = samplep;
	pb.n_string_table = st.n;
	pb.string_table = st.v;

	len = perftools__profiles__profile__get_packed_size(&pb);
	buf = xmalloc(len + 1);
	perftools__profiles__profile__pack(&pb, buf);
	rc = write_gz(f, buf, len, e);

	free(buf);
	free(samples);
	free(samplep);
	free(loc_ids);
	free(values);
	free(locs);
	free(locp);
	free(lines);
	free(linep);
	free(fns);
	free(fnp);
	free(order);
	free(fn_of);
	for (i = 0; i < st.nowned; i++)
		free(st.owned[i]);
	free(st.owned);
	free(st.v);
	addrmap_release(&st.index);
	return rc;
}
