/* float: repr() is the shortest decimal string that reads back as the same
 * double (CPython's 'r' format, also 2.7's on IEEE platforms), laid out
 * like float_repr: exponent form when the decimal exponent is below -4 or
 * above 16 ("1e+16", "1e-05", at least two exponent digits), else
 * positional with at least one digit after the point ("1.0", "0.0001").
 *
 * Shortest digits: the smallest p for which the correctly rounded p-digit
 * decimal reads back (strtod) as the same double; where the rounding
 * interval is lopsided (at powers of two) the nearest p-digit decimal may
 * miss while its neighbour one unit away hits, so the neighbours are tried
 * too.  p = 17 always reads back, and whether p fits only grows with p, so
 * p is found by bisection.  The p-digit decimals come from one printf of
 * 17 digits (glibc's is exact), rounded again by hand except at an exact
 * tie, where printf rounds v itself. */
#include "py/repr.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The 17 significant digits of |v| correctly rounded, and the decimal
 * exponent of the first one: |v| ~ 0.d1d2...d17 * 10^decpt. */
static void digits17(double v, char *digits, int *decpt)
{
	char buf[64];
	char *e;
	int k = 0;

	snprintf(buf, sizeof(buf), "%.16e", fabs(v));
	for (char *c = buf; *c && *c != 'e'; c++)
		if (*c >= '0' && *c <= '9')
			digits[k++] = *c;
	digits[k] = '\0';
	e = strchr(buf, 'e');
	*decpt = (e ? atoi(e + 1) : 0) + 1;
}

static bool reads_back(double v, const char *digits, int n, int decpt)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%s0.%.*se%d", v < 0 ? "-" : "", n, digits,
		 decpt);
	return strtod(buf, NULL) == v;
}

/* digits[0..n) plus dir (+1 or -1) units in the last place, into out;
 * false when that changes the number of digits. */
static bool step(const char *digits, int n, int dir, char *out)
{
	memcpy(out, digits, (size_t)n);
	out[n] = '\0';
	for (int i = n - 1; i >= 0; i--) {
		int d = out[i] - '0' + dir;

		if (d >= 0 && d <= 9) {
			out[i] = (char)('0' + d);
			return out[0] != '0';
		}
		out[i] = dir > 0 ? '0' : '9';
	}
	return false;
}

/* The p-digit decimal nearest to v, from its 17 digits: rounding those
 * again is exact unless they end in 5000...: then ask printf, which
 * rounds v itself. */
static void nearest(double v, const char *d17, int decpt17, int p, char *out,
		    int *decpt)
{
	bool tie = d17[p] == '5';
	int i;

	for (i = p + 1; tie && i < 17; i++)
		tie = d17[i] == '0';
	*decpt = decpt17;
	if (tie) {
		char buf[64];
		char *e;
		int k = 0;

		snprintf(buf, sizeof(buf), "%.*e", p - 1, fabs(v));
		for (char *c = buf; *c && *c != 'e' && k < p; c++)
			if (*c >= '0' && *c <= '9')
				out[k++] = *c;
		out[k] = '\0';
		e = strchr(buf, 'e');
		*decpt = (e ? atoi(e + 1) : 0) + 1;
		return;
	}
	memcpy(out, d17, (size_t)p);
	out[p] = '\0';
	if (d17[p] >= '5' && !step(d17, p, 1, out)) {
		/* 99..9 rounds up to 10..0: one more digit of exponent. */
		memset(out, '0', (size_t)p);
		out[0] = '1';
		out[p] = '\0';
		*decpt = decpt17 + 1;
	}
}

/* Whether some p-digit decimal reads back as v: the nearest one, or where
 * the rounding interval is lopsided (v a power of two: the gap below is
 * half the gap above) its neighbour one unit away.  The answer only grows
 * with p, so the shortest p can be searched for. */
static bool fits(double v, bool lopsided, const char *d17, int decpt17, int p,
		 char *out, int *decpt)
{
	char alt[32];

	nearest(v, d17, decpt17, p, out, decpt);
	if (reads_back(v, out, p, *decpt))
		return true;
	if (!lopsided)
		return false;
	for (int dir = -1; dir <= 1; dir += 2) {
		if (step(out, p, dir, alt) && reads_back(v, alt, p, *decpt)) {
			strcpy(out, alt);
			return true;
		}
	}
	return false;
}

/* Drop trailing zeros (kept: at least one digit). */
static void trim(char *digits)
{
	size_t n = strlen(digits);

	while (n > 1 && digits[n - 1] == '0')
		digits[--n] = '\0';
}

static void shortest(double v, char *digits, int *decpt)
{
	char d17[32], cand[32];
	int lo = 1, hi = 17, dp, mexp;
	bool lopsided = frexp(fabs(v), &mexp) == 0.5;

	digits17(v, d17, decpt);
	strcpy(digits, d17);
	/* Smallest p in [lo, hi] that fits; 17 always does. */
	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;

		if (fits(v, lopsided, d17, *decpt, mid, cand, &dp))
			hi = mid;
		else
			lo = mid + 1;
	}
	if (lo < 17 && fits(v, lopsided, d17, *decpt, lo, cand, &dp)) {
		strcpy(digits, cand);
		*decpt = dp;
	}
	trim(digits);
}

void py_float_format(double v, char *buf, size_t len)
{
	char digits[32];
	int decpt, n;
	size_t pos = 0;

	if (isnan(v)) {
		snprintf(buf, len, "nan");
		return;
	}
	if (isinf(v)) {
		snprintf(buf, len, v < 0 ? "-inf" : "inf");
		return;
	}
	if (v == 0) {
		snprintf(buf, len, signbit(v) ? "-0.0" : "0.0");
		return;
	}
	shortest(v, digits, &decpt);
	n = (int)strlen(digits);
	if (len < 32)
		return;
	if (v < 0)
		buf[pos++] = '-';
	if (decpt <= -4 || decpt > 16) {
		/* d[.ddd]e+XX */
		buf[pos++] = digits[0];
		if (n > 1) {
			buf[pos++] = '.';
			memcpy(buf + pos, digits + 1, (size_t)n - 1);
			pos += (size_t)n - 1;
		}
		snprintf(buf + pos, len - pos, "e%c%02d",
			 decpt - 1 < 0 ? '-' : '+', abs(decpt - 1));
		return;
	}
	if (decpt <= 0) {
		/* 0.000ddd */
		buf[pos++] = '0';
		buf[pos++] = '.';
		for (int i = decpt; i < 0; i++)
			buf[pos++] = '0';
		memcpy(buf + pos, digits, (size_t)n);
		pos += (size_t)n;
	} else if (decpt >= n) {
		/* ddd000.0 */
		memcpy(buf + pos, digits, (size_t)n);
		pos += (size_t)n;
		for (int i = n; i < decpt; i++)
			buf[pos++] = '0';
		buf[pos++] = '.';
		buf[pos++] = '0';
	} else {
		/* dd.ddd */
		memcpy(buf + pos, digits, (size_t)decpt);
		pos += (size_t)decpt;
		buf[pos++] = '.';
		memcpy(buf + pos, digits + decpt, (size_t)(n - decpt));
		pos += (size_t)(n - decpt);
	}
	buf[pos] = '\0';
}

int repr_float(struct py_objects *o, uint64_t obj, const struct py_type *t,
	       struct strbuf *sb)
{
	double v;
	char buf[64];
	int rc;

	(void)t;
	if (o->l->float_ob_fval == OFF_NONE)
		return SS_ECORRUPT;
	rc = obj_read(o, obj + (uint64_t)o->l->float_ob_fval, &v, sizeof(v));
	if (rc || o->prefetch)
		return rc;
	py_float_format(v, buf, sizeof(buf));
	strbuf_addstr(sb, buf);
	return 0;
}
