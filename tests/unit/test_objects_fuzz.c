/* The object readers (py/objects.h, py/locals.h) on untrusted memory.
 *
 * An in-memory memory source serves a region of bytes at a fixed target
 * address.  The region is filled at random, but in a way that reaches deep
 * into the readers: words are random, pointers back into the region, small
 * numbers or -1, and a few fake type objects with real builtin names
 * (list, dict, str, int, ...) and plausible flags sit in it, so random
 * "objects" often have a type the dispatcher recognises and then garbage
 * where their contents should be.  Every layout of the generated table is
 * used, half the rounds straight and half through the page cache (so the
 * batched prefetch's peek and fetch run too).  py_repr(),
 * py_instance_attr(), py_dict_get_str(), py_frame_locals(),
 * py_locals_prefetch(), py_locals_format() and py_thread_names() must
 * return (no crash, no sanitizer report, no endless loop: SIGALRM ends a
 * test that hangs) with bounded output, for a bounded time.
 *
 * Also: the float formatter against known CPython reprs, and its
 * round-trip and shortness on random doubles.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "py/locals.h"
#include "py/objects.h"
#include "py/reader.h"
#include "py/repr.h"
#include "target/mem_cache.h"

#define BASE 0x10000000ull
#define SIZE (256u * 1024u)
#define FUZZ_SECONDS 3.0
#define HANG_SECONDS 60

struct memsrc_buf {
	struct memsrc base;
	uint8_t *buf;
	uint64_t reads;
};

static int buf_read(struct memsrc *m, uint64_t addr, void *dst, size_t len)
{
	struct memsrc_buf *b = (struct memsrc_buf *)m;

	b->reads++;
	if (addr < BASE || addr - BASE > SIZE || len > SIZE - (addr - BASE))
		return SS_EFAULT;
	memcpy(dst, b->buf + (addr - BASE), len);
	return 0;
}

static void buf_release(struct memsrc *m)
{
	(void)m;
}

static const struct memsrc_ops buf_ops = {
	.name = "buffer",
	.read = buf_read,
	.release = buf_release,
};

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static uint64_t rnd_ptr(void)
{
	return BASE + (rnd() % (SIZE / 8)) * 8;
}

static void put64(uint8_t *buf, uint64_t addr, uint64_t v)
{
	if (addr >= BASE && addr - BASE + 8 <= SIZE)
		memcpy(buf + (addr - BASE), &v, 8);
}

static const char *const type_names[] = {
	"NoneType", "bool", "int", "long", "float", "str", "bytes", "unicode",
	"bytearray", "tuple", "list", "dict", "set", "frozenset", "type",
	"module", "function", "code", "cell", "method", "instancemethod",
	"builtin_function_or_method", "ellipsis", "NotImplementedType",
	"classobj", "instance", "Thread",
};
#define NTYPES (sizeof(type_names) / sizeof(type_names[0]))

/* Fake type objects at the start of the region, names after them. */
static uint64_t types[NTYPES];

static void fill(uint8_t *buf, const struct py_layout *l)
{
	uint64_t names = BASE + SIZE - 4096;

	for (size_t i = 0; i < SIZE; i += 8) {
		uint64_t v, r = rnd() % 10;

		if (r < 3)
			v = rnd();
		else if (r < 7)
			v = rnd_ptr();
		else if (r < 9)
			v = rnd() % 64;
		else
			v = (uint64_t)-1;
		memcpy(buf + i, &v, 8);
	}
	for (size_t k = 0; k < NTYPES; k++) {
		uint64_t t = BASE + 4096 * (k + 1);
		uint64_t flags = rnd() & ~(1ull << 9);     /* static */

		if (rnd() % 4 == 0)
			flags |= 1ull << 9;               /* heap */
		types[k] = t;
		strcpy((char *)buf + (names - BASE), type_names[k]);
		put64(buf, t + (uint64_t)l->type_tp_name, names);
		put64(buf, t + (uint64_t)l->type_tp_flags, flags | (0xffull << 23));
		put64(buf, t + (uint64_t)l->object_ob_type, types[14 % NTYPES]);
		if (l->type_tp_base != OFF_NONE)
			put64(buf, t + (uint64_t)l->type_tp_base,
			      rnd() % 2 ? 0 : BASE + 4096 * (rnd() % NTYPES + 1));
		names += strlen(type_names[k]) + 1;
	}
	/* Point many object headers at the fake types. */
	for (int i = 0; i < 4000; i++)
		put64(buf, rnd_ptr() + (uint64_t)l->object_ob_type,
		      types[rnd() % NTYPES]);
}

static void on_alarm(int sig)
{
	(void)sig;
	static const char msg[] = "test_objects_fuzz: a reader hung\n";

	if (write(2, msg, sizeof(msg) - 1) < 0)
		_exit(1);
	_exit(1);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void fuzz_layout(const struct py_layout *l, uint8_t *buf,
			double deadline, unsigned *rounds)
{
	struct memsrc_buf mem = { .base = { .ops = &buf_ops } };
	struct memsrc *cache;
	struct py_proc p;
	struct py_reader r;
	struct err e = { 0 };

	memset(&p, 0, sizeof(p));
	p.layout = *l;
	mem.buf = buf;
	mem.base.err = &e;
	/* Half the rounds through the page cache, whose peek and batched
	 * fetch the prefetcher uses. */
	cache = mem_cache_new(&mem.base);
	do {
		p.mem = *rounds % 2 ? cache : &mem.base;
		mem_cache_reset(cache);
		struct py_objects o;
		unsigned max_repr = 1 + (unsigned)(rnd() % 120);
		unsigned max_items = 1 + (unsigned)(rnd() % 20);
		struct dump d = { 0 };

		fill(buf, l);
		py_reader_init(&r, &p);
		py_objects_init(&o, &r, max_repr, max_items);
		for (int i = 0; i < 200; i++) {
			uint64_t obj = rnd() % 3 ? rnd_ptr() : rnd();
			uint64_t v;
			char *s = py_repr(&o, obj);
			size_t cps = 0;

			for (const char *c = s; *c; c++)
				cps += ((unsigned char)*c & 0xc0) != 0x80;
			assert_true(cps <= (max_repr > 3 ? max_repr : 3));
			free(s);
			py_instance_attr(&o, obj, "_name", &v, &e);
			py_dict_get_str(&o, rnd_ptr(), "threading", &v, &e);
		}
		for (int i = 0; i < 8; i++) {
			struct thread_stack *t = dump_add_thread(&d);

			t->tstate = rnd_ptr();
			t->ident = rnd() % 4 ? rnd() % 64 : rnd();
			for (int k = 0; k < 3; k++) {
				struct frame *f = thread_add_frame(t);

				py_frame_locals(&o, rnd_ptr(), rnd_ptr(), f);
			}
		}
		/* Random "locals" too: frames' names rarely decode. */
		for (int k = 0; k < 20; k++) {
			struct frame *f = thread_add_frame(&d.threads[0]);

			f->locals = calloc(1, sizeof(*f->locals));
			f->nlocals = 1;
			f->locals[0].name = "x";
			f->locals[0].obj = rnd_ptr();
		}
		py_locals_prefetch(&o, &d);
		py_locals_format(&o, &d);
		for (size_t t = 0; t < d.nthreads; t++) {
			for (size_t k = 0; k < d.threads[t].nframes; k++) {
				const struct frame *f = &d.threads[t].frames[k];

				for (size_t j = 0; j < f->nlocals; j++)
					assert_non_null(f->locals[j].repr);
			}
		}
		py_thread_names(&r, &d);
		dump_release(&d);
		py_objects_release(&o);
		py_reader_release(&r);
		(*rounds)++;
	} while (now() < deadline);
	cache->ops->release(cache);
}

static void test_random_memory(void **state)
{
	uint8_t *buf = malloc(SIZE);
	double per = FUZZ_SECONDS / py_layout_table_len;
	unsigned rounds = 0;

	(void)state;
	assert_non_null(buf);
	signal(SIGALRM, on_alarm);
	alarm(HANG_SECONDS);
	for (unsigned i = 0; i < py_layout_table_len; i++)
		fuzz_layout(&py_layout_table[i].layout, buf, now() + per,
			    &rounds);
	alarm(0);
	assert_true(rounds >= py_layout_table_len);
	free(buf);
}

struct float_case {
	double v;
	const char *repr;
};

/* repr() of these doubles in CPython (3.x and 2.7 agree). */
static const struct float_case float_cases[] = {
	{ 0.1, "0.1" }, { 1e16, "1e+16" }, { 1e-05, "1e-05" },
	{ 0.0001, "0.0001" }, { 1.5, "1.5" }, { -0.0, "-0.0" }, { 0.0, "0.0" },
	{ 1e22, "1e+22" }, { 5e-324, "5e-324" },
	{ 1.7976931348623157e308, "1.7976931348623157e+308" },
	{ 123456789.123, "123456789.123" }, { 2.5e-07, "2.5e-07" },
	{ 0.3, "0.3" }, { 1.0 / 3, "0.3333333333333333" },
	{ 1234567890123456.0, "1234567890123456.0" },
	{ 12345678901234567.0, "1.2345678901234568e+16" },
	{ 100.0, "100.0" }, { 1e100, "1e+100" }, { 4.35, "4.35" },
	{ 0.000123, "0.000123" }, { -2.5, "-2.5" }, { 1e23, "1e+23" },
	{ 9007199254740993.0, "9007199254740992.0" },
	{ 2.2250738585072014e-308, "2.2250738585072014e-308" },
};

static void test_float_known(void **state)
{
	char buf[64];

	(void)state;
	for (size_t i = 0; i < sizeof(float_cases) / sizeof(float_cases[0]); i++) {
		py_float_format(float_cases[i].v, buf, sizeof(buf));
		assert_string_equal(buf, float_cases[i].repr);
	}
	py_float_format(INFINITY, buf, sizeof(buf));
	assert_string_equal(buf, "inf");
	py_float_format(-INFINITY, buf, sizeof(buf));
	assert_string_equal(buf, "-inf");
	py_float_format(NAN, buf, sizeof(buf));
	assert_string_equal(buf, "nan");
}

/* Significant digits of a repr (no sign, point, exponent, or leading and
 * trailing zeros). */
static int sig_digits(const char *s)
{
	char d[64];
	int n = 0, start = 0;

	for (; *s && *s != 'e'; s++)
		if (*s >= '0' && *s <= '9')
			d[n++] = *s;
	while (start < n && d[start] == '0')
		start++;
	while (n > start && d[n - 1] == '0')
		n--;
	return n - start;
}

static void test_float_random(void **state)
{
	(void)state;
	for (int i = 0; i < 200000; i++) {
		uint64_t bits = rnd();
		double v, back;
		char buf[64], shorter[64];
		int n;

		memcpy(&v, &bits, 8);
		if (isnan(v) || isinf(v))
			continue;
		py_float_format(v, buf, sizeof(buf));
		back = strtod(buf, NULL);
		assert_true(back == v);
		/* No decimal with one digit fewer reads back as v. */
		n = sig_digits(buf);
		if (n > 1) {
			snprintf(shorter, sizeof(shorter), "%.*e", n - 2, v);
			assert_false(strtod(shorter, NULL) == v);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_float_known),
		cmocka_unit_test(test_float_random),
		cmocka_unit_test(test_random_memory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
