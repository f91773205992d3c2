/* Tests for py/layout_debugoffsets.c.
 *
 * Synthetic _Py_DebugOffsets buffers are built here field by field, in the
 * order of CPython's own struct definitions (3.13: pycore_runtime.h; 3.14
 * and 3.15: pycore_debug_offsets.h), independently of the reader's tables.
 * The 3.13 and 3.15 values are the ones real 3.13.0 and 3.15.2 release
 * builds carry; the 3.14 free-threaded values are made up but keep the
 * shape of the real structs (32-byte object header).  Malformed input must
 * be refused with the right code and random input must never crash (the
 * suite also runs under ASan).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "py/layout_debugoffsets.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

struct fv {
	const char *name;
	uint64_t v;
};

/* 3.13.0 final, release build, x86-64 (values read from a real one). */
static const struct fv fields_313[] = {
	{ "version", 0x030d00f0 }, { "free_threaded", 0 },
	{ "runtime_state.size", 283320 },
	{ "runtime_state.finalizing", 608 },
	{ "runtime_state.interpreters_head", 632 },
	{ "interpreter_state.size", 194968 },
	{ "interpreter_state.id", 7272 },
	{ "interpreter_state.next", 7264 },
	{ "interpreter_state.threads_head", 7344 },
	{ "interpreter_state.gc", 7400 },
	{ "interpreter_state.imports_modules", 7656 },
	{ "interpreter_state.sysdict", 7640 },
	{ "interpreter_state.builtins", 7648 },
	{ "interpreter_state.ceval_gil", 16 },
	{ "interpreter_state.gil_runtime_state", 7752 },
	{ "interpreter_state.gil_runtime_state_enabled", 0 },
	{ "interpreter_state.gil_runtime_state_locked", 7768 },
	{ "interpreter_state.gil_runtime_state_holder", 7760 },
	{ "thread_state.size", 304 }, { "thread_state.prev", 0 },
	{ "thread_state.next", 8 }, { "thread_state.interp", 16 },
	{ "thread_state.current_frame", 72 },
	{ "thread_state.thread_id", 152 },
	{ "thread_state.native_thread_id", 160 },
	{ "thread_state.datastack_chunk", 232 },
	{ "thread_state.status", 32 },
	{ "interpreter_frame.size", 80 },
	{ "interpreter_frame.previous", 8 },
	{ "interpreter_frame.executable", 0 },
	{ "interpreter_frame.instr_ptr", 56 },
	{ "interpreter_frame.localsplus", 72 },
	{ "interpreter_frame.owner", 70 },
	{ "code_object.size", 208 }, { "code_object.filename", 112 },
	{ "code_object.name", 120 }, { "code_object.qualname", 128 },
	{ "code_object.linetable", 136 },
	{ "code_object.firstlineno", 68 },
	{ "code_object.argcount", 52 },
	{ "code_object.localsplusnames", 96 },
	{ "code_object.localspluskinds", 104 },
	{ "code_object.co_code_adaptive", 200 },
	{ "pyobject.size", 16 }, { "pyobject.ob_type", 8 },
	{ "type_object.size", 416 }, { "type_object.tp_name", 24 },
	{ "type_object.tp_repr", 88 }, { "type_object.tp_flags", 168 },
	{ "tuple_object.size", 32 }, { "tuple_object.ob_item", 24 },
	{ "tuple_object.ob_size", 16 },
	{ "list_object.size", 40 }, { "list_object.ob_item", 24 },
	{ "list_object.ob_size", 16 },
	{ "dict_object.size", 48 }, { "dict_object.ma_keys", 32 },
	{ "dict_object.ma_values", 40 },
	{ "float_object.size", 24 }, { "float_object.ob_fval", 16 },
	{ "long_object.size", 32 }, { "long_object.lv_tag", 16 },
	{ "long_object.ob_digit", 24 },
	{ "bytes_object.size", 40 }, { "bytes_object.ob_size", 16 },
	{ "bytes_object.ob_sval", 32 },
	{ "unicode_object.size", 64 }, { "unicode_object.state", 32 },
	{ "unicode_object.length", 16 },
	{ "unicode_object.asciiobject_size", 40 },
	{ "gc.size", 240 }, { "gc.collecting", 200 },
};

/* 3.14.0 final, free-threaded (object header 32 bytes). */
static const struct fv fields_314t[] = {
	{ "version", 0x030e02f0 }, { "free_threaded", 1 },
	{ "runtime_state.size", 300000 },
	{ "runtime_state.finalizing", 616 },
	{ "runtime_state.interpreters_head", 640 },
	{ "interpreter_state.size", 200000 },
	{ "interpreter_state.id", 7272 },
	{ "interpreter_state.next", 7264 },
	{ "interpreter_state.threads_head", 7344 },
	{ "interpreter_state.threads_main", 7352 },
	{ "interpreter_state.gc", 7400 },
	{ "interpreter_state.imports_modules", 7656 },
	{ "interpreter_state.sysdict", 7640 },
	{ "interpreter_state.builtins", 7648 },
	{ "interpreter_state.ceval_gil", 16 },
	{ "interpreter_state.gil_runtime_state", 7752 },
	{ "interpreter_state.gil_runtime_state_enabled", 40 },
	{ "interpreter_state.gil_runtime_state_locked", 7768 },
	{ "interpreter_state.gil_runtime_state_holder", 7760 },
	{ "interpreter_state.code_object_generation", 9000 },
	{ "interpreter_state.tlbc_generation", 9008 },
	{ "thread_state.size", 320 }, { "thread_state.prev", 0 },
	{ "thread_state.next", 8 }, { "thread_state.interp", 16 },
	{ "thread_state.current_frame", 72 },
	{ "thread_state.thread_id", 152 },
	{ "thread_state.native_thread_id", 160 },
	{ "thread_state.datastack_chunk", 232 },
	{ "thread_state.status", 32 },
	{ "interpreter_frame.size", 88 },
	{ "interpreter_frame.previous", 8 },
	{ "interpreter_frame.executable", 0 },
	{ "interpreter_frame.instr_ptr", 56 },
	{ "interpreter_frame.localsplus", 80 },
	{ "interpreter_frame.owner", 78 },
	{ "interpreter_frame.stackpointer", 64 },
	{ "interpreter_frame.tlbc_index", 72 },
	{ "code_object.size", 240 }, { "code_object.filename", 136 },
	{ "code_object.name", 144 }, { "code_object.qualname", 152 },
	{ "code_object.linetable", 160 },
	{ "code_object.firstlineno", 84 },
	{ "code_object.argcount", 68 },
	{ "code_object.localsplusnames", 120 },
	{ "code_object.localspluskinds", 128 },
	{ "code_object.co_code_adaptive", 232 },
	{ "code_object.co_tlbc", 224 },
	{ "pyobject.size", 32 }, { "pyobject.ob_type", 24 },
	{ "type_object.size", 432 }, { "type_object.tp_name", 40 },
	{ "type_object.tp_repr", 104 }, { "type_object.tp_flags", 184 },
	{ "tuple_object.size", 56 }, { "tuple_object.ob_item", 48 },
	{ "tuple_object.ob_size", 32 },
	{ "list_object.size", 56 }, { "list_object.ob_item", 40 },
	{ "list_object.ob_size", 32 },
	{ "set_object.size", 224 }, { "set_object.used", 48 },
	{ "set_object.table", 64 }, { "set_object.mask", 56 },
	{ "dict_object.size", 64 }, { "dict_object.ma_keys", 48 },
	{ "dict_object.ma_values", 56 },
	{ "float_object.size", 40 }, { "float_object.ob_fval", 32 },
	{ "long_object.size", 48 }, { "long_object.lv_tag", 32 },
	{ "long_object.ob_digit", 40 },
	{ "bytes_object.size", 56 }, { "bytes_object.ob_size", 32 },
	{ "bytes_object.ob_sval", 48 },
	{ "unicode_object.size", 80 }, { "unicode_object.state", 48 },
	{ "unicode_object.length", 32 },
	{ "unicode_object.asciiobject_size", 56 },
	{ "gc.size", 400 }, { "gc.collecting", 380 },
	{ "gen_object.size", 200 }, { "gen_object.gi_name", 56 },
	{ "gen_object.gi_iframe", 120 }, { "gen_object.gi_frame_state", 115 },
	{ "llist_node.next", 0 }, { "llist_node.prev", 8 },
	{ "debugger_support.eval_breaker", 600 },
	{ "debugger_support.remote_debugger_support", 700 },
	{ "debugger_support.remote_debugging_enabled", 5000 },
	{ "debugger_support.debugger_pending_call", 0 },
	{ "debugger_support.debugger_script_path", 8 },
	{ "debugger_support.debugger_script_path_size", 512 },
};

/* 3.15.2 final, release build, x86-64 (values read from a real one). */
static const struct fv fields_315[] = {
	{ "version", 0x030f02f0 }, { "free_threaded", 0 },
	{ "runtime_state.size", 346568 },
	{ "runtime_state.finalizing", 912 },
	{ "runtime_state.interpreters_head", 936 },
	{ "interpreter_state.size", 226240 },
	{ "interpreter_state.id", 7272 },
	{ "interpreter_state.next", 7264 },
	{ "interpreter_state.threads_head", 7336 },
	{ "interpreter_state.threads_main", 7352 },
	{ "interpreter_state.gc", 7400 },
	{ "interpreter_state.imports_modules", 7592 },
	{ "interpreter_state.sysdict", 7576 },
	{ "interpreter_state.builtins", 7584 },
	{ "interpreter_state.ceval_gil", 16 },
	{ "interpreter_state.gil_runtime_state", 7736 },
	{ "interpreter_state.gil_runtime_state_enabled", 0 },
	{ "interpreter_state.gil_runtime_state_locked", 7752 },
	{ "interpreter_state.gil_runtime_state_holder", 7744 },
	{ "interpreter_state.code_object_generation", 7944 },
	{ "interpreter_state.tlbc_generation", 0 },
	{ "thread_state.size", 888 }, { "thread_state.prev", 0 },
	{ "thread_state.next", 8 }, { "thread_state.interp", 16 },
	{ "thread_state.current_frame", 72 },
	{ "thread_state.base_frame", 80 },
	{ "thread_state.last_profiled_frame", 88 },
	{ "thread_state.last_profiled_frame_seq", 96 },
	{ "thread_state.thread_id", 176 },
	{ "thread_state.native_thread_id", 184 },
	{ "thread_state.datastack_chunk", 256 },
	{ "thread_state.status", 32 },
	{ "thread_state.holds_gil", 36 },
	{ "thread_state.gil_requested", 40 },
	{ "thread_state.current_exception", 136 },
	{ "thread_state.exc_state", 288 },
	{ "err_stackitem.exc_value", 0 },
	{ "interpreter_frame.size", 88 },
	{ "interpreter_frame.previous", 8 },
	{ "interpreter_frame.executable", 0 },
	{ "interpreter_frame.instr_ptr", 56 },
	{ "interpreter_frame.localsplus", 80 },
	{ "interpreter_frame.owner", 74 },
	{ "interpreter_frame.stackpointer", 64 },
	{ "interpreter_frame.tlbc_index", 0 },
	{ "code_object.size", 216 }, { "code_object.filename", 112 },
	{ "code_object.name", 120 }, { "code_object.qualname", 128 },
	{ "code_object.linetable", 136 },
	{ "code_object.firstlineno", 68 },
	{ "code_object.argcount", 52 },
	{ "code_object.localsplusnames", 96 },
	{ "code_object.localspluskinds", 104 },
	{ "code_object.co_code_adaptive", 208 },
	{ "code_object.co_tlbc", 0 },
	{ "pyobject.size", 16 }, { "pyobject.ob_type", 8 },
	{ "type_object.size", 424 }, { "type_object.tp_name", 24 },
	{ "type_object.tp_repr", 88 }, { "type_object.tp_flags", 168 },
	{ "type_object.tp_basicsize", 32 },
	{ "type_object.tp_dictoffset", 288 },
	{ "heap_type_object.size", 944 },
	{ "heap_type_object.ht_cached_keys", 888 },
	{ "tuple_object.size", 40 }, { "tuple_object.ob_item", 32 },
	{ "tuple_object.ob_size", 16 },
	{ "list_object.size", 40 }, { "list_object.ob_item", 24 },
	{ "list_object.ob_size", 16 },
	{ "set_object.size", 200 }, { "set_object.used", 24 },
	{ "set_object.table", 40 }, { "set_object.mask", 32 },
	{ "dict_object.size", 48 }, { "dict_object.ma_keys", 32 },
	{ "dict_object.ma_values", 40 },
	{ "float_object.size", 24 }, { "float_object.ob_fval", 16 },
	{ "long_object.size", 32 }, { "long_object.lv_tag", 16 },
	{ "long_object.ob_digit", 24 },
	{ "bytes_object.size", 40 }, { "bytes_object.ob_size", 16 },
	{ "bytes_object.ob_sval", 32 },
	{ "unicode_object.size", 64 }, { "unicode_object.state", 32 },
	{ "unicode_object.length", 16 },
	{ "unicode_object.asciiobject_size", 40 },
	{ "unicode_object.compactunicodeobject_size", 56 },
	{ "gc.size", 176 }, { "gc.collecting", 112 }, { "gc.frame", 120 },
	{ "gc.generation_stats_size", 1120 }, { "gc.generation_stats", 104 },
	{ "gen_object.size", 160 }, { "gen_object.gi_name", 24 },
	{ "gen_object.gi_iframe", 72 }, { "gen_object.gi_frame_state", 67 },
	{ "llist_node.next", 0 }, { "llist_node.prev", 8 },
	{ "debugger_support.eval_breaker", 24 },
	{ "debugger_support.remote_debugger_support", 344 },
	{ "debugger_support.remote_debugging_enabled", 8028 },
	{ "debugger_support.debugger_pending_call", 0 },
	{ "debugger_support.debugger_script_path", 4 },
	{ "debugger_support.debugger_script_path_size", 512 },
};

/* A writable copy of a field list, so that tests can change values. */
struct fx {
	struct fv f[128];
	size_t n;
};

static void fx_init(struct fx *x, const struct fv *src, size_t n)
{
	assert_true(n <= NELEM(x->f));
	memcpy(x->f, src, n * sizeof(*src));
	x->n = n;
}

static void fx_set(struct fx *x, const char *name, uint64_t v)
{
	for (size_t i = 0; i < x->n; i++) {
		if (strcmp(x->f[i].name, name) == 0) {
			x->f[i].v = v;
			return;
		}
	}
	fail_msg("no field %s", name);
}

/* PY_DEBUG_OFFSETS_MAX_SIZE bytes as read from _PyRuntime: the struct,
 * then what follows it in _PyRuntimeState (here: ones, like the
 * _initialized flags of a running interpreter). */
static void fx_build(const struct fx *x, uint8_t *buf)
{
	memset(buf, 0, PY_DEBUG_OFFSETS_MAX_SIZE);
	memcpy(buf, "xdebugpy", 8);
	for (size_t i = 0; i < x->n; i++)
		memcpy(buf + 8 + 8 * i, &x->f[i].v, 8);
	for (size_t o = 8 + 8 * x->n; o + 4 <= PY_DEBUG_OFFSETS_MAX_SIZE; o += 4)
		buf[o] = 1;
}

static int parse_fx(const struct fx *x, const struct py_layout *fallback,
		    struct py_layout *out, struct err *e)
{
	uint8_t buf[PY_DEBUG_OFFSETS_MAX_SIZE];

	fx_build(x, buf);
	err_clear(e);
	return py_layout_from_debug_offsets(buf, sizeof(buf), fallback, out, e);
}

static void assert_msg_has(const struct err *e, const char *what)
{
	if (!strstr(e->msg, what))
		fail_msg("message \"%s\" lacks \"%s\"", e->msg, what);
}

static void layout_none(struct py_layout *l)
{
	memset(l, 0, sizeof(*l));
#define X(g, f) l->g##_##f = OFF_NONE;
	PY_LAYOUT_FIELDS(X)
#undef X
}

/* --- good buffers -------------------------------------------------------- */

static void test_313(void **state)
{
	struct fx x;
	struct py_layout l;
	struct err e;

	(void)state;
	fx_init(&x, fields_313, NELEM(fields_313));
	assert_int_equal(parse_fx(&x, NULL, &l, &e), 0);
	assert_int_equal(l.version, 0x030d0000);
	assert_false(l.free_threaded);
	assert_false(l.debug);
	assert_int_equal(l.runtime_interpreters_head, 632);
	assert_int_equal(l.runtime_finalizing, 608);
	assert_int_equal(l.interp_next, 7264);
	assert_int_equal(l.interp_id, 7272);
	assert_int_equal(l.interp_tstate_head, 7344);
	assert_int_equal(l.interp_gil, 16);
	assert_int_equal(l.interp_modules, 7656);
	assert_int_equal(l.interp_sysdict, 7640);
	assert_int_equal(l.gil_locked, 16);
	assert_int_equal(l.gil_last_holder, 8);
	assert_int_equal(l.tstate_next, 8);
	assert_int_equal(l.tstate_interp, 16);
	assert_int_equal(l.tstate_current_frame, 72);
	assert_int_equal(l.tstate_thread_id, 152);
	assert_int_equal(l.tstate_native_thread_id, 160);
	assert_int_equal(l.iframe_previous, 8);
	assert_int_equal(l.iframe_code, 0);
	assert_int_equal(l.iframe_instr, 56);
	assert_int_equal(l.iframe_owner, 70);
	assert_int_equal(l.iframe_localsplus, 72);
	assert_int_equal(l.code_co_argcount, 52);
	assert_int_equal(l.code_co_firstlineno, 68);
	assert_int_equal(l.code_co_filename, 112);
	assert_int_equal(l.code_co_name, 120);
	assert_int_equal(l.code_co_qualname, 128);
	assert_int_equal(l.code_co_lnotab, 136);
	assert_int_equal(l.code_co_code_adaptive, 200);
	assert_int_equal(l.code_co_localsplusnames, 96);
	assert_int_equal(l.code_co_localspluskinds, 104);
	assert_int_equal(l.object_ob_type, 8);
	assert_int_equal(l.object_ob_size, 16);
	assert_int_equal(l.type_tp_name, 24);
	assert_int_equal(l.type_tp_flags, 168);
	assert_int_equal(l.bytes_ob_sval, 32);
	assert_int_equal(l.unicode_length, 16);
	assert_int_equal(l.unicode_state, 32);
	assert_int_equal(l.unicode_ascii_data, 40);
	assert_int_equal(l.tuple_ob_item, 24);
	/* Not in the debug offsets, no fallback. */
	assert_int_equal(l.code_co_flags, OFF_NONE);
	assert_int_equal(l.code_co_nlocalsplus, OFF_NONE);
	assert_int_equal(l.iframe_stacktop, OFF_NONE);
	assert_int_equal(l.runtime_interpreters_main, OFF_NONE);
	assert_int_equal(l.unicode_compact_data, OFF_NONE);
	assert_int_equal(l.tstate_cframe, OFF_NONE);
	assert_int_equal(l.frame_f_back, OFF_NONE);
}

static void test_313_fallback(void **state)
{
	struct fx x;
	struct py_layout fb, l;
	struct err e;

	(void)state;
	layout_none(&fb);
	fb.version = 0x030d0500;
	fb.debug = true;
	fb.code_co_flags = 48;
	fb.iframe_stacktop = 64;
	fb.unicode_compact_data = 56;
	fb.code_co_filename = 999;      /* the debug offsets win */
	fx_init(&x, fields_313, NELEM(fields_313));
	assert_int_equal(parse_fx(&x, &fb, &l, &e), 0);
	assert_true(l.debug);
	assert_int_equal(l.version, 0x030d0000);
	assert_int_equal(l.code_co_flags, 48);
	assert_int_equal(l.iframe_stacktop, 64);
	assert_int_equal(l.unicode_compact_data, 56);
	assert_int_equal(l.code_co_filename, 112);
	assert_int_equal(l.frame_f_back, OFF_NONE);
}

static void test_fallback_wrong_build_ignored(void **state)
{
	struct fx x;
	struct py_layout fb, l;
	struct err e;

	(void)state;
	layout_none(&fb);
	fb.code_co_flags = 48;
	/* A default-build row for a free-threaded target. */
	fb.version = 0x030e0000;
	fx_init(&x, fields_314t, NELEM(fields_314t));
	assert_int_equal(parse_fx(&x, &fb, &l, &e), 0);
	assert_true(l.free_threaded);
	assert_int_equal(l.code_co_flags, OFF_NONE);
	/* A row of another minor version. */
	fb.version = 0x030d0000;
	fb.free_threaded = true;
	assert_int_equal(parse_fx(&x, &fb, &l, &e), 0);
	assert_int_equal(l.code_co_flags, OFF_NONE);
	/* The right row is used. */
	fb.version = 0x030e0000;
	assert_int_equal(parse_fx(&x, &fb, &l, &e), 0);
	assert_int_equal(l.code_co_flags, 48);
}

static void test_314_free_threaded(void **state)
{
	struct fx x;
	struct py_layout l;
	struct err e;

	(void)state;
	fx_init(&x, fields_314t, NELEM(fields_314t));
	assert_int_equal(parse_fx(&x, NULL, &l, &e), 0);
	assert_int_equal(l.version, 0x030e0200);
	assert_true(l.free_threaded);
	assert_int_equal(l.interp_tstate_head, 7344);
	assert_int_equal(l.gil_locked, 16);
	assert_int_equal(l.gil_last_holder, 8);
	assert_int_equal(l.iframe_localsplus, 80);
	assert_int_equal(l.iframe_owner, 78);
	assert_int_equal(l.code_co_code_adaptive, 232);
	assert_int_equal(l.code_co_filename, 136);
	assert_int_equal(l.object_ob_type, 24);
	assert_int_equal(l.object_ob_size, 32);
	assert_int_equal(l.type_tp_name, 40);
	assert_int_equal(l.tuple_ob_item, 48);
	assert_int_equal(l.unicode_length, 32);
	assert_int_equal(l.unicode_state, 48);
	assert_int_equal(l.unicode_ascii_data, 56);
	assert_int_equal(l.unicode_compact_data, OFF_NONE);
}

static void test_315(void **state)
{
	struct fx x;
	struct py_layout l;
	struct err e;

	(void)state;
	fx_init(&x, fields_315, NELEM(fields_315));
	assert_int_equal(parse_fx(&x, NULL, &l, &e), 0);
	assert_int_equal(l.version, 0x030f0200);
	assert_false(l.free_threaded);
	assert_int_equal(l.runtime_interpreters_head, 936);
	assert_int_equal(l.interp_next, 7264);
	assert_int_equal(l.interp_tstate_head, 7336);
	assert_int_equal(l.gil_locked, 16);
	assert_int_equal(l.gil_last_holder, 8);
	assert_int_equal(l.tstate_current_frame, 72);
	assert_int_equal(l.tstate_thread_id, 176);
	assert_int_equal(l.tstate_native_thread_id, 184);
	assert_int_equal(l.iframe_instr, 56);
	assert_int_equal(l.iframe_owner, 74);
	assert_int_equal(l.iframe_localsplus, 80);
	assert_int_equal(l.code_co_code_adaptive, 208);
	assert_int_equal(l.type_tp_flags, 168);
	assert_int_equal(l.tuple_ob_item, 32);
	assert_int_equal(l.unicode_ascii_data, 40);
	assert_int_equal(l.unicode_compact_data, 56);
}

/* Pre-releases with an older layout: 3.14.0a1 had the 3.13 struct, the
 * first 3.15 alphas the 3.14 one. */
static void test_prerelease_older_layouts(void **state)
{
	struct fx x;
	struct py_layout l;
	struct err e;

	(void)state;
	fx_init(&x, fields_313, NELEM(fields_313));
	fx_set(&x, "version", 0x030e00a1);
	assert_int_equal(parse_fx(&x, NULL, &l, &e), 0);
	assert_int_equal(l.version, 0x030e0000);
	assert_int_equal(l.code_co_filename, 112);

	fx_init(&x, fields_314t, NELEM(fields_314t));
	fx_set(&x, "version", 0x030f00a1);
	assert_int_equal(parse_fx(&x, NULL, &l, &e), 0);
	assert_int_equal(l.version, 0x030f0000);
	assert_true(l.free_threaded);
	assert_int_equal(l.code_co_filename, 136);
	assert_int_equal(l.unicode_compact_data, OFF_NONE);
}

/* --- bad buffers --------------------------------------------------------- */

static void test_bad_cookie(void **state)
{
	struct fx x;
	uint8_t buf[PY_DEBUG_OFFSETS_MAX_SIZE];
	struct py_layout l;
	struct err e;

	(void)state;
	fx_init(&x, fields_313, NELEM(fields_313));
	fx_build(&x, buf);
	buf[0] = 'X';
	err_clear(&e);
	assert_int_equal(py_layout_from_debug_offsets(buf, sizeof(buf), NULL,
						      &l, &e), SS_ECORRUPT);
	assert_int_equal(e.code, SS_ECORRUPT);
	assert_msg_has(&e, "xdebugpy");
}

static void test_too_short(void **state)
{
	struct fx x;
	uint8_t buf[PY_DEBUG_OFFSETS_MAX_SIZE];
	const size_t lens[] = { 0, 7, 8, 15, 100, 583 };
	struct py_layout l;
	struct err e;

	(void)state;
	fx_init(&x, fields_313, NELEM(fields_313));
	fx_build(&x, buf);
	for (size_t i = 0; i < NELEM(lens); i++) {
		/* Exact-size heap copy: ASan sees a read past the end. */
		uint8_t *p = malloc(lens[i] ? lens[i] : 1);

		assert_non_null(p);
		memcpy(p, buf, lens[i]);
		err_clear(&e);
		assert_int_equal(py_layout_from_debug_offsets(p, lens[i], NULL,
							      &l, &e),
				 SS_ECORRUPT);
		assert_msg_has(&e, "truncated");
		free(p);
	}
	/* Exactly the 3.13 struct is enough. */
	{
		uint8_t *p = malloc(584);

		assert_non_null(p);
		memcpy(p, buf, 584);
		assert_int_equal(py_layout_from_debug_offsets(p, 584, NULL,
							      &l, &e), 0);
		free(p);
	}
}

static void test_unknown_version(void **state)
{
	static const struct {
		uint64_t version;
		const char *shown;
	} cases[] = {
		{ 0x030c01f0, "3.12.1" },
		{ 0x030c00a7, "3.12.0a7" },
		{ 0x031000f0, "3.16.0" },
		{ 0x031000a1, "3.16.0a1" },
		{ 0x020712f0, "2.7.18" },
		{ 0x040000f0, "4.0.0" },
		{ 0x1000030d00f0ull, "0x1000030d00f0" },
	};
	struct fx x;
	struct py_layout l;
	struct err e;

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		fx_init(&x, fields_313, NELEM(fields_313));
		fx_set(&x, "version", cases[i].version);
		assert_int_equal(parse_fx(&x, NULL, &l, &e), SS_EVERSION);
		assert_int_equal(e.code, SS_EVERSION);
		assert_msg_has(&e, cases[i].shown);
	}
}

static void test_absurd_offset(void **state)
{
	static const struct {
		const struct fv *fields;
		size_t n;
		const char *field;
		uint64_t value;
	} cases[] = {
		{ fields_313, NELEM(fields_313), "code_object.filename", 1ull << 40 },
		{ fields_313, NELEM(fields_313), "code_object.filename", 208 },
		{ fields_313, NELEM(fields_313), "runtime_state.interpreters_head", 1u << 20 },
		{ fields_313, NELEM(fields_313), "thread_state.current_frame", UINT64_MAX },
		{ fields_313, NELEM(fields_313), "tuple_object.size", 0 },
		{ fields_313, NELEM(fields_313), "interpreter_state.size", 1ull << 33 },
		{ fields_313, NELEM(fields_313), "free_threaded", 2 },
		{ fields_313, NELEM(fields_313), "pyobject.ob_type", 0 },
		{ fields_313, NELEM(fields_313), "interpreter_frame.localsplus", 64 },
		{ fields_313, NELEM(fields_313), "unicode_object.asciiobject_size", 0 },
		{ fields_314t, NELEM(fields_314t), "interpreter_frame.instr_ptr", 1ull << 32 },
		{ fields_314t, NELEM(fields_314t), "llist_node.prev", 16 },
		{ fields_315, NELEM(fields_315), "thread_state.current_frame", 1ull << 36 },
		{ fields_315, NELEM(fields_315), "code_object.qualname", 4096 },
		{ fields_315, NELEM(fields_315), "unicode_object.compactunicodeobject_size", 8 },
	};
	struct fx x;
	struct py_layout l;
	struct err e;
	char name[96];

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		fx_init(&x, cases[i].fields, cases[i].n);
		fx_set(&x, cases[i].field, cases[i].value);
		assert_int_equal(parse_fx(&x, NULL, &l, &e), SS_ECORRUPT);
		assert_int_equal(e.code, SS_ECORRUPT);
		/* The message names the field (the group for "size"). */
		snprintf(name, sizeof(name), "%s", cases[i].field);
		if (strstr(name, ".size"))
			*strstr(name, ".size") = '\0';
		assert_msg_has(&e, name);
	}
}

/* A pre-release whose struct matches no known layout is a version
 * problem, not corruption. */
static void test_prerelease_unknown_layout(void **state)
{
	struct fx x;
	struct py_layout l;
	struct err e;

	(void)state;
	fx_init(&x, fields_313, NELEM(fields_313));
	fx_set(&x, "version", 0x030f00a3);
	assert_int_equal(parse_fx(&x, NULL, &l, &e), SS_EVERSION);
	assert_msg_has(&e, "3.15.0a3");
	/* The same bytes as a final release: corruption. */
	fx_set(&x, "version", 0x030f00f0);
	assert_int_equal(parse_fx(&x, NULL, &l, &e), SS_ECORRUPT);
}

/* --- robustness ---------------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void check_result(int rc, const struct py_layout *l,
			 const struct err *e)
{
	if (rc == 0) {
#define X(g, f) assert_true(l->g##_##f == OFF_NONE || \
			    (l->g##_##f >= 0 && \
			     l->g##_##f < (int32_t)PY_DEBUG_OFFSETS_MAX_OFFSET));
		PY_LAYOUT_FIELDS(X)
#undef X
		return;
	}
	assert_true(rc == SS_ECORRUPT || rc == SS_EVERSION);
	assert_int_equal(e->code, rc);
	assert_true(e->msg[0] != '\0');
}

static void test_random_bytes(void **state)
{
	static const struct {
		const struct fv *f;
		size_t n;
	} bases[] = {
		{ fields_313, NELEM(fields_313) },
		{ fields_314t, NELEM(fields_314t) },
		{ fields_315, NELEM(fields_315) },
	};
	uint8_t buf[PY_DEBUG_OFFSETS_MAX_SIZE];
	struct py_layout l;
	struct err e;
	struct fx x;

	(void)state;
	for (int iter = 0; iter < 20000; iter++) {
		size_t len = sizeof(buf);
		int rc;

		switch (iter % 4) {
		case 0:         /* noise */
			for (size_t i = 0; i < sizeof(buf); i++)
				buf[i] = (uint8_t)rnd();
			break;
		case 1:         /* noise after a good header */
			for (size_t i = 0; i < sizeof(buf); i++)
				buf[i] = (uint8_t)rnd();
			memcpy(buf, "xdebugpy", 8);
			{
				uint64_t v = 0x030d0000 +
					     ((rnd() % 3) << 16) + (rnd() & 0xff);

				memcpy(buf + 8, &v, 8);
			}
			break;
		default:        /* a good struct with a few values broken */
			fx_init(&x, bases[iter % 3].f, bases[iter % 3].n);
			fx_build(&x, buf);
			for (int k = 0; k < 1 + (int)(rnd() % 3); k++) {
				size_t at = 16 + 8 * (rnd() % (x.n - 1));
				uint64_t v = rnd();

				if (rnd() & 1)
					v &= 0xfff;
				memcpy(buf + at, &v, 8);
			}
			if (rnd() % 8 == 0)
				len = rnd() % sizeof(buf);
			break;
		}
		{
			uint8_t *p = malloc(len ? len : 1);

			assert_non_null(p);
			memcpy(p, buf, len);
			err_clear(&e);
			rc = py_layout_from_debug_offsets(p, len, NULL, &l, &e);
			free(p);
		}
		check_result(rc, &l, &e);
	}
}

/* --- compare ------------------------------------------------------------- */

static void test_compare(void **state)
{
	struct fx x;
	struct py_layout a, b;
	struct err e;
	char report[256];

	(void)state;
	fx_init(&x, fields_313, NELEM(fields_313));
	assert_int_equal(parse_fx(&x, NULL, &a, &e), 0);
	b = a;
	memset(report, 'z', sizeof(report));
	assert_int_equal(py_layout_compare(&a, &b, report, sizeof(report)), 0);
	assert_string_equal(report, "");

	b.code_co_filename = 104;
	b.tstate_thread_id = 144;
	b.code_co_flags = 48;           /* only b has it: not compared */
	b.iframe_owner = OFF_NONE;      /* only a has it: not compared */
	assert_int_equal(py_layout_compare(&a, &b, report, sizeof(report)), 2);
	assert_string_equal(report,
			    "tstate_thread_id: debug_offsets=152 table=144\n"
			    "code_co_filename: debug_offsets=112 table=104\n");

	b.free_threaded = true;
	assert_int_equal(py_layout_compare(&a, &b, report, sizeof(report)), 3);
	assert_non_null(strstr(report, "free_threaded: debug_offsets=0 table=1\n"));

	/* Bounded: truncated but terminated, count still right. */
	memset(report, 'z', sizeof(report));
	assert_int_equal(py_layout_compare(&a, &b, report, 20), 3);
	assert_int_equal(strlen(report), 19);
	assert_int_equal(report[20], 'z');
	assert_int_equal(py_layout_compare(&a, &b, NULL, 0), 3);
	report[0] = 'z';
	assert_int_equal(py_layout_compare(&a, &b, report, 1), 3);
	assert_int_equal(report[0], '\0');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_313),
		cmocka_unit_test(test_313_fallback),
		cmocka_unit_test(test_fallback_wrong_build_ignored),
		cmocka_unit_test(test_314_free_threaded),
		cmocka_unit_test(test_315),
		cmocka_unit_test(test_prerelease_older_layouts),
		cmocka_unit_test(test_bad_cookie),
		cmocka_unit_test(test_too_short),
		cmocka_unit_test(test_unknown_version),
		cmocka_unit_test(test_absurd_offset),
		cmocka_unit_test(test_prerelease_unknown_layout),
		cmocka_unit_test(test_random_bytes),
		cmocka_unit_test(test_compare),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
