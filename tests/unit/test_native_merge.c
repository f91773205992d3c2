/* Tests for stack/native_merge.c: eval-loop C frames replaced by the
 * Python frames they run, in call order, for the one-frame-per-call
 * (<= 3.10) and several-frames-per-call (3.11+) models; interpreter C
 * frames hidden or kept; nothing invented when the stacks do not pair. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stack/native_merge.h"
#include "util/xalloc.h"

/* Native frame specs: "lib!sym" for a C frame, "lib!sym*" for the
 * interpreter's, "E" for an eval-loop frame, "T" for a tail-call handler. */
static void add_native(struct native_stack *ns, const char *spec)
{
	struct frame *f;
	char buf[64];
	size_t len;

	XGROW(ns->frames, ns->cap, ns->n + 1);
	f = &ns->frames[ns->n++];
	memset(f, 0, sizeof(*f));
	f->kind = FRAME_NATIVE;
	f->line = -1;
	if (!strcmp(spec, "E") || !strcmp(spec, "T")) {
		f->library = xstrdup("libpython");
		f->function = xstrdup(spec[0] == 'E' ? "_PyEval_EvalFrameDefault"
					: "_TAIL_CALL_CALL");
		f->interp = f->eval_loop = true;
		return;
	}
	len = strlen(spec);
	snprintf(buf, sizeof(buf), "%.*s", (int)(spec[len - 1] == '*' ?
						len - 1 : len), spec);
	f->interp = spec[len - 1] == '*';
	f->function = xstrdup(strchr(buf, '!') + 1);
	*strchr(buf, '!') = '\0';
	f->library = xstrdup(buf);
}

static void add_python(struct thread_stack *t, const char *name, unsigned seq)
{
	struct frame *f = thread_add_frame(t);

	f->kind = FRAME_PYTHON;
	f->function = name;
	f->eval_seq = seq;
}

/* The merged stack as "name name ...", innermost first; "|" for a stop. */
static void render(const struct thread_stack *t, char *out, size_t len)
{
	size_t at = 0;

	out[0] = '\0';
	for (size_t i = 0; i < t->nframes; i++) {
		const struct frame *f = &t->frames[i];
		const char *s = f->kind == FRAME_UNWIND_STOP ? "|" : f->function;

		at += (size_t)snprintf(out + at, len - at, "%s%s",
				       i ? " " : "", s);
	}
}

static void release(struct thread_stack *t)
{
	for (size_t i = 0; i < t->nframes; i++)
		frame_release_native(&t->frames[i]);
	free(t->frames);
	memset(t, 0, sizeof(*t));
}

static void check(struct thread_stack *t, struct native_stack *ns, bool all,
		  const char *want)
{
	char got[1024];

	native_merge(t, ns, all);
	render(t, got, sizeof(got));
	assert_string_equal(got, want);
	assert_null(ns->frames);
	assert_int_equal(ns->n, 0);
}

/* The chain on 3.11+: one eval call runs outer and <module>,
 * another cb. */
static void test_extension_chain_311(void **state)
{
	struct thread_stack t = { 0 };
	struct native_stack ns = { 0 };
	const char *nat[] = { "libc!read", "ext!ext_block", "libpython!cfunc*",
			      "E", "libpython!vectorcall*", "ext!ext_inner",
			      "ext!ext_call", "libpython!call*", "E",
			      "libpython!main*", "libc!__libc_start_main" };

	(void)state;
	for (size_t i = 0; i < sizeof(nat) / sizeof(nat[0]); i++)
		add_native(&ns, nat[i]);
	add_python(&t, "cb", 0);
	add_python(&t, "outer", 1);
	add_python(&t, "<module>", 1);
	check(&t, &ns, false, "read ext_block cb ext_inner ext_call outer "
	      "<module> __libc_start_main");
	release(&t);
}

/* <= 3.10: one eval call per Python frame. */
static void test_one_frame_per_call(void **state)
{
	struct thread_stack t = { 0 };
	struct native_stack ns = { 0 };
	const char *nat[] = { "libc!read", "E", "libpython!fast*", "E",
			      "libpython!x*", "E", "libc!start" };

	(void)state;
	for (size_t i = 0; i < sizeof(nat) / sizeof(nat[0]); i++)
		add_native(&ns, nat[i]);
	add_python(&t, "inner", 0);
	add_python(&t, "outer", 1);
	add_python(&t, "<module>", 2);
	check(&t, &ns, false, "read inner outer <module> start");
	release(&t);
}

/* --native-all keeps the interpreter's frames, each eval frame after the
 * Python frames it runs. */
static void test_all_keeps_interpreter(void **state)
{
	struct thread_stack t = { 0 };
	struct native_stack ns = { 0 };
	const char *nat[] = { "libc!read", "libpython!os_read*", "E",
			      "libpython!main*" };

	(void)state;
	for (size_t i = 0; i < sizeof(nat) / sizeof(nat[0]); i++)
		add_native(&ns, nat[i]);
	add_python(&t, "f", 0);
	add_python(&t, "<module>", 0);
	check(&t, &ns, true, "read os_read f <module> _PyEval_EvalFrameDefault "
	      "main");
	release(&t);
}

/* Unwinding stopped before the outer eval frames: the rest of the Python
 * stack follows a stop marker, in order. */
static void test_stopped_early(void **state)
{
	struct thread_stack t = { 0 };
	struct native_stack ns = { 0 };

	(void)state;
	add_native(&ns, "libc!read");
	add_native(&ns, "E");
	add_native(&ns, "gone!0x1234");
	ns.stop = xstrdup("no unwind info");
	add_python(&t, "a", 0);
	add_python(&t, "b", 1);
	add_python(&t, "c", 2);
	check(&t, &ns, false, "read a 0x1234 | b c");
	assert_non_null(strstr(t.frames[3].function, "no unwind info"));
	release(&t);
}

/* No eval frame recognised at all (stripped interpreter): nothing is
 * paired, every Python frame follows the marker. */
static void test_no_eval_frames(void **state)
{
	struct thread_stack t = { 0 };
	struct native_stack ns = { 0 };

	(void)state;
	add_native(&ns, "libc!read");
	add_native(&ns, "python!0x5555*");
	add_python(&t, "a", 0);
	add_python(&t, "b", 1);
	check(&t, &ns, false, "read | a b");
	assert_non_null(strstr(t.frames[1].function, "do not pair"));
	release(&t);
}

/* A complete native stack but a stop reason anyway ends with a marker;
 * eval calls that ran no visible Python frame are simply dropped. */
static void test_empty_groups_and_trailing_stop(void **state)
{
	struct thread_stack t = { 0 };
	struct native_stack ns = { 0 };

	(void)state;
	add_native(&ns, "E");
	add_native(&ns, "E");
	add_native(&ns, "E");
	ns.stop = xstrdup("more than 512 frames");
	add_python(&t, "a", 0);
	add_python(&t, "c", 2);
	check(&t, &ns, false, "a c |");
	release(&t);
}

/* Tail-calling interpreter: a handler and the _PyEval_EvalFrameDefault
 * that called it are one eval call. */
static void test_tail_call_handler(void **state)
{
	struct thread_stack t = { 0 };
	struct native_stack ns = { 0 };
	const char *nat[] = { "libc!read", "T", "E", "ext!ext_call", "T",
			      "E" };

	(void)state;
	for (size_t i = 0; i < sizeof(nat) / sizeof(nat[0]); i++)
		add_native(&ns, nat[i]);
	add_python(&t, "cb", 0);
	add_python(&t, "outer", 1);
	check(&t, &ns, false, "read cb ext_call outer");
	release(&t);
}

/* 3.12+ without eval-loop symbols: the C frame whose stack range holds a
 * call's entry frame is that call's eval loop. */
static void test_pairing_by_entry_address(void **state)
{
	struct thread_stack t = { 0 };
	struct native_stack ns = { 0 };
	const char *nat[] = { "libc!read", "ext!ext_block", "python!0x11*",
			      "python!0x22*", "ext!ext_inner", "ext!ext_call",
			      "python!0x33*", "python!0x44*", "libc!start" };
	const uint64_t sp[] = { 0x1000, 0x1100, 0x1200, 0x1300, 0x1400,
				0x1500, 0x1600, 0x1700, 0x1800 };

	(void)state;
	for (size_t i = 0; i < sizeof(nat) / sizeof(nat[0]); i++) {
		add_native(&ns, nat[i]);
		ns.frames[i].sp = sp[i];
	}
	add_python(&t, "cb", 0);
	t.frames[0].eval_entry = 0x1280;      /* in 0x22's frame */
	add_python(&t, "outer", 1);
	add_python(&t, "<module>", 1);
	t.frames[1].eval_entry = t.frames[2].eval_entry = 0x1720; /* 0x44's */
	check(&t, &ns, false, "read ext_block cb ext_inner ext_call outer "
	      "<module> start");
	release(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_extension_chain_311),
		cmocka_unit_test(test_one_frame_per_call),
		cmocka_unit_test(test_all_keeps_interpreter),
		cmocka_unit_test(test_stopped_early),
		cmocka_unit_test(test_no_eval_frames),
		cmocka_unit_test(test_empty_groups_and_trailing_stop),
		cmocka_unit_test(test_tail_call_handler),
		cmocka_unit_test(test_pairing_by_entry_address),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
