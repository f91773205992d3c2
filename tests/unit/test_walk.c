/* Tests for py/walk.c over synthetic target memory: the walker must stop
 * at loops in frame and thread chains, honour --max-frames, and turn an
 * unreadable frame into a marked partial stack, never a crash or a hang.
 * Memory is a flat buffer served through a struct memsrc; the layout is the
 * generated 3.10 row (PyFrameObject model). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "py/walk.h"

#define BASE 0x10000000ull
#define SIZE (1u << 20)

struct flatmem {
	struct memsrc base;
	uint8_t *buf;
};

static int flat_read(struct memsrc *m, uint64_t addr, void *dst, size_t len)
{
	struct flatmem *f = (struct flatmem *)m;

	if (addr < BASE || addr + len > BASE + SIZE || addr + len < addr)
		return err_set(m->err, SS_EFAULT, "unmapped 0x%llx",
			       (unsigned long long)addr);
	memcpy(dst, f->buf + (addr - BASE), len);
	return 0;
}

static void flat_release(struct memsrc *m)
{
	(void)m;
}

static const struct memsrc_ops flat_ops = { "flat", flat_read, flat_release };

struct world {
	struct flatmem mem;
	struct err err;
	struct py_proc proc;
	const struct py_layout *l;
	uint64_t next;           /* bump allocator in target space */
};

static uint64_t alloc(struct world *w, size_t n)
{
	uint64_t a = w->next;

	w->next += (n + 15) & ~(size_t)15;
	assert_true(w->next <= BASE + SIZE);
	return a;
}

static void put64(struct world *w, uint64_t addr, uint64_t v)
{
	memcpy(w->mem.buf + (addr - BASE), &v, 8);
}

static void put32(struct world *w, uint64_t addr, int32_t v)
{
	memcpy(w->mem.buf + (addr - BASE), &v, 4);
}

/* A compact ASCII str object. */
static uint64_t make_str(struct world *w, uint64_t str_type, const char *s)
{
	const struct py_layout *l = w->l;
	uint64_t o = alloc(w, (size_t)l->unicode_ascii_data + strlen(s) + 1);

	put64(w, o + (uint64_t)l->object_ob_type, str_type);
	put64(w, o + (uint64_t)l->unicode_length, strlen(s));
	/* kind 1, compact, ascii */
	put32(w, o + (uint64_t)l->unicode_state, (1 << 2) | (1 << 5) | (1 << 6));
	memcpy(w->mem.buf + (o - BASE) + l->unicode_ascii_data, s, strlen(s));
	return o;
}

static uint64_t make_code(struct world *w, uint64_t str_type,
			  uint64_t bytes_type, const char *name)
{
	const struct py_layout *l = w->l;
	uint64_t code = alloc(w, 512), table = alloc(w, 64);

	put64(w, table + (uint64_t)l->object_ob_type, bytes_type);
	put64(w, table + (uint64_t)l->object_ob_size, 0);
	put64(w, code + (uint64_t)l->code_co_name, make_str(w, str_type, name));
	put64(w, code + (uint64_t)l->code_co_filename,
	      make_str(w, str_type, "/t.py"));
	put64(w, code + (uint64_t)l->code_co_lnotab, table);
	put32(w, code + (uint64_t)l->code_co_firstlineno, 7);
	return code;
}

/* One interpreter with one thread whose stack is n frames f0 <- f1 ...;
 * returns the frame addresses (innermost first) in frames[]. */
static void build(struct world *w, unsigned n, uint64_t *frames)
{
	const struct py_layout *l;
	uint64_t str_type, bytes_type, interp, tstate, code;
	unsigned long flags;

	memset(w, 0, sizeof(*w));
	w->l = l = py_layout_lookup(0x030a0000, false);
	assert_non_null(l);
	w->mem.base.ops = &flat_ops;
	w->mem.base.err = &w->err;
	w->mem.buf = calloc(1, SIZE);
	w->next = BASE + 0x1000;
	w->proc.mem = &w->mem.base;
	w->proc.layout = *l;
	w->proc.interp_head = alloc(w, 8);   /* walked as for 2.7/3.6 */

	str_type = alloc(w, 512);
	bytes_type = alloc(w, 512);
	flags = 1ul << 28;
	memcpy(w->mem.buf + (str_type - BASE) + l->type_tp_flags, &flags, 8);
	flags = 1ul << 27;
	memcpy(w->mem.buf + (bytes_type - BASE) + l->type_tp_flags, &flags, 8);

	interp = alloc(w, 4096);
	tstate = alloc(w, 1024);
	put64(w, w->proc.interp_head, interp);
	put64(w, interp + (uint64_t)l->interp_tstate_head, tstate);
	put64(w, tstate + (uint64_t)l->tstate_thread_id, 0x1234);
	code = make_code(w, str_type, bytes_type, "f");
	for (unsigned i = 0; i < n; i++)
		frames[i] = alloc(w, 512);
	for (unsigned i = 0; i < n; i++) {
		put64(w, frames[i] + (uint64_t)l->frame_f_code, code);
		put32(w, frames[i] + (uint64_t)l->frame_f_lasti, -1);
		put64(w, frames[i] + (uint64_t)l->frame_f_back,
		      i + 1 < n ? frames[i + 1] : 0);
	}
	if (n)
		put64(w, tstate + (uint64_t)l->tstate_frame, frames[0]);
}

static void walk(struct world *w, unsigned max_frames, struct dump *d, int *rc)
{
	struct walk_opts o = { max_frames, 100, 8 };
	struct py_reader r;

	py_reader_init(&r, &w->proc);
	*rc = py_walk(&r, &o, d, &w->err);
	py_reader_release(&r);
}

static void test_plain_stack(void **state)
{
	struct world w;
	uint64_t frames[5];
	struct dump d = { 0 };
	int rc;

	(void)state;
	build(&w, 5, frames);
	walk(&w, 100, &d, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(d.nthreads, 1);
	assert_int_equal(d.threads[0].nframes, 5);
	assert_int_equal(d.threads[0].ident, 0x1234);
	assert_null(d.threads[0].error);
	assert_int_equal(d.threads[0].frames[0].line, 7);
	/* Up to 3.10 every frame runs in its own eval-loop call. */
	for (unsigned i = 0; i < 5; i++)
		assert_int_equal(d.threads[0].frames[i].eval_seq, i);
	dump_release(&d);
	free(w.mem.buf);
}

static void test_frame_loop(void **state)
{
	struct world w;
	uint64_t frames[4];
	struct dump d = { 0 };
	int rc;

	(void)state;
	build(&w, 4, frames);
	put64(&w, frames[3] + (uint64_t)w.l->frame_f_back, frames[1]);
	walk(&w, 100000, &d, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(d.threads[0].nframes, 4);
	assert_non_null(d.threads[0].error);
	assert_non_null(strstr(d.threads[0].error, "loops"));
	dump_release(&d);
	free(w.mem.buf);
}

static void test_max_frames(void **state)
{
	struct world w;
	uint64_t frames[50];
	struct dump d = { 0 };
	int rc;

	(void)state;
	build(&w, 50, frames);
	walk(&w, 10, &d, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(d.threads[0].nframes, 10);
	assert_non_null(strstr(d.threads[0].error, "--max-frames"));
	dump_release(&d);
	free(w.mem.buf);
}

static void test_unreadable_frame(void **state)
{
	struct world w;
	uint64_t frames[6];
	struct dump d = { 0 };
	int rc;

	(void)state;
	build(&w, 6, frames);
	put64(&w, frames[2] + (uint64_t)w.l->frame_f_back, 0xdead0000ull);
	walk(&w, 100, &d, &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(d.threads[0].nframes, 3);
	assert_non_null(strstr(d.threads[0].error, "truncated"));
	dump_release(&d);
	free(w.mem.buf);
}

static void test_thread_loop(void **state)
{
	struct world w;
	uint64_t frames[1], tstate;
	struct dump d = { 0 };
	int rc;

	(void)state;
	build(&w, 1, frames);
	memcpy(&tstate, w.mem.buf + (w.proc.interp_head - BASE), 8);
	memcpy(&tstate, w.mem.buf + (tstate - BASE) + w.l->interp_tstate_head, 8);
	put64(&w, tstate + (uint64_t)w.l->tstate_next, tstate);
	walk(&w, 100, &d, &rc);
	assert_int_equal(rc, SS_ECORRUPT);
	assert_non_null(strstr(w.err.msg, "loops"));
	dump_release(&d);
	free(w.mem.buf);
}

/* Random bytes over a valid skeleton: whatever they say, the walk ends. */
static void test_random_memory(void **state)
{
	uint64_t frames[8];
	unsigned seed = 12345;

	(void)state;
	for (int round = 0; round < 300; round++) {
		struct world w;
		struct dump d = { 0 };
		int rc;

		build(&w, 8, frames);
		for (int k = 0; k < 64; k++) {
			seed = seed * 1103515245u + 12345u;
			size_t at = 0x1000 + (seed >> 4) % (size_t)(w.next - BASE - 0x1000);

			seed = seed * 1103515245u + 12345u;
			w.mem.buf[at] = (uint8_t)(seed >> 16);
		}
		walk(&w, 1000, &d, &rc);
		assert_true(rc == 0 || rc < 0);
		if (rc == 0)
			assert_true(d.nthreads <= 100);
		dump_release(&d);
		free(w.mem.buf);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_stack),
		cmocka_unit_test(test_frame_loop),
		cmocka_unit_test(test_max_frames),
		cmocka_unit_test(test_unreadable_frame),
		cmocka_unit_test(test_thread_loop),
		cmocka_unit_test(test_random_memory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
