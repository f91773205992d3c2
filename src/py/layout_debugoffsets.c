/* struct py_layout from the target's _Py_DebugOffsets (CPython 3.13+).
 *
 * The struct is a flat run of uint64 values after an 8-byte cookie.  Each
 * known layout is described below as the ordered list of its fields; the
 * reader tries every layout of the target's minor version (newest first)
 * and keeps the first one whose values pass all checks.  See
 * layout_debugoffsets.h for where the layouts come from.
 */
#include "py/layout_debugoffsets.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define COOKIE "xdebugpy"
#define COOKIE_LEN 8

/* Groups of _Py_DebugOffsets, named as in CPython. */
#define DGROUPS(X)                                                             \
	X(HDR, "")                                                             \
	X(RUNTIME, "runtime_state")                                            \
	X(INTERP, "interpreter_state")                                         \
	X(TSTATE, "thread_state")                                              \
	X(ERR, "err_stackitem")                                                \
	X(IFRAME, "interpreter_frame")                                         \
	X(CODE, "code_object")                                                 \
	X(PYOBJ, "pyobject")                                                   \
	X(TYPE, "type_object")                                                 \
	X(HEAPTYPE, "heap_type_object")                                        \
	X(TUPLE, "tuple_object")                                               \
	X(LIST, "list_object")                                                 \
	X(SET, "set_object")                                                   \
	X(DICT, "dict_object")                                                 \
	X(FLOAT, "float_object")                                               \
	X(LONG, "long_object")                                                 \
	X(BYTES, "bytes_object")                                               \
	X(UNICODE, "unicode_object")                                           \
	X(GC, "gc")                                                            \
	X(GEN, "gen_object")                                                   \
	X(LLIST, "llist_node")                                                 \
	X(DBG, "debugger_support")

enum dgroup {
#define X(id, name) G_##id,
	DGROUPS(X)
#undef X
	G_COUNT
};

static const char *const group_names[G_COUNT] = {
#define X(id, name) [G_##id] = name,
	DGROUPS(X)
#undef X
};

/* What a value is, for checking:
 *   K_HDR   version or free_threaded, checked on their own;
 *   K_SIZE  sizeof a struct: nonzero, at most PY_DEBUG_OFFSETS_MAX_STRUCT;
 *   K_OFF   an offset inside the group's own struct: below the group's
 *           size and PY_DEBUG_OFFSETS_MAX_OFFSET;
 *   K_EXT   an offset into another struct, the size of a part, or a
 *           constant: below PY_DEBUG_OFFSETS_MAX_OFFSET only. */
enum dkind { K_HDR, K_SIZE, K_OFF, K_EXT };

/* Every field any known layout has: X(id, group, name, kind). */
#define DFIELDS(X)                                                             \
	X(VERSION, HDR, version, K_HDR)                                        \
	X(FREE_THREADED, HDR, free_threaded, K_HDR)                            \
	X(RT_SIZE, RUNTIME, size, K_SIZE)                                      \
	X(RT_FINALIZING, RUNTIME, finalizing, K_OFF)                           \
	X(RT_INTERPRETERS_HEAD, RUNTIME, interpreters_head, K_OFF)             \
	X(IS_SIZE, INTERP, size, K_SIZE)                                       \
	X(IS_ID, INTERP, id, K_OFF)                                            \
	X(IS_NEXT, INTERP, next, K_OFF)                                        \
	X(IS_THREADS_HEAD, INTERP, threads_head, K_OFF)                        \
	X(IS_THREADS_MAIN, INTERP, threads_main, K_OFF)                        \
	X(IS_GC, INTERP, gc, K_OFF)                                            \
	X(IS_IMPORTS_MODULES, INTERP, imports_modules, K_OFF)                  \
	X(IS_SYSDICT, INTERP, sysdict, K_OFF)                                  \
	X(IS_BUILTINS, INTERP, builtins, K_OFF)                                \
	X(IS_CEVAL_GIL, INTERP, ceval_gil, K_OFF)                              \
	X(IS_GIL_RUNTIME_STATE, INTERP, gil_runtime_state, K_OFF)              \
	X(IS_GIL_ENABLED, INTERP, gil_runtime_state_enabled, K_EXT)            \
	X(IS_GIL_LOCKED, INTERP, gil_runtime_state_locked, K_OFF)              \
	X(IS_GIL_HOLDER, INTERP, gil_runtime_state_holder, K_OFF)              \
	X(IS_CODE_OBJECT_GENERATION, INTERP, code_object_generation, K_OFF)    \
	X(IS_TLBC_GENERATION, INTERP, tlbc_generation, K_OFF)                  \
	X(TS_SIZE, TSTATE, size, K_SIZE)                                       \
	X(TS_PREV, TSTATE, prev, K_OFF)                                        \
	X(TS_NEXT, TSTATE, next, K_OFF)                                        \
	X(TS_INTERP, TSTATE, interp, K_OFF)                                    \
	X(TS_CURRENT_FRAME, TSTATE, current_frame, K_OFF)                      \
	X(TS_BASE_FRAME, TSTATE, base_frame, K_EXT)                            \
	X(TS_LAST_PROFILED_FRAME, TSTATE, last_profiled_frame, K_EXT)          \
	X(TS_LAST_PROFILED_FRAME_SEQ, TSTATE, last_profiled_frame_seq, K_EXT)  \
	X(TS_THREAD_ID, TSTATE, thread_id, K_OFF)                              \
	X(TS_NATIVE_THREAD_ID, TSTATE, native_thread_id, K_OFF)                \
	X(TS_DATASTACK_CHUNK, TSTATE, datastack_chunk, K_OFF)                  \
	X(TS_STATUS, TSTATE, status, K_OFF)                                    \
	X(TS_HOLDS_GIL, TSTATE, holds_gil, K_EXT)                              \
	X(TS_GIL_REQUESTED, TSTATE, gil_requested, K_EXT)                      \
	X(TS_CURRENT_EXCEPTION, TSTATE, current_exception, K_EXT)              \
	X(TS_EXC_STATE, TSTATE, exc_state, K_EXT)                              \
	X(ERR_EXC_VALUE, ERR, exc_value, K_EXT)                                \
	X(IF_SIZE, IFRAME, size, K_SIZE)                                       \
	X(IF_PREVIOUS, IFRAME, previous, K_OFF)                                \
	X(IF_EXECUTABLE, IFRAME, executable, K_OFF)                            \
	X(IF_INSTR_PTR, IFRAME, instr_ptr, K_OFF)                              \
	X(IF_LOCALSPLUS, IFRAME, localsplus, K_OFF)                            \
	X(IF_OWNER, IFRAME, owner, K_OFF)                                      \
	X(IF_STACKPOINTER, IFRAME, stackpointer, K_OFF)                        \
	X(IF_TLBC_INDEX, IFRAME, tlbc_index, K_OFF)                            \
	X(CO_SIZE, CODE, size, K_SIZE)                                         \
	X(CO_FILENAME, CODE, filename, K_OFF)                                  \
	X(CO_NAME, CODE, name, K_OFF)                                          \
	X(CO_QUALNAME, CODE, qualname, K_OFF)                                  \
	X(CO_LINETABLE, CODE, linetable, K_OFF)                                \
	X(CO_FIRSTLINENO, CODE, firstlineno, K_OFF)                            \
	X(CO_ARGCOUNT, CODE, argcount, K_OFF)                                  \
	X(CO_LOCALSPLUSNAMES, CODE, localsplusnames, K_OFF)                    \
	X(CO_LOCALSPLUSKINDS, CODE, localspluskinds, K_OFF)                    \
	X(CO_CODE_ADAPTIVE, CODE, co_code_adaptive, K_OFF)                     \
	X(CO_TLBC, CODE, co_tlbc, K_OFF)                                       \
	X(OB_SIZE, PYOBJ, size, K_SIZE)                                        \
	X(OB_TYPE, PYOBJ, ob_type, K_OFF)                                      \
	X(TP_SIZE, TYPE, size, K_SIZE)                                         \
	X(TP_NAME, TYPE, tp_name, K_OFF)                                       \
	X(TP_REPR, TYPE, tp_repr, K_OFF)                                       \
	X(TP_FLAGS, TYPE, tp_flags, K_OFF)                                     \
	X(TP_BASICSIZE, TYPE, tp_basicsize, K_OFF)                             \
	X(TP_DICTOFFSET, TYPE, tp_dictoffset, K_OFF)                           \
	X(HT_SIZE, HEAPTYPE, size, K_SIZE)                                     \
	X(HT_CACHED_KEYS, HEAPTYPE, ht_cached_keys, K_OFF)                     \
	X(TUPLE_SIZE, TUPLE, size, K_SIZE)                                     \
	X(TUPLE_OB_ITEM, TUPLE, ob_item, K_OFF)                                \
	X(TUPLE_OB_SIZE, TUPLE, ob_size, K_OFF)                                \
	X(LIST_SIZE, LIST, size, K_SIZE)                                       \
	X(LIST_OB_ITEM, LIST, ob_item, K_OFF)                                  \
	X(LIST_OB_SIZE, LIST, ob_size, K_OFF)                                  \
	X(SET_SIZE, SET, size, K_SIZE)                                         \
	X(SET_USED, SET, used, K_OFF)                                          \
	X(SET_TABLE, SET, table, K_OFF)                                        \
	X(SET_MASK, SET, mask, K_OFF)                                          \
	X(DICT_SIZE, DICT, size, K_SIZE)                                       \
	X(DICT_MA_KEYS, DICT, ma_keys, K_OFF)                                  \
	X(DICT_MA_VALUES, DICT, ma_values, K_OFF)                              \
	X(FLOAT_SIZE, FLOAT, size, K_SIZE)                                     \
	X(FLOAT_OB_FVAL, FLOAT, ob_fval, K_OFF)                                \
	X(LONG_SIZE, LONG, size, K_SIZE)                                       \
	X(LONG_LV_TAG, LONG, lv_tag, K_OFF)                                    \
	X(LONG_OB_DIGIT, LONG, ob_digit, K_OFF)                                \
	X(BYTES_SIZE, BYTES, size, K_SIZE)                                     \
	X(BYTES_OB_SIZE, BYTES, ob_size, K_OFF)                                \
	X(BYTES_OB_SVAL, BYTES, ob_sval, K_OFF)                                \
	X(UNI_SIZE, UNICODE, size, K_SIZE)                                     \
	X(UNI_STATE, UNICODE, state, K_OFF)                                    \
	X(UNI_LENGTH, UNICODE, length, K_OFF)                                  \
	X(UNI_ASCII_SIZE, UNICODE, asciiobject_size, K_EXT)                    \
	X(UNI_COMPACT_SIZE, UNICODE, compactunicodeobject_size, K_EXT)         \
	X(GC_SIZE, GC, size, K_SIZE)                                           \
	X(GC_COLLECTING, GC, collecting, K_OFF)                                \
	X(GC_FRAME, GC, frame, K_OFF)                                          \
	X(GC_GEN_STATS_SIZE, GC, generation_stats_size, K_EXT)                 \
	X(GC_GEN_STATS, GC, generation_stats, K_OFF)                           \
	X(GEN_SIZE, GEN, size, K_SIZE)                                         \
	X(GEN_GI_NAME, GEN, gi_name, K_OFF)                                    \
	X(GEN_GI_IFRAME, GEN, gi_iframe, K_OFF)                                \
	X(GEN_GI_FRAME_STATE, GEN, gi_frame_state, K_OFF)                      \
	X(LL_NEXT, LLIST, next, K_EXT)                                         \
	X(LL_PREV, LLIST, prev, K_EXT)                                         \
	X(DBG_EVAL_BREAKER, DBG, eval_breaker, K_EXT)                          \
	X(DBG_REMOTE_DEBUGGER_SUPPORT, DBG, remote_debugger_support, K_EXT)    \
	X(DBG_REMOTE_DEBUGGING_ENABLED, DBG, remote_debugging_enabled, K_EXT)  \
	X(DBG_PENDING_CALL, DBG, debugger_pending_call, K_EXT)                 \
	X(DBG_SCRIPT_PATH, DBG, debugger_script_path, K_EXT)                   \
	X(DBG_SCRIPT_PATH_SIZE, DBG, debugger_script_path_size, K_EXT)

enum dfield {
#define X(id, grp, name, kind) F_##id,
	DFIELDS(X)
#undef X
	F_COUNT
};

_Static_assert(F_COUNT < 256, "field ids must fit in uint8_t");

struct dfield_info {
	uint8_t group;
	uint8_t kind;
	const char *name;
};

static const struct dfield_info fields[F_COUNT] = {
#define X(id, grp, nm, k) [F_##id] = { .group = G_##grp, .kind = k, .name = #nm },
	DFIELDS(X)
#undef X
};

/* The size field of each group that has one. */
static const int16_t group_size_field[G_COUNT] = {
	[G_HDR] = -1,
	[G_RUNTIME] = F_RT_SIZE,
	[G_INTERP] = F_IS_SIZE,
	[G_TSTATE] = F_TS_SIZE,
	[G_ERR] = -1,
	[G_IFRAME] = F_IF_SIZE,
	[G_CODE] = F_CO_SIZE,
	[G_PYOBJ] = F_OB_SIZE,
	[G_TYPE] = F_TP_SIZE,
	[G_HEAPTYPE] = F_HT_SIZE,
	[G_TUPLE] = F_TUPLE_SIZE,
	[G_LIST] = F_LIST_SIZE,
	[G_SET] = F_SET_SIZE,
	[G_DICT] = F_DICT_SIZE,
	[G_FLOAT] = F_FLOAT_SIZE,
	[G_LONG] = F_LONG_SIZE,
	[G_BYTES] = F_BYTES_SIZE,
	[G_UNICODE] = F_UNI_SIZE,
	[G_GC] = F_GC_SIZE,
	[G_GEN] = F_GEN_SIZE,
	[G_LLIST] = -1,
	[G_DBG] = -1,
};

/* Groups as they appear in the known layouts. */
#define L_HDR F_VERSION, F_FREE_THREADED
#define L_RUNTIME F_RT_SIZE, F_RT_FINALIZING, F_RT_INTERPRETERS_HEAD
#define L_INTERP_HEAD F_IS_SIZE, F_IS_ID, F_IS_NEXT, F_IS_THREADS_HEAD
#define L_INTERP_TAIL                                                          \
	F_IS_GC, F_IS_IMPORTS_MODULES, F_IS_SYSDICT, F_IS_BUILTINS,            \
		F_IS_CEVAL_GIL, F_IS_GIL_RUNTIME_STATE, F_IS_GIL_ENABLED,      \
		F_IS_GIL_LOCKED, F_IS_GIL_HOLDER
#define L_INTERP_313 L_INTERP_HEAD, L_INTERP_TAIL
#define L_INTERP_314PRE L_INTERP_HEAD, F_IS_THREADS_MAIN, L_INTERP_TAIL
#define L_INTERP_314                                                           \
	L_INTERP_314PRE, F_IS_CODE_OBJECT_GENERATION, F_IS_TLBC_GENERATION
#define L_TSTATE_HEAD F_TS_SIZE, F_TS_PREV, F_TS_NEXT, F_TS_INTERP, F_TS_CURRENT_FRAME
#define L_TSTATE_MID                                                           \
	F_TS_THREAD_ID, F_TS_NATIVE_THREAD_ID, F_TS_DATASTACK_CHUNK, F_TS_STATUS
#define L_TSTATE_313 L_TSTATE_HEAD, L_TSTATE_MID
#define L_TSTATE_315_TAIL                                                      \
	F_TS_HOLDS_GIL, F_TS_GIL_REQUESTED, F_TS_CURRENT_EXCEPTION, F_TS_EXC_STATE
#define L_TSTATE_315A                                                          \
	L_TSTATE_HEAD, F_TS_BASE_FRAME, F_TS_LAST_PROFILED_FRAME,              \
		L_TSTATE_MID, L_TSTATE_315_TAIL
#define L_TSTATE_315B                                                          \
	L_TSTATE_HEAD, F_TS_BASE_FRAME, F_TS_LAST_PROFILED_FRAME,              \
		F_TS_LAST_PROFILED_FRAME_SEQ, L_TSTATE_MID, L_TSTATE_315_TAIL
#define L_ERR F_ERR_EXC_VALUE
#define L_IFRAME_313                                                           \
	F_IF_SIZE, F_IF_PREVIOUS, F_IF_EXECUTABLE, F_IF_INSTR_PTR,             \
		F_IF_LOCALSPLUS, F_IF_OWNER
#define L_IFRAME_314PRE L_IFRAME_313, F_IF_STACKPOINTER
#define L_IFRAME_314 L_IFRAME_314PRE, F_IF_TLBC_INDEX
#define L_CODE_313                                                             \
	F_CO_SIZE, F_CO_FILENAME, F_CO_NAME, F_CO_QUALNAME, F_CO_LINETABLE,    \
		F_CO_FIRSTLINENO, F_CO_ARGCOUNT, F_CO_LOCALSPLUSNAMES,         \
		F_CO_LOCALSPLUSKINDS, F_CO_CODE_ADAPTIVE
#define L_CODE_314 L_CODE_313, F_CO_TLBC
#define L_PYOBJ F_OB_SIZE, F_OB_TYPE
#define L_TYPE_313 F_TP_SIZE, F_TP_NAME, F_TP_REPR, F_TP_FLAGS
#define L_TYPE_315B L_TYPE_313, F_TP_BASICSIZE, F_TP_DICTOFFSET
#define L_HEAPTYPE F_HT_SIZE, F_HT_CACHED_KEYS
#define L_TUPLE F_TUPLE_SIZE, F_TUPLE_OB_ITEM, F_TUPLE_OB_SIZE
#define L_LIST F_LIST_SIZE, F_LIST_OB_ITEM, F_LIST_OB_SIZE
#define L_SET F_SET_SIZE, F_SET_USED, F_SET_TABLE, F_SET_MASK
#define L_DICT F_DICT_SIZE, F_DICT_MA_KEYS, F_DICT_MA_VALUES
#define L_FLOAT F_FLOAT_SIZE, F_FLOAT_OB_FVAL
#define L_LONG F_LONG_SIZE, F_LONG_LV_TAG, F_LONG_OB_DIGIT
#define L_BYTES F_BYTES_SIZE, F_BYTES_OB_SIZE, F_BYTES_OB_SVAL
#define L_UNICODE_313 F_UNI_SIZE, F_UNI_STATE, F_UNI_LENGTH, F_UNI_ASCII_SIZE
#define L_UNICODE_315B L_UNICODE_313, F_UNI_COMPACT_SIZE
#define L_GC_313 F_GC_SIZE, F_GC_COLLECTING
#define L_GC_315A L_GC_313, F_GC_FRAME
#define L_GC_315B L_GC_315A, F_GC_GEN_STATS_SIZE, F_GC_GEN_STATS
#define L_GEN F_GEN_SIZE, F_GEN_GI_NAME, F_GEN_GI_IFRAME, F_GEN_GI_FRAME_STATE
#define L_LLIST F_LL_NEXT, F_LL_PREV
#define L_DBG                                                                  \
	F_DBG_EVAL_BREAKER, F_DBG_REMOTE_DEBUGGER_SUPPORT,                     \
		F_DBG_REMOTE_DEBUGGING_ENABLED, F_DBG_PENDING_CALL,            \
		F_DBG_SCRIPT_PATH, F_DBG_SCRIPT_PATH_SIZE

/* 3.13 final (pycore_runtime.h, 3.13.0 to 3.13.18); also the first 3.14
 * alphas. */
static const uint8_t layout_313[] = {
	L_HDR, L_RUNTIME, L_INTERP_313, L_TSTATE_313, L_IFRAME_313, L_CODE_313,
	L_PYOBJ, L_TYPE_313, L_TUPLE, L_LIST, L_DICT, L_FLOAT, L_LONG, L_BYTES,
	L_UNICODE_313, L_GC_313,
};

/* 3.14 pre-release: + stackpointer, set_object, gen_object. */
static const uint8_t layout_314_pre1[] = {
	L_HDR, L_RUNTIME, L_INTERP_313, L_TSTATE_313, L_IFRAME_314PRE,
	L_CODE_313, L_PYOBJ, L_TYPE_313, L_TUPLE, L_LIST, L_SET, L_DICT,
	L_FLOAT, L_LONG, L_BYTES, L_UNICODE_313, L_GC_313, L_GEN,
};

/* 3.14 pre-release: + threads_main, debugger_support (PEP 768). */
static const uint8_t layout_314_pre2[] = {
	L_HDR, L_RUNTIME, L_INTERP_314PRE, L_TSTATE_313, L_IFRAME_314PRE,
	L_CODE_313, L_PYOBJ, L_TYPE_313, L_TUPLE, L_LIST, L_SET, L_DICT,
	L_FLOAT, L_LONG, L_BYTES, L_UNICODE_313, L_GC_313, L_GEN, L_DBG,
};

/* 3.14 final (pycore_debug_offsets.h, 3.14.10); also early 3.15 alphas. */
static const uint8_t layout_314[] = {
	L_HDR, L_RUNTIME, L_INTERP_314, L_TSTATE_313, L_IFRAME_314, L_CODE_314,
	L_PYOBJ, L_TYPE_313, L_TUPLE, L_LIST, L_SET, L_DICT, L_FLOAT, L_LONG,
	L_BYTES, L_UNICODE_313, L_GC_313, L_GEN, L_LLIST, L_DBG,
};

/* 3.15 development: + base_frame, profiler fields, err_stackitem, gc.frame. */
static const uint8_t layout_315a[] = {
	L_HDR, L_RUNTIME, L_INTERP_314, L_TSTATE_315A, L_ERR, L_IFRAME_314,
	L_CODE_314, L_PYOBJ, L_TYPE_313, L_TUPLE, L_LIST, L_SET, L_DICT,
	L_FLOAT, L_LONG, L_BYTES, L_UNICODE_313, L_GC_315A, L_GEN, L_LLIST,
	L_DBG,
};

/* 3.15 final (3.15.2): + last_profiled_frame_seq, tp_basicsize,
 * tp_dictoffset, heap_type_object, compactunicodeobject_size, gc stats. */
static const uint8_t layout_315b[] = {
	L_HDR, L_RUNTIME, L_INTERP_314, L_TSTATE_315B, L_ERR, L_IFRAME_314,
	L_CODE_314, L_PYOBJ, L_TYPE_315B, L_HEAPTYPE, L_TUPLE, L_LIST, L_SET,
	L_DICT, L_FLOAT, L_LONG, L_BYTES, L_UNICODE_315B, L_GC_315B, L_GEN,
	L_LLIST, L_DBG,
};

struct dlayout {
	const char *name;
	unsigned minor;
	const uint8_t *f;
	size_t n;
};

#define LAYOUT(nm, minor, arr) { nm, minor, arr, sizeof(arr) / sizeof(arr[0]) }

/* Per minor version, newest first: the first is what a final release of
 * that minor version has (as far as known). */
static const struct dlayout layouts[] = {
	LAYOUT("3.13", 13, layout_313),
	LAYOUT("3.14", 14, layout_314),
	LAYOUT("3.14 pre-release 2", 14, layout_314_pre2),
	LAYOUT("3.14 pre-release 1", 14, layout_314_pre1),
	LAYOUT("3.13 (early 3.14 alpha)", 14, layout_313),
	LAYOUT("3.15", 15, layout_315b),
	LAYOUT("3.15 pre-release", 15, layout_315a),
	LAYOUT("3.14 (early 3.15 alpha)", 15, layout_314),
};

#define LAYOUT_BYTES(n) (COOKIE_LEN + 8 * (n))

_Static_assert(LAYOUT_BYTES(sizeof(layout_315b)) <= PY_DEBUG_OFFSETS_MAX_SIZE,
	       "PY_DEBUG_OFFSETS_MAX_SIZE too small");

struct dvalues {
	uint64_t v[F_COUNT];
	bool has[F_COUNT];
};

static uint64_t load_u64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static void format_version(uint64_t v, char *s, size_t n)
{
	static const char *const level[16] = {
		[0xa] = "a", [0xb] = "b", [0xc] = "rc",
	};
	unsigned lv = (v >> 4) & 0xf;

	if (v > UINT32_MAX) {
		snprintf(s, n, "0x%" PRIx64, v);
		return;
	}
	if (lv == 0xf || !level[lv])
		snprintf(s, n, "%u.%u.%u", (unsigned)(v >> 24) & 0xff,
			 (unsigned)(v >> 16) & 0xff, (unsigned)(v >> 8) & 0xff);
	else
		snprintf(s, n, "%u.%u.%u%s%u", (unsigned)(v >> 24) & 0xff,
			 (unsigned)(v >> 16) & 0xff, (unsigned)(v >> 8) & 0xff,
			 level[lv], (unsigned)v & 0xf);
}

/* Why a layout did not fit, for the error message. */
struct why {
	bool truncated;
	char msg[512];
};

static int reject(struct why *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int reject(struct why *w, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->msg, sizeof(w->msg), fmt, ap);
	va_end(ap);
	return SS_ECORRUPT;
}

#define FNAME(id) group_names[fields[id].group], fields[id].name

static int check_fields(const struct dvalues *d, struct why *w)
{
	for (int i = 0; i < F_COUNT; i++) {
		const struct dfield_info *fi = &fields[i];
		uint64_t v = d->v[i];
		int sz;

		if (!d->has[i])
			continue;
		switch (fi->kind) {
		case K_SIZE:
			if (v == 0 || v > PY_DEBUG_OFFSETS_MAX_STRUCT)
				return reject(w, "%s.%s = %" PRIu64
					      " is not a plausible size",
					      FNAME(i), v);
			break;
		case K_OFF:
			if (v >= PY_DEBUG_OFFSETS_MAX_OFFSET)
				return reject(w, "%s.%s = %" PRIu64
					      " is not a plausible offset",
					      FNAME(i), v);
			sz = group_size_field[fi->group];
			if (sz >= 0 && d->has[sz] && v >= d->v[sz])
				return reject(w, "%s.%s = %" PRIu64
					      " is not below %s.size = %" PRIu64,
					      FNAME(i), v,
					      group_names[fi->group], d->v[sz]);
			break;
		case K_EXT:
			if (v >= PY_DEBUG_OFFSETS_MAX_OFFSET)
				return reject(w, "%s.%s = %" PRIu64
					      " is not a plausible offset",
					      FNAME(i), v);
			break;
		default:
			break;
		}
	}
	return 0;
}

/* Invariants that hold for every build (release, debug, free-threaded,
 * trace-refs) and catch a buffer read with the wrong layout. */
static int check_invariants(const struct dvalues *d, struct why *w)
{
	const uint64_t *v = d->v;
	uint64_t head = v[F_OB_SIZE];

	if (v[F_FREE_THREADED] > 1)
		return reject(w, "free_threaded = %" PRIu64 " is not 0 or 1",
			      v[F_FREE_THREADED]);
	/* PyObject ends with ob_type; PyVarObject adds ob_size after it. */
	if (head < 16 || head % 8 || v[F_OB_TYPE] + 8 != head)
		return reject(w, "pyobject.ob_type = %" PRIu64 " does not end "
			      "pyobject.size = %" PRIu64, v[F_OB_TYPE], head);
	if (v[F_TP_NAME] != head + 8 || v[F_TP_REPR] <= v[F_TP_NAME] ||
	    v[F_TP_FLAGS] <= v[F_TP_REPR])
		return reject(w, "type_object.tp_name = %" PRIu64 " does not "
			      "follow the object header (%" PRIu64 " bytes)",
			      v[F_TP_NAME], head);
	if (v[F_TUPLE_OB_SIZE] != head || v[F_LIST_OB_SIZE] != head ||
	    v[F_BYTES_OB_SIZE] != head)
		return reject(w, "tuple_object.ob_size = %" PRIu64 " does not "
			      "follow the object header (%" PRIu64 " bytes)",
			      v[F_TUPLE_OB_SIZE], head);
	if (v[F_TUPLE_OB_ITEM] <= head || v[F_BYTES_OB_SVAL] <= head)
		return reject(w, "tuple_object.ob_item = %" PRIu64 " is inside "
			      "the object header", v[F_TUPLE_OB_ITEM]);
	/* PyASCIIObject: header, length, hash, state; the data follows. */
	if (v[F_UNI_LENGTH] != head || v[F_UNI_STATE] <= v[F_UNI_LENGTH] ||
	    v[F_UNI_ASCII_SIZE] <= v[F_UNI_STATE] ||
	    v[F_UNI_ASCII_SIZE] > v[F_UNI_SIZE])
		return reject(w, "unicode_object.asciiobject_size = %" PRIu64
			      " does not fit length = %" PRIu64 ", state = %"
			      PRIu64 ", size = %" PRIu64, v[F_UNI_ASCII_SIZE],
			      v[F_UNI_LENGTH], v[F_UNI_STATE], v[F_UNI_SIZE]);
	if (d->has[F_UNI_COMPACT_SIZE] &&
	    (v[F_UNI_COMPACT_SIZE] <= v[F_UNI_ASCII_SIZE] ||
	     v[F_UNI_COMPACT_SIZE] > v[F_UNI_SIZE]))
		return reject(w, "unicode_object.compactunicodeobject_size = %"
			      PRIu64 " does not fit asciiobject_size = %" PRIu64
			      ", size = %" PRIu64, v[F_UNI_COMPACT_SIZE],
			      v[F_UNI_ASCII_SIZE], v[F_UNI_SIZE]);
	/* _PyInterpreterFrame ends with localsplus[1], PyCodeObject with
	 * co_code_adaptive[]. */
	if (v[F_IF_LOCALSPLUS] + 8 != v[F_IF_SIZE])
		return reject(w, "interpreter_frame.localsplus = %" PRIu64
			      " does not end interpreter_frame.size = %" PRIu64,
			      v[F_IF_LOCALSPLUS], v[F_IF_SIZE]);
	if (v[F_CO_SIZE] > v[F_CO_CODE_ADAPTIVE] + 16)
		return reject(w, "code_object.co_code_adaptive = %" PRIu64
			      " does not end code_object.size = %" PRIu64,
			      v[F_CO_CODE_ADAPTIVE], v[F_CO_SIZE]);
	/* The GIL fields lie inside the interpreter's own _gil. */
	if (v[F_IS_GIL_LOCKED] < v[F_IS_GIL_RUNTIME_STATE] ||
	    v[F_IS_GIL_LOCKED] - v[F_IS_GIL_RUNTIME_STATE] >= 256 ||
	    v[F_IS_GIL_HOLDER] < v[F_IS_GIL_RUNTIME_STATE] ||
	    v[F_IS_GIL_HOLDER] - v[F_IS_GIL_RUNTIME_STATE] >= 256)
		return reject(w, "interpreter_state.gil_runtime_state_locked = %"
			      PRIu64 " / _holder = %" PRIu64 " are not inside "
			      "gil_runtime_state = %" PRIu64,
			      v[F_IS_GIL_LOCKED], v[F_IS_GIL_HOLDER],
			      v[F_IS_GIL_RUNTIME_STATE]);
	if (d->has[F_LL_NEXT] && (v[F_LL_NEXT] != 0 || v[F_LL_PREV] != 8))
		return reject(w, "llist_node.next = %" PRIu64 ", llist_node.prev"
			      " = %" PRIu64 " (expected 0 and 8)",
			      v[F_LL_NEXT], v[F_LL_PREV]);
	if (d->has[F_DBG_SCRIPT_PATH_SIZE] && v[F_DBG_SCRIPT_PATH_SIZE] == 0)
		return reject(w, "debugger_support.debugger_script_path_size "
			      "is 0");
	return 0;
}

static int try_layout(const uint8_t *buf, size_t len, const struct dlayout *l,
		      struct dvalues *d, struct why *w)
{
	size_t need = LAYOUT_BYTES(l->n);

	memset(d, 0, sizeof(*d));
	w->truncated = false;
	if (len < need) {
		w->truncated = true;
		return reject(w, "truncated: %zu bytes, the %s layout needs %zu",
			      len, l->name, need);
	}
	for (size_t i = 0; i < l->n; i++) {
		d->v[l->f[i]] = load_u64(buf + LAYOUT_BYTES(i));
		d->has[l->f[i]] = true;
	}
	if (check_fields(d, w))
		return SS_ECORRUPT;
	return check_invariants(d, w);
}

static void layout_clear(struct py_layout *l)
{
	memset(l, 0, sizeof(*l));
#define X(g, f) l->g##_##f = OFF_NONE;
	PY_LAYOUT_FIELDS(X)
#undef X
}

static void fill(const struct dvalues *d, struct py_layout *out)
{
#define SET(member, id)                                                        \
	do {                                                                   \
		if (d->has[id])                                                \
			out->member = (int32_t)d->v[id];                       \
	} while (0)
	SET(runtime_interpreters_head, F_RT_INTERPRETERS_HEAD);
	SET(runtime_finalizing, F_RT_FINALIZING);
	SET(interp_next, F_IS_NEXT);
	SET(interp_id, F_IS_ID);
	SET(interp_tstate_head, F_IS_THREADS_HEAD);
	SET(interp_gil, F_IS_CEVAL_GIL);
	SET(interp_modules, F_IS_IMPORTS_MODULES);
	SET(interp_sysdict, F_IS_SYSDICT);
	SET(tstate_next, F_TS_NEXT);
	SET(tstate_interp, F_TS_INTERP);
	SET(tstate_current_frame, F_TS_CURRENT_FRAME);
	SET(tstate_thread_id, F_TS_THREAD_ID);
	SET(tstate_native_thread_id, F_TS_NATIVE_THREAD_ID);
	SET(iframe_previous, F_IF_PREVIOUS);
	SET(iframe_code, F_IF_EXECUTABLE);
	SET(iframe_instr, F_IF_INSTR_PTR);
	SET(iframe_owner, F_IF_OWNER);
	SET(iframe_localsplus, F_IF_LOCALSPLUS);
	SET(code_co_argcount, F_CO_ARGCOUNT);
	SET(code_co_firstlineno, F_CO_FIRSTLINENO);
	SET(code_co_filename, F_CO_FILENAME);
	SET(code_co_name, F_CO_NAME);
	SET(code_co_qualname, F_CO_QUALNAME);
	SET(code_co_lnotab, F_CO_LINETABLE);
	SET(code_co_code_adaptive, F_CO_CODE_ADAPTIVE);
	SET(code_co_localsplusnames, F_CO_LOCALSPLUSNAMES);
	SET(code_co_localspluskinds, F_CO_LOCALSPLUSKINDS);
	SET(object_ob_type, F_OB_TYPE);
	/* PyVarObject.ob_size: the same for every variable-size object. */
	SET(object_ob_size, F_TUPLE_OB_SIZE);
	SET(type_tp_name, F_TP_NAME);
	SET(type_tp_flags, F_TP_FLAGS);
	SET(bytes_ob_sval, F_BYTES_OB_SVAL);
	SET(unicode_length, F_UNI_LENGTH);
	SET(unicode_state, F_UNI_STATE);
	SET(unicode_ascii_data, F_UNI_ASCII_SIZE);
	SET(unicode_compact_data, F_UNI_COMPACT_SIZE);
	SET(tuple_ob_item, F_TUPLE_OB_ITEM);
	/* Objects read by dump --locals (the rest comes from the table row). */
	SET(type_tp_repr, F_TP_REPR);
	SET(type_tp_basicsize, F_TP_BASICSIZE);
	SET(type_tp_dictoffset, F_TP_DICTOFFSET);
	SET(heaptype_ht_cached_keys, F_HT_CACHED_KEYS);
	SET(list_ob_item, F_LIST_OB_ITEM);
	SET(set_used, F_SET_USED);
	SET(set_mask, F_SET_MASK);
	SET(set_table, F_SET_TABLE);
	SET(dict_ma_keys, F_DICT_MA_KEYS);
	SET(dict_ma_values, F_DICT_MA_VALUES);
	SET(float_ob_fval, F_FLOAT_OB_FVAL);
	SET(long_lv_tag, F_LONG_LV_TAG);
	SET(long_ob_digit, F_LONG_OB_DIGIT);
#undef SET
	/* The layout's gil_* are offsets inside struct _gil_runtime_state
	 * (reached through interp->ceval.gil); the debug offsets give them
	 * inside PyInterpreterState, through its embedded _gil. */
	out->gil_locked = (int32_t)(d->v[F_IS_GIL_LOCKED] -
				    d->v[F_IS_GIL_RUNTIME_STATE]);
	out->gil_last_holder = (int32_t)(d->v[F_IS_GIL_HOLDER] -
					 d->v[F_IS_GIL_RUNTIME_STATE]);
	out->rdbg.present = d->has[F_DBG_EVAL_BREAKER] &&
			    d->has[F_DBG_SCRIPT_PATH_SIZE];
	if (out->rdbg.present) {
		out->rdbg.eval_breaker = (int64_t)d->v[F_DBG_EVAL_BREAKER];
		out->rdbg.support = (int64_t)d->v[F_DBG_REMOTE_DEBUGGER_SUPPORT];
		out->rdbg.enabled = (int64_t)d->v[F_DBG_REMOTE_DEBUGGING_ENABLED];
		out->rdbg.pending_call = (int64_t)d->v[F_DBG_PENDING_CALL];
		out->rdbg.script_path = (int64_t)d->v[F_DBG_SCRIPT_PATH];
		out->rdbg.script_path_size = d->v[F_DBG_SCRIPT_PATH_SIZE];
	}
}

int py_layout_from_debug_offsets(const void *buf, size_t len,
				 const struct py_layout *fallback,
				 struct py_layout *out, struct err *e)
{
	const uint8_t *b = buf;
	struct dvalues d;
	struct why first = { 0 }, w;
	const struct dlayout *found = NULL;
	bool all_truncated = true, any = false;
	char vs[32];
	uint64_t version;
	unsigned minor;

	if (len < COOKIE_LEN + 8)
		return err_set(e, SS_ECORRUPT,
			       "_Py_DebugOffsets truncated: %zu bytes", len);
	if (memcmp(b, COOKIE, COOKIE_LEN) != 0)
		return err_set(e, SS_ECORRUPT,
			       "no _Py_DebugOffsets at the start of _PyRuntime "
			       "(cookie is not \"xdebugpy\")");
	version = load_u64(b + COOKIE_LEN);
	format_version(version, vs, sizeof(vs));
	if (version > UINT32_MAX || (version >> 24) != 3 ||
	    ((version >> 16) & 0xff) < 13 || ((version >> 16) & 0xff) > 15)
		return err_set(e, SS_EVERSION,
			       "_Py_DebugOffsets of unsupported python version "
			       "%s (supported: 3.13 to 3.15)", vs);
	minor = (version >> 16) & 0xff;

	for (size_t i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++) {
		if (layouts[i].minor != minor)
			continue;
		if (try_layout(b, len, &layouts[i], &d, &w) == 0) {
			found = &layouts[i];
			break;
		}
		if (!any)
			first = w;
		any = true;
		all_truncated = all_truncated && w.truncated;
	}
	if (!found) {
		bool prerelease = ((version >> 4) & 0xf) != 0xf;

		if (prerelease && !all_truncated)
			return err_set(e, SS_EVERSION,
				       "python %s: _Py_DebugOffsets has no "
				       "known layout (%s)", vs, first.msg);
		return err_set(e, SS_ECORRUPT,
			       "_Py_DebugOffsets of python %s: %s", vs,
			       first.msg);
	}

	if (fallback && PY_MAJOR(fallback->version) == 3 &&
	    PY_MINOR(fallback->version) == minor &&
	    fallback->free_threaded == (d.v[F_FREE_THREADED] != 0))
		*out = *fallback;
	else
		layout_clear(out);
	out->version = (uint32_t)version & 0xffffff00u;
	out->free_threaded = d.v[F_FREE_THREADED] != 0;
	out->py2_unicode_size = 0;
	fill(&d, out);
	return 0;
}

static void appendf(char *report, size_t report_len, size_t *used,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void appendf(char *report, size_t report_len, size_t *used,
		    const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!report || *used + 1 >= report_len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(report + *used, report_len - *used, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= report_len - *used)
		*used = report_len - 1;
	else
		*used += (size_t)n;
}

int py_layout_compare(const struct py_layout *a, const struct py_layout *b,
		      char *report, size_t report_len)
{
	size_t used = 0;
	int mismatches = 0;

	if (report && report_len)
		report[0] = '\0';
	if (a->free_threaded != b->free_threaded) {
		mismatches++;
		appendf(report, report_len, &used,
			"free_threaded: debug_offsets=%d table=%d\n",
			a->free_threaded, b->free_threaded);
	}
#define X(g, f)                                                                \
	if (a->g##_##f != OFF_NONE && b->g##_##f != OFF_NONE &&                \
	    a->g##_##f != b->g##_##f) {                                        \
		mismatches++;                                                  \
		appendf(report, report_len, &used,                             \
			#g "_" #f ": debug_offsets=%" PRId32 " table=%" PRId32 \
			"\n", a->g##_##f, b->g##_##f);                         \
	}
	PY_LAYOUT_FIELDS(X)
#undef X
	return mismatches;
}
