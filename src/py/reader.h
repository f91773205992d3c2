/* struct py_reader: reads Python objects out of a target through its
 * memsrc, with caches keyed by target address that live for one run (code
 * objects and strings do not move while they are alive). */
#ifndef SS_PY_READER_H
#define SS_PY_READER_H

#include <stddef.h>
#include <stdint.h>

#include "py/proc.h"
#include "util/addrmap.h"
#include "util/err.h"

/* Longest string read from the target (function names, file names). */
#define PY_STR_MAX 4096

struct code_info {
	const char *name;         /* co_name */
	const char *qualname;     /* co_qualname, NULL before 3.11 */
	const char *filename;     /* co_filename */
	int firstlineno;
	uint8_t *linetable;       /* raw co_lnotab / co_linetable bytes */
	size_t linetable_len;
	uint64_t code_start;      /* address of co_code_adaptive (3.11+) */
	/* Byte offset of the first instruction a traceback shows (3.11+:
	 * 2 * _co_firsttraceable); frames before it are still starting. */
	long first_traceable;
};

struct py_reader {
	const struct py_proc *p;
	struct addrmap strings;   /* str address -> char * (UTF-8) */
	struct addrmap types;     /* type address -> tp_flags + 1 */
	struct addrmap codes;     /* code address -> struct code_info * */
};

void py_reader_init(struct py_reader *r, const struct py_proc *p);
void py_reader_release(struct py_reader *r);

/* The str at addr (unicode on 3.x; str or unicode on 2.7) as UTF-8, at most
 * PY_STR_MAX bytes of the object; owned by the reader. */
int py_reader_str(struct py_reader *r, uint64_t addr, const char **out,
		  struct err *e);

/* tp_flags of the object's type. */
int py_reader_type_flags(struct py_reader *r, uint64_t obj, unsigned long *flags,
			 struct err *e);

/* The code object at addr, decoded once and cached. */
int py_reader_code(struct py_reader *r, uint64_t addr,
		   const struct code_info **out, struct err *e);

/* Line of the instruction at byte offset `offset` into the bytecode. */
int py_code_line(const struct py_reader *r, const struct code_info *ci,
		 int offset);

#endif
