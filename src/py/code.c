/* Code objects: names, file, first line and line table, decoded once per
 * address and cached for the run. */
#include "py/reader.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "py/linetable.h"
#include "util/xalloc.h"

/* co_lnotab/co_linetable larger than this is treated as corrupt. */
#define LINETABLE_MAX (1u << 20)

static int32_t max_code_offset(const struct py_layout *l)
{
	const int32_t offs[] = {
		l->code_co_firstlineno, l->code_co_filename, l->code_co_name,
		l->code_co_qualname, l->code_co_lnotab, l->code_co_code_adaptive,
		l->object_ob_type, l->code_co_firsttraceable,
	};
	int32_t m = 0;

	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++)
		if (offs[i] > m)
			m = offs[i];
	return m;
}

static uint64_t field_ptr(const uint8_t *buf, int32_t off)
{
	uint64_t v;

	memcpy(&v, buf + off, sizeof(v));
	return v;
}

/* The fields that tell one code object from another at the same address,
 * from a buffer of max_code_offset() + 8 bytes of it. */
static void code_ident(const struct py_layout *l, const uint8_t *buf,
		       uint64_t ident[CODE_IDENT])
{
	int32_t first;

	memcpy(&first, buf + l->code_co_firstlineno, sizeof(first));
	ident[0] = field_ptr(buf, l->object_ob_type);
	ident[1] = field_ptr(buf, l->code_co_name);
	ident[2] = field_ptr(buf, l->code_co_filename);
	ident[3] = l->code_co_qualname != OFF_NONE ?
		   field_ptr(buf, l->code_co_qualname) : 0;
	ident[4] = field_ptr(buf, l->code_co_lnotab);
	ident[5] = (uint32_t)first;
}

static int read_linetable(struct py_reader *r, uint64_t bytes_obj,
			  struct code_info *ci, struct err *e)
{
	const struct py_layout *l = &r->p->layout;
	int64_t size;
	int rc;

	rc = memsrc_read(r->p->mem, bytes_obj + (uint64_t)l->object_ob_size,
			 &size, sizeof(size));
	if (rc)
		return err_set(e, rc, "cannot read line table object 0x%llx",
			       (unsigned long long)bytes_obj);
	if (size < 0 || size > LINETABLE_MAX)
		return err_set(e, SS_ECORRUPT,
			       "line table object 0x%llx has size %lld",
			       (unsigned long long)bytes_obj, (long long)size);
	ci->linetable = xmalloc((size_t)size + 1);
	ci->linetable_len = (size_t)size;
	rc = memsrc_read(r->p->mem, bytes_obj + (uint64_t)l->bytes_ob_sval,
			 ci->linetable, (size_t)size);
	if (rc)
		return err_set(e, rc, "cannot read line table at 0x%llx",
			       (unsigned long long)bytes_obj);
	return 0;
}

static int decode_code(struct py_reader *r, uint64_t addr,
		       struct code_info *ci, struct err *e)
{
	const struct py_layout *l = &r->p->layout;
	uint8_t buf[1024];
	size_t size = (size_t)max_code_offset(l) + 8;
	int32_t first;
	int rc;

	if (size > sizeof(buf))
		return err_set(e, SS_ECORRUPT, "code object layout too large");
	rc = memsrc_read(r->p->mem, addr, buf, size);
	if (rc)
		return err_set(e, rc, "cannot read code object 0x%llx",
			       (unsigned long long)addr);
	if (r->p->code_type &&
	    field_ptr(buf, l->object_ob_type) != r->p->code_type)
		return err_set(e, SS_ECORRUPT, "0x%llx is not a code object",
			       (unsigned long long)addr);
	code_ident(l, buf, ci->ident);
	memcpy(&first, buf + l->code_co_firstlineno, sizeof(first));
	ci->firstlineno = first;
	if (l->code_co_firsttraceable != OFF_NONE) {
		memcpy(&first, buf + l->code_co_firsttraceable, sizeof(first));
		ci->first_traceable = 2L * first;
	}
	/* A code object not seen before may name strs allocated where
	 * freed ones were: its names are read, not taken from the cache. */
	rc = py_reader_str_fresh(r, field_ptr(buf, l->code_co_name), &ci->name,
				 e);
	if (!rc)
		rc = py_reader_str_fresh(r, field_ptr(buf, l->code_co_filename),
					 &ci->filename, e);
	if (!rc && l->code_co_qualname != OFF_NONE)
		rc = py_reader_str_fresh(r, field_ptr(buf, l->code_co_qualname),
					 &ci->qualname, e);
	if (!rc)
		rc = read_linetable(r, field_ptr(buf, l->code_co_lnotab), ci, e);
	if (l->code_co_code_adaptive != OFF_NONE)
		ci->code_start = addr + (uint64_t)l->code_co_code_adaptive;
	return rc;
}

static void free_code(struct code_info *ci)
{
	free(ci->linetable);
	free(ci->line_memo);
	free(ci);
}

/* Drop the cached string at addr (read again when next asked for). */
static void retire_string(struct py_reader *r, struct addrmap *keep,
			  uint64_t addr)
{
	char *s = addrmap_get(keep, addr);

	if (!s)
		return;
	XGROW(r->retired, r->retired_cap, r->nretired + 1);
	r->retired[r->nretired++] = s;
	addrmap_put(keep, addr, NULL);
}

/* The maps without the entries whose value is NULL (addrmap has no
 * removal). */
static void compact(struct addrmap *m)
{
	struct addrmap out = { 0 };

	for (size_t i = 0; i < m->cap; i++)
		if (m->keys[i] && m->vals[i])
			addrmap_put(&out, m->keys[i], m->vals[i]);
	addrmap_release(m);
	*m = out;
}

size_t py_reader_revalidate_codes(struct py_reader *r, struct memsrc *src)
{
	const struct py_layout *l = &r->p->layout;
	size_t size = (size_t)max_code_offset(l) + 8, n = 0, k = 0, gone = 0;
	struct memseg *segs;
	uint8_t *bufs;

	if (!r->codes.n || !src->ops->readv)
		return 0;
	segs = xcalloc(r->codes.n, sizeof(*segs));
	bufs = xmalloc(r->codes.n * size);
	for (size_t i = 0; i < r->codes.cap; i++) {
		if (!r->codes.keys[i])
			continue;
		segs[n].addr = r->codes.keys[i];
		segs[n].dst = bufs + n * size;
		segs[n++].len = size;
	}
	if (src->ops->readv(src, segs, n))
		goto out;         /* the process is gone: nothing to tell */
	for (size_t i = 0; i < r->codes.cap; i++) {
		struct code_info *ci = r->codes.vals[i];
		uint64_t ident[CODE_IDENT];

		if (!r->codes.keys[i])
			continue;
		if (segs[k].ok)
			code_ident(l, segs[k].dst, ident);
		k++;
		if (segs[k - 1].ok && !memcmp(ident, ci->ident, sizeof(ident)))
			continue;
		for (int f = 1; f <= 3; f++)
			retire_string(r, &r->strings, ci->ident[f]);
		free_code(ci);
		r->codes.vals[i] = NULL;
		gone++;
	}
	if (gone) {
		compact(&r->codes);
		compact(&r->strings);
	}
out:
	free(segs);
	free(bufs);
	return gone;
}

int py_reader_code(struct py_reader *r, uint64_t addr,
		   const struct code_info **out, struct err *e)
{
	struct code_info *ci = addrmap_get(&r->codes, addr);
	int rc;

	if (ci) {
		*out = ci;
		return 0;
	}
	ci = xcalloc(1, sizeof(*ci));
	rc = decode_code(r, addr, ci, e);
	if (rc) {
		free(ci->linetable);
		free(ci);
		return rc;
	}
	ci->line_memo = xmalloc(CODE_LINE_MEMO * sizeof(*ci->line_memo));
	for (size_t i = 0; i < CODE_LINE_MEMO; i++)
		ci->line_memo[i][0] = INT_MIN;
	addrmap_put(&r->codes, addr, ci);
	*out = ci;
	return 0;
}

static int decode_line(const struct py_reader *r, const struct code_info *ci,
		       int offset)
{
	/* 2.7's lnotab line deltas are unsigned, 3.6-3.9's signed. */
	if (PY_MAJOR(r->p->layout.version) == 2)
		return linetable_addr2line_py27(ci->linetable, ci->linetable_len,
						ci->firstlineno, offset);
	return linetable_addr2line(py_layout_linetable_kind(&r->p->layout),
				   ci->linetable, ci->linetable_len,
				   ci->firstlineno, offset);
}

int py_code_line(const struct py_reader *r, const struct code_info *ci,
		 int offset)
{
	int *memo;

	/* A sampler asks for the same few offsets of a hot function over
	 * and over. */
	if (!ci->line_memo)
		return decode_line(r, ci, offset);
	memo = ci->line_memo[((unsigned)offset >> 1) % CODE_LINE_MEMO];
	if (memo[0] != offset) {
		memo[1] = decode_line(r, ci, offset);
		memo[0] = offset;
	}
	return memo[1];
}
