/* Reading struct py_layout from the target's own _Py_DebugOffsets (3.13+).
 *
 * CPython 3.13 and later begin _PyRuntime with _Py_DebugOffsets: the 8-byte
 * cookie "xdebugpy", a uint64 version (PY_VERSION_HEX), a uint64
 * free_threaded flag, then groups of uint64 offsets and sizes.  The struct
 * is only stable between micro releases of one minor version, and alphas
 * and betas differ from the final release, so the reader knows several
 * layouts per minor version (see layout_debugoffsets.c), tries each one for
 * the target's minor version and keeps the first whose values pass every
 * check: plausible bounds, offsets below their group's size, and cross-group
 * invariants (PyObject ends with ob_type, PyVarObject.ob_size follows the
 * object header, ...).
 *
 * Layouts known (groups in order; "+" marks additions), checked against
 * the real headers of 3.13.0 (pyenv), 3.13.18, 3.14.10 and 3.15.2 (Debian
 * sid) and against the bytes of those builds' _PyRuntime:
 *   3.13 final (Include/internal/pycore_runtime.h): cookie, version,
 *     free_threaded, runtime_state, interpreter_state, thread_state,
 *     interpreter_frame, code_object, pyobject, type_object, tuple_object,
 *     list_object, dict_object, float_object, long_object, bytes_object,
 *     unicode_object, gc (584 bytes).  Early 3.13 alphas had neither the
 *     size fields nor free_threaded: refused with SS_EVERSION.
 *   3.14 final (Include/internal/pycore_debug_offsets.h): + interpreter_state
 *     .threads_main/.code_object_generation/.tlbc_generation,
 *     + interpreter_frame.stackpointer/.tlbc_index, + code_object.co_tlbc,
 *     + set_object, gen_object, llist_node, debugger_support (PEP 768)
 *     (760 bytes).  3.14 pre-releases had the 3.13 layout or subsets.
 *   3.15 final: + thread_state.base_frame/.last_profiled_frame/
 *     .last_profiled_frame_seq (after current_frame) and .holds_gil/
 *     .gil_requested/.current_exception/.exc_state (after status),
 *     + err_stackitem (after thread_state), + type_object.tp_basicsize/
 *     .tp_dictoffset, + heap_type_object, + unicode_object
 *     .compactunicodeobject_size, + gc.frame/.generation_stats_size/
 *     .generation_stats (888 bytes).  3.15 development snapshots had the
 *     3.14 layout, then one without last_profiled_frame_seq and the later
 *     additions; both are tried for 3.15 pre-releases.
 *
 * Facts the frame walker needs (not in _Py_DebugOffsets):
 *
 * f_executable (iframe_code):
 *   3.13: a plain PyObject * (code object, or None for the entry frame).
 *   3.14: a _PyStackRef.  Default build: Py_TAG_BITS = 3 but an object
 *     reference only ever has bit 0 (Py_TAG_REFCNT, set for immortal
 *     objects, e.g. the entry frame's None); tagged ints use 3 (Py_INT_TAG)
 *     and never appear here.  Free-threaded: Py_TAG_BITS = 1, bit 0 =
 *     Py_TAG_DEFERRED.
 *   3.15: a _PyStackRef, Py_TAG_BITS = 3 in both builds (Py_TAG_REFCNT = 1,
 *     Py_TAG_INVALID = 2, Py_INT_TAG = 3; Py_TAG_DEFERRED is gone).
 *   So: pointer = f_executable & ~3 (PY_STACKREF_TAG_MASK) for 3.14 and
 *   3.15, both builds; harmless for 3.13.  Builds with Py_STACKREF_DEBUG
 *   (opt-in, not set by --with-pydebug nor in Debian's debug builds) store
 *   table indices instead: undecodable.
 *
 * owner (char) values:
 *   3.13: THREAD=0 GENERATOR=1 FRAME_OBJECT=2 CSTACK=3.
 *   3.14: THREAD=0 GENERATOR=1 FRAME_OBJECT=2 INTERPRETER=3 CSTACK=4.
 *   3.15: THREAD=0 GENERATOR=1 FRAME_OBJECT=2 INTERPRETER=3 (CSTACK gone;
 *     one 3.15 development snapshot had THREAD_STATE=4 for the base frame).
 *   In every version owner >= 3 marks a frame that is not Python code:
 *   skip it, as CPython's _PyFrame_IsIncomplete does.  CPython also treats
 *   a non-generator frame whose instr_ptr is before the code's
 *   _co_firsttraceable (not in the debug offsets) as incomplete.
 *
 * Entry and shim frames:
 *   3.13: each _PyEval_EvalFrameDefault call pushes an entry frame on the C
 *     stack: owner CSTACK (3), f_executable = None, instr_ptr =
 *     _Py_INTERPRETER_TRAMPOLINE_INSTRUCTIONS + 1 (INTERPRETER_EXIT).
 *     CALL_ALLOC_AND_ENTER_INIT pushes a shim frame owned by THREAD whose
 *     code is the static _Py_InitCleanup (co_name, co_qualname and
 *     co_filename all "__init__"; code EXIT_INIT_CHECK, RETURN_VALUE,
 *     RESUME; its _co_firsttraceable is the RESUME, so CPython hides it
 *     while it runs EXIT_INIT_CHECK or RETURN_VALUE).  A walker should
 *     skip a frame whose code object is _Py_InitCleanup (a local symbol in
 *     3.13, exported from 3.14 on).
 *   3.14: the entry frame is owner INTERPRETER (3) with f_executable =
 *     PyStackRef_None; same trampoline; same __init__ shim.
 *   3.15: as 3.14 (the trampoline address is exported as
 *     _Py_INTERPRETER_TRAMPOLINE_INSTRUCTIONS_PTR), plus a sentinel base
 *     frame embedded in _PyThreadStateImpl, owner INTERPRETER, previous =
 *     NULL; PyThreadState.base_frame (debug offset thread_state.base_frame,
 *     80 in 3.15.2) points to it, and a complete walk ends exactly there.
 *
 * instr_ptr (iframe_instr):
 *   3.13-3.15: points at the instruction being executed (for a caller
 *   frame: its CALL), not the next one (3.11-3.12 prev_instr pointed at
 *   the last started instruction too).  Byte offset for the location table
 *   = instr_ptr - (code + code_co_code_adaptive); code-unit index = that / 2
 *   (PyFrame.f_lasti is the byte offset).  Free-threaded 3.14+: instr_ptr
 *   points into the thread-local copy co_tlbc->entries[tlbc_index] (entry
 *   0 is co_code_adaptive), so subtract that copy's base instead.
 *
 * Debug builds: _Py_DebugOffsets does not say (only the sizes of some
 * structs differ).  Look for the ELF symbols _Py_NegativeRefcount or
 * _Py_INCREF_IncRefTotal (exported under Py_REF_DEBUG, which Py_DEBUG
 * implies; present in Debian's 3.13d/3.14d/3.15d, absent from the release
 * builds), _Py_RefTotal (<= 3.11), or the "d" ABI flag in the file name
 * (libpython3.13d.so, python3.13d).  out->debug is taken from the fallback
 * row.
 *
 * Free-threaded builds: the free_threaded field exists in 3.13 final too
 * (right after version), so out->free_threaded comes from the target in
 * every supported version.
 */
#ifndef SS_PY_LAYOUT_DEBUGOFFSETS_H
#define SS_PY_LAYOUT_DEBUGOFFSETS_H

#include <stddef.h>

#include "py/layout.h"
#include "util/err.h"

/* Bytes to read from the start of _PyRuntime: more than the largest known
 * _Py_DebugOffsets (888 bytes for 3.15). */
#define PY_DEBUG_OFFSETS_MAX_SIZE 1024

/* Bounds for plausibility: no offset inside a CPython struct comes near
 * PY_DEBUG_OFFSETS_MAX_OFFSET; sizes (3.13 _PyRuntimeState: 283 KB) stay
 * below PY_DEBUG_OFFSETS_MAX_STRUCT. */
#define PY_DEBUG_OFFSETS_MAX_OFFSET (1u << 20)
#define PY_DEBUG_OFFSETS_MAX_STRUCT (16u << 20)

/* Frame owner values (see above). */
#define PY313_FRAME_OWNED_BY_CSTACK 3
#define PY314_FRAME_OWNED_BY_INTERPRETER 3
#define PY314_FRAME_OWNED_BY_CSTACK 4
#define PY_FRAME_OWNER_FIRST_NOT_PYTHON 3

/* Mask for _PyStackRef tag bits in f_executable (3.14, 3.15). */
#define PY_STACKREF_TAG_MASK ((uint64_t)3)

/* Fill *out from the raw bytes at the start of the target's _PyRuntime.
 * buf holds at least PY_DEBUG_OFFSETS_MAX_SIZE bytes (fewer only if the
 * target mapping ends; len says how many).
 *
 * Errors:
 *   SS_ECORRUPT  buf too short for the struct, no "xdebugpy" cookie, or a
 *                value fails the checks (the message names the field);
 *   SS_EVERSION  version outside 3.13 <= v < 3.16, or a pre-release whose
 *                layout is none of the known ones (the message names it).
 *
 * Fields the debug offsets do not provide are copied from *fallback when
 * fallback is non-NULL (the generated table row of the same minor
 * version), else left OFF_NONE.  A fallback of another minor version or
 * another free-threading mode than the target is ignored, since its
 * offsets would be wrong.  out->version is (major, minor, micro) like the
 * table (release level dropped); out->debug comes from the fallback
 * (false without one); out->free_threaded from the target. */
int py_layout_from_debug_offsets(const void *buf, size_t len,
				 const struct py_layout *fallback,
				 struct py_layout *out, struct err *e);

/* Compare the offsets both a (from the debug offsets) and b (the table)
 * provide, and the free_threaded flag; for each mismatch, append a line
 * "group_field: debug_offsets=N table=M\n" to report (always NUL-terminated
 * when report_len > 0, truncated when full; report may be NULL).  Returns
 * the number of mismatches. */
int py_layout_compare(const struct py_layout *a, const struct py_layout *b,
		      char *report, size_t report_len);

#endif
