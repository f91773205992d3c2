/* Code objects: names, file, first line and line table, decoded once per
 * address and cached for the run. */
#include "py/reader.h"

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
	memcpy(&first, buf + l->code_co_firstlineno, sizeof(first));
	ci->firstlineno = first;
	if (l->code_co_firsttraceable != OFF_NONE) {
		memcpy(&first, buf + l->code_co_firsttraceable, sizeof(first));
		ci->first_traceable = 2L * first;
	}
	rc = py_reader_str(r, field_ptr(buf, l->code_co_name), &ci->name, e);
	if (!rc)
		rc = py_reader_str(r, field_ptr(buf, l->code_co_filename),
				   &ci->filename, e);
	if (!rc && l->code_co_qualname != OFF_NONE)
		rc = py_reader_str(r, field_ptr(buf, l->code_co_qualname),
				   &ci->qualname, e);
	if (!rc)
		rc = read_linetable(r, field_ptr(buf, l->code_co_lnotab), ci, e);
	if (l->code_co_code_adaptive != OFF_NONE)
		ci->code_start = addr + (uint64_t)l->code_co_code_adaptive;
	return rc;
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
	addrmap_put(&r->codes, addr, ci);
	*out = ci;
	return 0;
}

int py_code_line(const struct py_reader *r, const struct code_info *ci,
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
