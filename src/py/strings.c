/* Reading str objects: PEP 393 compact/legacy unicode on 3.x, str (bytes)
 * and UCS-2/UCS-4 unicode on 2.7. */
#include "py/reader.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/strbuf.h"
#include "util/utf8.h"
#include "util/xalloc.h"

#define TPFLAGS_BYTES_SUBCLASS (1ul << 27)   /* PyString on 2.7 */
#define TPFLAGS_UNICODE_SUBCLASS (1ul << 28)

int py_reader_type_flags(struct py_reader *r, uint64_t obj,
			 unsigned long *flags, struct err *e)
{
	const struct py_layout *l = &r->p->layout;
	uint64_t type, cached;
	int rc;

	rc = py_read_ptr(r->p, obj + (uint64_t)l->object_ob_type, &type);
	if (rc)
		return err_set(e, rc, "cannot read the type of object 0x%llx",
			       (unsigned long long)obj);
	cached = (uint64_t)(uintptr_t)addrmap_get(&r->types, type);
	if (cached) {
		*flags = (unsigned long)(cached - 1);
		return 0;
	}
	rc = memsrc_read(r->p->mem, type + (uint64_t)l->type_tp_flags, flags,
			 sizeof(*flags));
	if (rc)
		return err_set(e, rc, "cannot read the type object 0x%llx",
			       (unsigned long long)type);
	addrmap_put(&r->types, type, (void *)(uintptr_t)(*flags + 1));
	return 0;
}

static void add_code_points(struct strbuf *sb, const uint8_t *data, size_t n,
			    unsigned kind)
{
	char enc[4];
	size_t i;

	for (i = 0; i < n; i++) {
		uint32_t cp;

		if (kind == 1) {
			cp = data[i];
		} else if (kind == 2) {
			uint16_t v;

			memcpy(&v, data + 2 * i, 2);
			cp = v;
		} else {
			memcpy(&cp, data + 4 * i, 4);
		}
		strbuf_add(sb, enc, utf8_encode(cp, enc));
	}
}

/* raw: copy the bytes as they are (2.7 str holds encoded text, normally
 * UTF-8 file names); otherwise decode kind-byte code points. */
static int read_chars(struct py_reader *r, uint64_t data, int64_t length,
		      unsigned kind, bool raw, struct strbuf *sb,
		      struct err *e)
{
	size_t n = (size_t)length, bytes;
	uint8_t *buf;
	int rc;

	if (n > PY_STR_MAX)
		n = PY_STR_MAX;
	bytes = n * kind;
	buf = xmalloc(bytes + 1);
	rc = memsrc_read(r->p->mem, data, buf, bytes);
	if (rc) {
		free(buf);
		return err_set(e, rc, "cannot read string data at 0x%llx",
			       (unsigned long long)data);
	}
	if (raw)
		strbuf_add(sb, buf, n);
	else
		add_code_points(sb, buf, n, kind);
	free(buf);
	return 0;
}

static int read_unicode3(struct py_reader *r, uint64_t addr, struct strbuf *sb,
			 struct err *e)
{
	const struct py_layout *l = &r->p->layout;
	uint8_t hdr[128];
	int64_t length;
	uint32_t state;
	unsigned kind, compact, ascii;
	uint64_t data;
	size_t hsize = (size_t)l->unicode_compact_data;
	int rc;

	/* A legacy str's data pointer lies after the compact header. */
	if (l->unicode_legacy_data != OFF_NONE &&
	    (size_t)l->unicode_legacy_data + 8 > hsize)
		hsize = (size_t)l->unicode_legacy_data + 8;

	if (hsize > sizeof(hdr) || hsize < 16)
		return err_set(e, SS_ECORRUPT, "implausible str header size %zu",
			       hsize);
	rc = memsrc_read(r->p->mem, addr, hdr, hsize);
	if (rc)
		return err_set(e, rc, "cannot read str object 0x%llx",
			       (unsigned long long)addr);
	memcpy(&length, hdr + l->unicode_length, sizeof(length));
	memcpy(&state, hdr + l->unicode_state, sizeof(state));
	kind = (state >> 2) & 7;
	compact = (state >> 5) & 1;
	ascii = (state >> 6) & 1;
	if (length < 0 || (kind != 1 && kind != 2 && kind != 4) ||
	    (ascii && kind != 1))
		return err_set(e, SS_ECORRUPT,
			       "str object 0x%llx has length %lld, kind %u",
			       (unsigned long long)addr, (long long)length,
			       kind);
	if (compact)
		data = addr + (uint64_t)(ascii ? l->unicode_ascii_data :
					 l->unicode_compact_data);
	else if (l->unicode_legacy_data != OFF_NONE)
		memcpy(&data, hdr + l->unicode_legacy_data, sizeof(data));
	else
		return err_set(e, SS_ECORRUPT,
			       "str object 0x%llx is not compact",
			       (unsigned long long)addr);
	return read_chars(r, data, length, kind, false, sb, e);
}

static int read_py2(struct py_reader *r, uint64_t addr, unsigned long flags,
		    struct strbuf *sb, struct err *e)
{
	const struct py_layout *l = &r->p->layout;
	int64_t length;
	uint64_t data;
	int rc;

	if (flags & TPFLAGS_BYTES_SUBCLASS) {
		rc = memsrc_read(r->p->mem, addr + (uint64_t)l->object_ob_size,
				 &length, sizeof(length));
		if (!rc && length < 0)
			rc = SS_ECORRUPT;
		if (rc)
			return err_set(e, rc, "cannot read str object 0x%llx",
				       (unsigned long long)addr);
		return read_chars(r, addr + (uint64_t)l->bytes_ob_sval, length,
				  1, true, sb, e);
	}
	rc = memsrc_read(r->p->mem, addr + (uint64_t)l->unicode_length,
			 &length, sizeof(length));
	if (!rc)
		rc = py_read_ptr(r->p, addr + (uint64_t)l->unicode_legacy_data,
				 &data);
	if (!rc && (length < 0 || !l->py2_unicode_size))
		rc = SS_ECORRUPT;
	if (rc)
		return err_set(e, rc, "cannot read unicode object 0x%llx",
			       (unsigned long long)addr);
	return read_chars(r, data, length, l->py2_unicode_size, false, sb, e);
}

/* Read the str at addr into a new string. */
static int read_str(struct py_reader *r, uint64_t addr, char **out,
		    struct err *e)
{
	struct strbuf sb = STRBUF_INIT;
	unsigned long flags;
	int rc;

	if (!addr)
		return err_set(e, SS_ECORRUPT, "NULL where a str was expected");
	rc = py_reader_type_flags(r, addr, &flags, e);
	if (rc)
		return rc;
	if (PY_MAJOR(r->p->layout.version) == 2 &&
	    (flags & (TPFLAGS_BYTES_SUBCLASS | TPFLAGS_UNICODE_SUBCLASS)))
		rc = read_py2(r, addr, flags, &sb, e);
	else if (flags & TPFLAGS_UNICODE_SUBCLASS)
		rc = read_unicode3(r, addr, &sb, e);
	else
		rc = err_set(e, SS_ECORRUPT,
			     "object 0x%llx is not a str",
			     (unsigned long long)addr);
	if (rc) {
		strbuf_release(&sb);
		return rc;
	}
	*out = strbuf_detach(&sb);
	return 0;
}

int py_reader_str(struct py_reader *r, uint64_t addr, const char **out,
		  struct err *e)
{
	char *s = addrmap_get(&r->strings, addr);
	int rc;

	if (s) {
		*out = s;
		return 0;
	}
	rc = read_str(r, addr, &s, e);
	if (rc)
		return rc;
	addrmap_put(&r->strings, addr, s);
	*out = s;
	return 0;
}

int py_reader_str_fresh(struct py_reader *r, uint64_t addr, const char **out,
			struct err *e)
{
	char *old = addrmap_get(&r->strings, addr), *s;
	int rc = read_str(r, addr, &s, e);

	if (rc)
		return rc;
	if (old && !strcmp(old, s)) {
		free(s);
		*out = old;
		return 0;
	}
	if (old) {
		/* Another str now lives at addr; the old copy may still be
		 * held by callers. */
		XGROW(r->retired, r->retired_cap, r->nretired + 1);
		r->retired[r->nretired++] = old;
	}
	addrmap_put(&r->strings, addr, s);
	*out = s;
	return 0;
}
