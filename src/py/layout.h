/* struct py_layout: where things live inside one CPython build.
 *
 * Every offset is relative to the start of its struct in the *target*
 * process; OFF_NONE marks a field that the version does not have.  Nothing
 * here comes from the headers snakescope itself was compiled against: 2.7 and
 * 3.6-3.12 come from tables generated from each version's real headers
 * (tools/gen-layouts -> layout_table.c); 3.13+ are read from the target's own
 * _Py_DebugOffsets (layout_debugoffsets.c) and checked against the tables.
 *
 * PY_LAYOUT_FIELDS is an X-macro so that the generator, the debug-offsets
 * reader and the tests can all enumerate fields by name.
 */
#ifndef SS_PY_LAYOUT_H
#define SS_PY_LAYOUT_H

#include <stdbool.h>
#include <stdint.h>

#define OFF_NONE (-1)

/* X(group, field): the struct member is named group_field. */
#define PY_LAYOUT_FIELDS(X)                                                    \
	/* _PyRuntimeState (3.7+) */                                           \
	X(runtime, interpreters_head)   /* interpreters.head */                \
	X(runtime, interpreters_main)   /* interpreters.main */                \
	X(runtime, tstate_current)      /* gilstate.tstate_current, 3.7-3.11 */ \
	X(runtime, gil_locked)          /* ceval.gil.locked, 3.7-3.11 */        \
	X(runtime, gil_last_holder)     /* ceval.gil.last_holder, 3.7-3.11 */   \
	X(runtime, initialized)         /* initialized */                      \
	X(runtime, finalizing)          /* _finalizing */                      \
	/* PyInterpreterState */                                               \
	X(interp, next)                                                        \
	X(interp, id)                   /* 3.7+ */                             \
	X(interp, tstate_head)          /* tstate_head, threads.head 3.12+ */  \
	X(interp, gil)                  /* ceval.gil pointer, 3.12+ */         \
	X(interp, modules)              /* modules, imports.modules 3.12+ */   \
	X(interp, sysdict)                                                     \
	/* struct _gil_runtime_state, through interp_gil (3.12+) */            \
	X(gil, locked)                                                         \
	X(gil, last_holder)                                                    \
	/* PyThreadState */                                                    \
	X(tstate, next)                                                        \
	X(tstate, interp)                                                      \
	X(tstate, frame)                /* PyFrameObject *, <= 3.10 */         \
	X(tstate, cframe)               /* _PyCFrame *, 3.11-3.12 */           \
	X(tstate, current_frame)        /* _PyInterpreterFrame *, 3.13+ */     \
	X(tstate, thread_id)                                                   \
	X(tstate, native_thread_id)     /* 3.8+ */                             \
	/* _PyCFrame (3.11-3.12) */                                            \
	X(cframe, current_frame)                                               \
	/* PyFrameObject (<= 3.10) */                                          \
	X(frame, f_back)                                                       \
	X(frame, f_code)                                                       \
	X(frame, f_lasti)                                                      \
	X(frame, f_lineno)                                                     \
	X(frame, f_localsplus)                                                 \
	/* _PyInterpreterFrame (3.11+) */                                      \
	X(iframe, previous)                                                    \
	X(iframe, code)                 /* f_code, f_executable 3.13+ */       \
	X(iframe, instr)                /* prev_instr 3.11-3.12, instr_ptr 3.13+ */ \
	X(iframe, owner)                /* char */                             \
	X(iframe, is_entry)             /* bool, 3.11 only */                  \
	X(iframe, localsplus)                                                  \
	X(iframe, stacktop)             /* int, 3.11-3.13 */                   \
	/* PyCodeObject */                                                     \
	X(code, co_argcount)            /* int */                              \
	X(code, co_flags)               /* int */                              \
	X(code, co_firstlineno)         /* int */                              \
	X(code, co_filename)                                                   \
	X(code, co_name)                                                       \
	X(code, co_qualname)            /* 3.11+ */                            \
	X(code, co_lnotab)              /* co_lnotab <= 3.9, co_linetable 3.10+ */ \
	X(code, co_code_adaptive)       /* 3.11+ */                            \
	X(code, co_firsttraceable)      /* int, 3.11+ */                       \
	X(code, co_nlocals)             /* int, <= 3.10 */                     \
	X(code, co_varnames)            /* <= 3.10 */                          \
	X(code, co_cellvars)            /* <= 3.10 */                          \
	X(code, co_freevars)            /* <= 3.10 */                          \
	X(code, co_nlocalsplus)         /* int, 3.11+ */                       \
	X(code, co_localsplusnames)     /* 3.11+ */                            \
	X(code, co_localspluskinds)     /* 3.11+ */                            \
	/* PyObject / PyVarObject / PyTypeObject */                            \
	X(object, ob_type)                                                     \
	X(object, ob_size)                                                     \
	X(type, tp_name)                                                       \
	X(type, tp_flags)                                                      \
	/* PyBytesObject (PyStringObject on 2.7) */                            \
	X(bytes, ob_sval)                                                      \
	/* PyUnicodeObject: 3.3+ PEP 393 objects; on 2.7 the str pointer */    \
	X(unicode, length)                                                     \
	X(unicode, state)                                                      \
	X(unicode, ascii_data)          /* sizeof(PyASCIIObject) */            \
	X(unicode, compact_data)        /* sizeof(PyCompactUnicodeObject) */   \
	X(unicode, legacy_data)         /* data.any, <= 3.11; str on 2.7 */    \
	/* PyTupleObject */                                                    \
	X(tuple, ob_item)                                                      \
	/* Reading objects for --locals and thread names (src/py/objects.h) */ \
	X(type, tp_basicsize)                                                  \
	X(type, tp_itemsize)                                                   \
	X(type, tp_dictoffset)                                                 \
	X(type, tp_dict)                                                       \
	X(type, tp_base)                                                       \
	X(type, tp_repr)                                                       \
	X(heaptype, ht_name)                                                   \
	X(heaptype, ht_qualname)        /* 3.3+ */                             \
	X(heaptype, ht_cached_keys)     /* 3.3+ */                             \
	X(object, managed_dict)         /* bytes *before* the object, 3.11+ */ \
	X(int, ob_ival)                 /* 2.7 PyIntObject */                  \
	X(long, ob_digit)                                                      \
	X(long, lv_tag)                 /* 3.12+ */                            \
	X(long, shift)                  /* PyLong_SHIFT: a value, not an offset */ \
	X(float, ob_fval)                                                      \
	X(bytearray, ob_start)          /* ob_start 3.x, ob_bytes 2.7 */       \
	X(list, ob_item)                                                       \
	X(set, used)                                                           \
	X(set, mask)                                                           \
	X(set, table)                                                          \
	X(setentry, key)                                                       \
	X(setentry, hash)                                                      \
	X(setentry, size)               /* sizeof(setentry) */                 \
	X(dict, ma_used)                                                       \
	X(dict, ma_keys)                /* 3.x */                              \
	X(dict, ma_values)              /* 3.x */                              \
	X(dict, ma_mask)                /* 2.7 */                              \
	X(dict, ma_table)               /* 2.7 */                              \
	/* PyDictKeysObject 3.11+ (3.6-3.10 keep it out of the headers) */     \
	X(dictkeys, log2_size)                                                 \
	X(dictkeys, log2_index_bytes)                                          \
	X(dictkeys, kind)                                                      \
	X(dictkeys, nentries)                                                  \
	X(dictkeys, indices)                                                   \
	/* PyDictKeyEntry 3.11+, PyDictEntry 2.7 */                            \
	X(dictentry, size)                                                     \
	X(dictentry, key)                                                      \
	X(dictentry, value)                                                    \
	/* PyDictUnicodeEntry 3.11+ */                                         \
	X(dictuentry, size)                                                    \
	X(dictuentry, key)                                                     \
	X(dictuentry, value)                                                   \
	/* PyDictValues 3.13+ */                                               \
	X(dictvalues, capacity)                                                \
	X(dictvalues, size)                                                    \
	X(dictvalues, valid)                                                   \
	X(dictvalues, values)                                                  \
	X(module, md_dict)                                                     \
	X(func, name)                                                          \
	X(func, qualname)               /* 3.3+ */                             \
	X(cell, ob_ref)                                                        \
	X(method, im_func)                                                     \
	X(method, im_self)                                                     \
	X(method, im_class)             /* 2.7 */                              \
	X(cfunc, m_ml)                                                         \
	X(cfunc, m_self)                                                       \
	X(methoddef, ml_name)                                                  \
	X(classobj, cl_name)            /* 2.7 classic classes */              \
	X(classobj, cl_dict)                                                   \
	X(instance, in_class)           /* 2.7 classic instances */            \
	X(instance, in_dict)

enum py_frame_model {
	PY_FRAMES_OBJECT,  /* <= 3.10: PyFrameObject.f_back chain */
	PY_FRAMES_INTERP,  /* 3.11+: _PyInterpreterFrame.previous chain */
};

enum py_linetable_kind {
	PY_LT_LNOTAB,      /* <= 3.9: (addr delta, line delta) byte pairs */
	PY_LT_LINETABLE,   /* 3.10: (addr delta, signed line delta) pairs */
	PY_LT_LOCATIONS,   /* 3.11+: PEP 657 location table */
};

struct py_layout {
	/* (major << 24) | (minor << 16) | (micro << 8), like PY_VERSION_HEX */
	uint32_t version;
	bool debug;
	bool free_threaded;
	/* Size of Py_UNICODE on 2.7 (2 or 4); 0 elsewhere. */
	uint8_t py2_unicode_size;
#define X(g, f) int32_t g##_##f;
	PY_LAYOUT_FIELDS(X)
#undef X
	/* PEP 768 remote debugging (3.14+, from _Py_DebugOffsets'
	 * debugger_support); present is false everywhere else. */
	struct {
		bool present;
		int64_t eval_breaker;    /* PyThreadState.eval_breaker */
		int64_t support;         /* PyThreadState.remote_debugger_support */
		int64_t enabled;         /* PyInterpreterState.config.remote_debug */
		int64_t pending_call;    /* in _PyRemoteDebuggerSupport */
		int64_t script_path;     /* ditto */
		uint64_t script_path_size;
	} rdbg;
};

/* Which table rows exist: one per (minor version, debug build); a micro
 * release gets its own row only where its layout differs. */
struct py_layout_entry {
	uint32_t version_min;   /* first micro version the row is for */
	uint32_t version_max;   /* last micro version seen with this layout */
	const char *source;     /* which headers it was generated from */
	struct py_layout layout;
};

extern const struct py_layout_entry py_layout_table[];
extern const unsigned py_layout_table_len;

/* The row for version/debug: the exact micro range if one covers it, else
 * the nearest micro of the same minor version.  NULL when the minor version
 * has no row. */
const struct py_layout *py_layout_lookup(uint32_t version, bool debug);

#define PY_VERSION_AT_LEAST(l, maj, min) \
	((l)->version >= (((uint32_t)(maj) << 24) | ((uint32_t)(min) << 16)))
#define PY_MINOR(v) (((v) >> 16) & 0xff)
#define PY_MAJOR(v) (((v) >> 24) & 0xff)
#define PY_MICRO(v) (((v) >> 8) & 0xff)

enum py_frame_model py_layout_frame_model(const struct py_layout *l);
enum py_linetable_kind py_layout_linetable_kind(const struct py_layout *l);

#endif
