/* str, bytes, bytearray and 2.7's str and unicode, quoted and escaped as
 * each version's repr() does:
 *   quote: ' unless the text has a ' and no ", then ";
 *   3.x str: \\, the quote, \t \n \r, \xhh below U+0020 and for U+007F;
 *     other non-ASCII code points literally when printable in that
 *     version's Unicode database (unicode_printable.c), else \xhh, \uhhhh
 *     or \Uhhhhhhhh;
 *   2.7 unicode: u'...', everything outside printable ASCII escaped;
 *   bytes (2.7 str): b'...' (no b on 2.7), \xhh outside printable ASCII;
 *   bytearray: bytearray(b'...') (3.8+: the subclass name); before 3.15
 *     it escapes ' even inside "...".
 * Only the first and last max_repr + 8 characters of a long string are
 * read: the repr is cut in the middle anyway (see repr_cut). */
#include "py/repr.h"

#include <stdlib.h>
#include <string.h>

#include "py/unicode_printable.h"
#include "util/utf8.h"
#include "util/xalloc.h"

#define TPFLAGS_BYTES_SUBCLASS (1ul << 27)

static const char hexdigits[] = "0123456789abcdef";

bool unicode_printable_in(uint32_t cp, unsigned minor)
{
	size_t lo = 0, hi = unicode_printable_len;

	if (cp < 0x80)
		return cp >= 0x20 && cp < 0x7f;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct unicode_printable_range *r = &unicode_printable[mid];

		if (cp < r->first)
			hi = mid;
		else if (cp > r->last)
			lo = mid + 1;
		else
			return minor >= r->since_minor;
	}
	return false;
}

/* Where a str's characters are. */
struct strdata {
	uint64_t data;
	uint64_t length;          /* code points (bytes for byte strings) */
	unsigned kind;            /* bytes per code point: 1, 2 or 4 */
};

static int str3_data(struct py_objects *o, uint64_t obj, struct strdata *s)
{
	const struct py_layout *l = o->l;
	uint8_t hdr[128];
	int64_t length;
	uint32_t state;
	unsigned compact, ascii;
	size_t hsize = (size_t)l->unicode_compact_data;
	int rc;

	/* A legacy (non-compact) str keeps its data pointer after the
	 * compact header. */
	if (l->unicode_legacy_data != OFF_NONE &&
	    (size_t)l->unicode_legacy_data + 8 > hsize)
		hsize = (size_t)l->unicode_legacy_data + 8;
	if (l->unicode_compact_data == OFF_NONE || hsize > sizeof(hdr) ||
	    hsize < 16 || l->unicode_state == OFF_NONE)
		return SS_ECORRUPT;
	rc = obj_read(o, obj, hdr, hsize);
	if (rc)
		return rc;
	memcpy(&length, hdr + l->unicode_length, sizeof(length));
	memcpy(&state, hdr + l->unicode_state, sizeof(state));
	/* interned:2 kind:3 compact:1 ascii:1 (free-threaded builds keep
	 * interned in a byte of its own). */
	if (o->l->free_threaded)
		state >>= 6;
	s->kind = (state >> 2) & 7;
	compact = (state >> 5) & 1;
	ascii = (state >> 6) & 1;
	if (length < 0 || (s->kind != 1 && s->kind != 2 && s->kind != 4) ||
	    (ascii && s->kind != 1))
		return SS_ECORRUPT;
	s->length = (uint64_t)length;
	if (compact)
		s->data = obj + (uint64_t)(ascii ? l->unicode_ascii_data :
					   l->unicode_compact_data);
	else if (l->unicode_legacy_data != OFF_NONE)
		memcpy(&s->data, hdr + l->unicode_legacy_data, sizeof(s->data));
	else
		return SS_ECORRUPT;
	return 0;
}

static int unicode2_data(struct py_objects *o, uint64_t obj,
			 struct strdata *s)
{
	const struct py_layout *l = o->l;
	int64_t length;
	int rc;

	if (!l->py2_unicode_size || l->unicode_legacy_data == OFF_NONE)
		return SS_ECORRUPT;
	rc = obj_read_i64(o, obj + (uint64_t)l->unicode_length, &length);
	if (!rc)
		rc = obj_read_ptr(o, obj + (uint64_t)l->unicode_legacy_data,
				  &s->data);
	if (rc)
		return rc;
	if (length < 0)
		return SS_ECORRUPT;
	s->length = (uint64_t)length;
	s->kind = l->py2_unicode_size;
	return 0;
}

/* The head and (when the string is long) the tail of a string as code
 * points; whole tells whether head is everything. */
struct chunks {
	uint32_t *head, *tail;
	size_t nhead, ntail;
	bool whole;
};

static int read_cps(struct py_objects *o, const struct strdata *s,
		    uint64_t from, size_t n, uint32_t *out)
{
	uint8_t *buf;
	int rc;

	if (!n)
		return 0;
	buf = xmalloc(n * s->kind);
	rc = obj_read(o, s->data + from * s->kind, buf, n * s->kind);
	for (size_t i = 0; !rc && i < n; i++) {
		if (s->kind == 1) {
			out[i] = buf[i];
		} else if (s->kind == 2) {
			uint16_t v;

			memcpy(&v, buf + 2 * i, 2);
			out[i] = v;
		} else {
			memcpy(&out[i], buf + 4 * i, 4);
		}
	}
	free(buf);
	return rc;
}

static int read_chunks(struct py_objects *o, const struct strdata *s,
		       struct chunks *c)
{
	size_t lim = (size_t)o->max_repr + 8;
	int rc;

	memset(c, 0, sizeof(*c));
	c->whole = s->length <= 2 * lim;
	c->nhead = c->whole ? (size_t)s->length : lim;
	c->ntail = c->whole ? 0 : lim;
	if (o->prefetch) {
		rc = obj_touch(o, s->data, c->nhead * s->kind);
		if (!rc)
			rc = obj_touch(o, s->data + (s->length - c->ntail) *
				       s->kind, c->ntail * s->kind);
		return rc;
	}
	c->head = xcalloc(c->nhead + 1, sizeof(uint32_t));
	c->tail = xcalloc(c->ntail + 1, sizeof(uint32_t));
	rc = read_cps(o, s, 0, c->nhead, c->head);
	if (!rc)
		rc = read_cps(o, s, s->length - c->ntail, c->ntail, c->tail);
	if (rc) {
		free(c->head);
		free(c->tail);
	}
	return rc;
}

static bool has_cp(const uint32_t *v, size_t n, uint32_t cp)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == cp)
			return true;
	return false;
}

static char choose_quote(const struct chunks *c)
{
	bool sq = has_cp(c->head, c->nhead, '\'') ||
		  has_cp(c->tail, c->ntail, '\'');
	bool dq = has_cp(c->head, c->nhead, '"') ||
		  has_cp(c->tail, c->ntail, '"');

	return sq && !dq ? '"' : '\'';
}

static void add_hex(struct strbuf *sb, char letter, uint32_t v, int digits)
{
	strbuf_addch(sb, '\\');
	strbuf_addch(sb, letter);
	for (int i = digits - 1; i >= 0; i--)
		strbuf_addch(sb, hexdigits[(v >> (4 * i)) & 0xf]);
}

/* \\, the quote, \t \n \r; true when cp was one of them. */
static bool add_common_escape(struct strbuf *sb, uint32_t cp, char quote,
			      bool always_squote)
{
	if (cp == (uint32_t)quote || cp == '\\' ||
	    (always_squote && cp == '\'')) {
		strbuf_addch(sb, '\\');
		strbuf_addch(sb, (char)cp);
	} else if (cp == '\t') {
		strbuf_addstr(sb, "\\t");
	} else if (cp == '\n') {
		strbuf_addstr(sb, "\\n");
	} else if (cp == '\r') {
		strbuf_addstr(sb, "\\r");
	} else {
		return false;
	}
	return true;
}

void repr_escape_str3(struct strbuf *sb, const uint32_t *cp, size_t n,
		      char quote, unsigned minor)
{
	char enc[4];

	for (size_t i = 0; i < n; i++) {
		uint32_t ch = cp[i];

		if (add_common_escape(sb, ch, quote, false))
			continue;
		if (ch < ' ' || ch == 0x7f)
			add_hex(sb, 'x', ch, 2);
		else if (ch < 0x7f)
			strbuf_addch(sb, (char)ch);
		else if (ch <= 0x10ffff && unicode_printable_in(ch, minor))
			strbuf_add(sb, enc, utf8_encode(ch, enc));
		else if (ch <= 0xff)
			add_hex(sb, 'x', ch, 2);
		else if (ch <= 0xffff)
			add_hex(sb, 'u', ch, 4);
		else
			add_hex(sb, 'U', ch, 8);
	}
}

/* 2.7 unicode_repr: narrow (UCS-2) builds join surrogate pairs. */
static void escape_unicode2(struct strbuf *sb, const uint32_t *cp, size_t n,
			    char quote)
{
	for (size_t i = 0; i < n; i++) {
		uint32_t ch = cp[i];

		if (ch == (uint32_t)quote || ch == '\\') {
			strbuf_addch(sb, '\\');
			strbuf_addch(sb, (char)ch);
		} else if (ch >= 0x10000) {
			add_hex(sb, 'U', ch, 8);
		} else if (ch >= 0xd800 && ch < 0xdc00 && i + 1 < n &&
			   cp[i + 1] >= 0xdc00 && cp[i + 1] <= 0xdfff) {
			uint32_t full = (((ch & 0x3ff) << 10) |
					 (cp[i + 1] & 0x3ff)) + 0x10000;

			add_hex(sb, 'U', full, 8);
			i++;
		} else if (ch >= 256) {
			add_hex(sb, 'u', ch, 4);
		} else if (!add_common_escape(sb, ch, quote, false)) {
			if (ch < ' ' || ch >= 0x7f)
				add_hex(sb, 'x', ch, 2);
			else
				strbuf_addch(sb, (char)ch);
		}
	}
}

static void escape_bytes(struct strbuf *sb, const uint32_t *cp, size_t n,
			 char quote, bool always_squote)
{
	for (size_t i = 0; i < n; i++) {
		uint32_t c = cp[i];

		if (add_common_escape(sb, c, quote, always_squote))
			continue;
		if (c < ' ' || c >= 0x7f)
			add_hex(sb, 'x', c, 2);
		else
			strbuf_addch(sb, (char)c);
	}
}

enum flavour { F_STR3, F_UNICODE2, F_BYTES, F_BYTEARRAY };

static int add_quoted(struct py_objects *o, const struct strdata *s,
		      enum flavour f, struct strbuf *sb)
{
	struct chunks c;
	char quote;
	int rc = read_chunks(o, s, &c);

	if (rc || o->prefetch)
		return rc;
	quote = choose_quote(&c);
	strbuf_addch(sb, quote);
	for (int part = 0; part < 2; part++) {
		const uint32_t *v = part ? c.tail : c.head;
		size_t n = part ? c.ntail : c.nhead;

		if (f == F_STR3)
			repr_escape_str3(sb, v, n, quote, py_minor(o));
		else if (f == F_UNICODE2)
			escape_unicode2(sb, v, n, quote);
		else
			escape_bytes(sb, v, n, quote, f == F_BYTEARRAY &&
				     (is_py2(o) || py_minor(o) < 15));
	}
	strbuf_addch(sb, quote);
	free(c.head);
	free(c.tail);
	return 0;
}

int repr_str(struct py_objects *o, uint64_t obj, const struct py_type *t,
	     struct strbuf *sb)
{
	struct strdata s;
	int rc;

	if (t->kind == PY_K_UNICODE2) {
		rc = unicode2_data(o, obj, &s);
		if (rc)
			return rc;
		strbuf_addch(sb, 'u');
		return add_quoted(o, &s, F_UNICODE2, sb);
	}
	rc = str3_data(o, obj, &s);
	if (rc)
		return rc;
	return add_quoted(o, &s, F_STR3, sb);
}

int repr_bytes(struct py_objects *o, uint64_t obj, const struct py_type *t,
	       struct strbuf *sb)
{
	struct strdata s = { .kind = 1 };
	int64_t size;
	int rc;

	(void)t;
	if (o->l->bytes_ob_sval == OFF_NONE)
		return SS_ECORRUPT;
	rc = obj_read_size(o, obj, &size);
	if (rc)
		return rc;
	if (size < 0)
		return SS_ECORRUPT;
	s.length = (uint64_t)size;
	s.data = obj + (uint64_t)o->l->bytes_ob_sval;
	if (!is_py2(o))
		strbuf_addch(sb, 'b');
	return add_quoted(o, &s, F_BYTES, sb);
}

int repr_bytearray(struct py_objects *o, uint64_t obj,
		   const struct py_type *t, struct strbuf *sb)
{
	struct strdata s = { .kind = 1 };
	int64_t size;
	int rc;

	if (o->l->bytearray_ob_start == OFF_NONE)
		return SS_ECORRUPT;
	rc = obj_read_size(o, obj, &size);
	if (!rc)
		rc = obj_read_ptr(o, obj + (uint64_t)o->l->bytearray_ob_start,
				  &s.data);
	if (rc)
		return rc;
	if (size < 0 || (size && !s.data))
		return SS_ECORRUPT;
	s.length = (uint64_t)size;
	/* 3.8+ names the subclass (_PyType_Name: tp_name after its last
	 * dot); earlier versions always say bytearray. */
	if (!t->exact && !is_py2(o) && py_minor(o) >= 8) {
		const char *dot = strrchr(t->name, '.');

		strbuf_addstr(sb, dot ? dot + 1 : t->name);
		strbuf_addstr(sb, "(b");
	} else {
		strbuf_addstr(sb, "bytearray(b");
	}
	rc = add_quoted(o, &s, F_BYTEARRAY, sb);
	if (!rc)
		strbuf_addch(sb, ')');
	return rc;
}

int py_str_equals(struct py_objects *o, uint64_t obj, const char *s,
		  struct err *e)
{
	const char *got;
	int rc = py_reader_str(o->r, obj, &got, e);

	if (rc)
		return rc;
	return strcmp(got, s) == 0;
}
