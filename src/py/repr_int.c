/* int and bool: 2.7 PyIntObject (a C long) and long (digits, printed with
 * an L), 3.x PyLongObject with ob_size = sign * number of digits, and
 * 3.12+'s lv_tag = digits << 3 | sign (0 positive, 1 zero, 2 negative).
 * Digits are PyLong_SHIFT (30 here, 15 on some builds) bits each, least
 * significant first. */
#include "py/repr.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

/* Longer ints print as <int of N bits>: converting is quadratic, and
 * CPython 3.11+ itself refuses repr() beyond 4300 decimal digits. */
#define MAX_DIGITS 2048

#define LV_SIGN_MASK 3
#define LV_NON_SIZE_BITS 3

struct bigint {
	bool negative;
	size_t n;                 /* digits */
	uint32_t *d;              /* least significant first */
	unsigned shift;
};

/* Sign and digit count, and where the digits are. */
static int read_header(struct py_objects *o, uint64_t obj, size_t *n,
		       bool *negative)
{
	const struct py_layout *l = o->l;
	int64_t v;
	int rc;

	if (l->long_lv_tag != OFF_NONE) {
		uint64_t tag;

		rc = obj_read_ptr(o, obj + (uint64_t)l->long_lv_tag, &tag);
		if (rc)
			return rc;
		if ((tag & LV_SIGN_MASK) == LV_SIGN_MASK)
			return SS_ECORRUPT;
		*negative = (tag & LV_SIGN_MASK) == 2;
		*n = (size_t)(tag >> LV_NON_SIZE_BITS);
		if (((tag & LV_SIGN_MASK) == 1) != (*n == 0))
			return SS_ECORRUPT;
		return 0;
	}
	rc = obj_read_size(o, obj, &v);
	if (rc)
		return rc;
	if (v == INT64_MIN)
		return SS_ECORRUPT;
	*negative = v < 0;
	*n = (size_t)(v < 0 ? -v : v);
	return 0;
}

/* Read the digits of obj; SS_ERANGE-like SS_ECORRUPT beyond max digits is
 * reported through *n with d NULL. */
static int read_bigint(struct py_objects *o, uint64_t obj, size_t max,
		       struct bigint *b)
{
	const struct py_layout *l = o->l;
	int rc;

	memset(b, 0, sizeof(*b));
	if (l->long_ob_digit == OFF_NONE || l->long_shift <= 0 ||
	    l->long_shift > 31)
		return SS_ECORRUPT;
	b->shift = (unsigned)l->long_shift;
	rc = read_header(o, obj, &b->n, &b->negative);
	if (rc || b->n > max)
		return rc;
	b->d = xcalloc(b->n ? b->n : 1, sizeof(*b->d));
	if (b->n) {
		uint64_t addr = obj + (uint64_t)l->long_ob_digit;

		/* digit is uint32_t for 30-bit digits, unsigned short for
		 * 15-bit ones. */
		if (b->shift > 16) {
			rc = obj_read(o, addr, b->d, b->n * 4);
		} else {
			uint16_t *tmp = xcalloc(b->n, 2);

			rc = obj_read(o, addr, tmp, b->n * 2);
			for (size_t i = 0; !rc && i < b->n; i++)
				b->d[i] = tmp[i];
			free(tmp);
		}
	}
	for (size_t i = 0; !rc && i < b->n; i++)
		if (b->d[i] >> b->shift)
			rc = SS_ECORRUPT;
	if (rc) {
		free(b->d);
		b->d = NULL;
	}
	return rc;
}

/* Decimal digits of the magnitude: base 10^9 limbs built by Horner's rule
 * from the most significant digit. */
static void add_decimal(struct strbuf *sb, const struct bigint *b)
{
	const uint32_t base = 1000000000u;
	/* Each 30-bit digit adds at most 10 decimal digits, so
	 * n * 30 / 29.9 + 1 limbs of 9 digits suffice; be generous. */
	size_t cap = b->n * 2 + 2, used = 0;
	uint32_t *limbs = xcalloc(cap, sizeof(*limbs));

	for (size_t i = b->n; i-- > 0;) {
		uint64_t carry = b->d[i];

		for (size_t k = 0; k < used; k++) {
			uint64_t v = ((uint64_t)limbs[k] << b->shift) + carry;

			limbs[k] = (uint32_t)(v % base);
			carry = v / base;
		}
		while (carry && used < cap) {
			limbs[used++] = (uint32_t)(carry % base);
			carry /= base;
		}
	}
	if (!used) {
		strbuf_addch(sb, '0');
	} else {
		strbuf_addf(sb, "%" PRIu32, limbs[used - 1]);
		for (size_t k = used - 1; k-- > 0;)
			strbuf_addf(sb, "%09" PRIu32, limbs[k]);
	}
	free(limbs);
}

static int repr_long(struct py_objects *o, uint64_t obj, bool py2_long,
		     struct strbuf *sb)
{
	struct bigint b;
	int rc;

	if (o->prefetch) {
		size_t n;
		bool neg;

		rc = read_header(o, obj, &n, &neg);
		if (!rc && o->l->long_ob_digit != OFF_NONE && n <= MAX_DIGITS)
			rc = obj_touch(o, obj + (uint64_t)o->l->long_ob_digit,
				       n * 4);
		return rc;
	}
	rc = read_bigint(o, obj, MAX_DIGITS, &b);

	if (rc)
		return rc;
	if (!b.d) {
		strbuf_addf(sb, "<int of about %zu bits at 0x%" PRIx64 ">",
			    b.n * b.shift, obj);
		return 0;
	}
	if (b.negative)
		strbuf_addch(sb, '-');
	add_decimal(sb, &b);
	if (py2_long)
		strbuf_addch(sb, 'L');
	free(b.d);
	return 0;
}

/* 2.7 int and bool: a C long. */
static int read_py2_int(struct py_objects *o, uint64_t obj, int64_t *v)
{
	if (o->l->int_ob_ival == OFF_NONE)
		return SS_ECORRUPT;
	return obj_read_i64(o, obj + (uint64_t)o->l->int_ob_ival, v);
}

int int_read_u64(struct py_objects *o, uint64_t obj, const struct py_type *t,
		 bool *negative, uint64_t *mag, struct err *e)
{
	struct bigint b;
	int rc;

	if (is_py2(o) && t->kind != PY_K_LONG2) {
		int64_t v;

		rc = read_py2_int(o, obj, &v);
		if (rc)
			return err_set(e, rc, "cannot read int 0x%llx",
				       (unsigned long long)obj);
		*negative = v < 0;
		*mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
		return 0;
	}
	rc = read_bigint(o, obj, 3, &b);
	if (!rc && !b.d)
		rc = SS_ECORRUPT;
	if (rc)
		return err_set(e, rc, "cannot read int 0x%llx",
			       (unsigned long long)obj);
	*negative = b.negative;
	*mag = 0;
	for (size_t i = b.n; i-- > 0;) {
		if (*mag >> (64 - b.shift)) {
			free(b.d);
			return err_set(e, SS_ECORRUPT, "int 0x%llx does not "
				       "fit in 64 bits",
				       (unsigned long long)obj);
		}
		*mag = (*mag << b.shift) | b.d[i];
	}
	free(b.d);
	return 0;
}

int py_int_value(struct py_objects *o, uint64_t obj, int64_t *v,
		 struct err *e)
{
	const struct py_type *t;
	bool neg;
	uint64_t mag;
	int rc = py_type_of(o, obj, &t, e);

	if (rc)
		return rc;
	if (t->kind != PY_K_INT && t->kind != PY_K_LONG2 &&
	    t->kind != PY_K_BOOL)
		return err_set(e, SS_ECORRUPT, "0x%llx is a %s, not an int",
			       (unsigned long long)obj, t->name);
	rc = int_read_u64(o, obj, t, &neg, &mag, e);
	if (rc)
		return rc;
	if (mag > (uint64_t)INT64_MAX + neg)
		return err_set(e, SS_ECORRUPT, "int 0x%llx does not fit",
			       (unsigned long long)obj);
	*v = neg ? (int64_t)(0 - mag) : (int64_t)mag;
	return 0;
}

int repr_int(struct py_objects *o, uint64_t obj, const struct py_type *t,
	     struct strbuf *sb)
{
	if (t->kind == PY_K_BOOL) {
		bool neg;
		uint64_t mag;
		int rc = int_read_u64(o, obj, t, &neg, &mag, &o->scratch);

		if (rc)
			return rc;
		strbuf_addstr(sb, mag ? "True" : "False");
		return 0;
	}
	if (is_py2(o) && t->kind == PY_K_INT) {
		int64_t v;
		int rc = read_py2_int(o, obj, &v);

		if (rc)
			return rc;
		strbuf_addf(sb, "%" PRId64, v);
		return 0;
	}
	return repr_long(o, obj, t->kind == PY_K_LONG2, sb);
}
