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

#define CODE_IDENT 6

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
	/* The lines of recently asked offsets (a line table is walked from
	 * its start): CODE_LINE_MEMO slots of { offset, line }, direct-mapped
	 * by instruction; owned, written through the const code_info. */
	int (*line_memo)[2];
	/* What identifies the object at its address (type, co_name,
	 * co_filename, co_qualname and line table pointers, first line):
	 * compared again by py_reader_revalidate_codes(). */
	uint64_t ident[CODE_IDENT];
};

#define CODE_LINE_MEMO 16

struct py_reader {
	const struct py_proc *p;
	struct addrmap strings;   /* str address -> char * (UTF-8) */
	struct addrmap types;     /* type address -> tp_flags + 1 */
	struct addrmap codes;     /* code address -> struct code_info * */
	/* py_walk()'s cycle checks (frames of a thread, thread states of an
	 * interpreter), kept here so that repeated walks allocate nothing. */
	struct addrmap seen_frames, seen_tstates;
	/* Strings dropped from the cache by py_reader_revalidate_codes(),
	 * kept alive until release: callers may still hold them. */
	char **retired;
	size_t nretired, retired_cap;
};

void py_reader_init(struct py_reader *r, const struct py_proc *p);
void py_reader_release(struct py_reader *r);

/* The str at addr (unicode on 3.x; str or unicode on 2.7) as UTF-8, at most
 * PY_STR_MAX bytes of the object; owned by the reader. */
int py_reader_str(struct py_reader *r, uint64_t addr, const char **out,
		  struct err *e);

/* The same, read from the target even when cached (a str freed and
 * another allocated at its address would otherwise keep the old text):
 * the cache is updated, its old copy kept alive in r->retired when the
 * text changed. */
int py_reader_str_fresh(struct py_reader *r, uint64_t addr, const char **out,
			struct err *e);

/* tp_flags of the object's type. */
int py_reader_type_flags(struct py_reader *r, uint64_t obj, unsigned long *flags,
			 struct err *e);

/* The code object at addr, decoded once and cached. */
int py_reader_code(struct py_reader *r, uint64_t addr,
		   const struct code_info **out, struct err *e);

/* Re-read the identifying fields of every cached code object in one batch
 * through src (a source with readv, not the per-sample page cache) and
 * forget the code objects that changed or are gone, with the strings they
 * named (which are then read again when next asked for; the old copies
 * stay alive in r->retired).  Returns how many were forgotten. */
size_t py_reader_revalidate_codes(struct py_reader *r, struct memsrc *src);

/* Line of the instruction at byte offset `offset` into the bytecode. */
int py_code_line(const struct py_reader *r, const struct code_info *ci,
		 int offset);

#endif
