/* DWARF line programs run without libdw (see linetab.h). */
#include "elf/linetab.h"

#include <dwarf.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/xalloc.h"

/* One address range that a line program covers without a gap. */
struct seq {
	uint64_t lo, end;         /* [lo, end) */
	uint64_t max_end;         /* largest end of this and all before it */
	size_t unit;              /* its unit's offset in .debug_line */
	size_t start;             /* where its opcodes start, likewise */
};

struct strsec {
	Elf_Scn *scn;
	const char *p;
	size_t len;
	bool tried;
};

struct linetab {
	int fd;
	Elf *elf;
	const uint8_t *line;      /* .debug_line, decompressed */
	size_t line_len;
	struct strsec line_str, str;
	struct seq *seqs;
	size_t nseqs, cap;
	int indexed;              /* 0 not yet, 1 done, -1 a unit is bad */
};

/* A line program's header, as far as running it needs. */
struct unit {
	size_t off;               /* of the unit in .debug_line */
	const uint8_t *end;       /* of the unit */
	const uint8_t *tables;    /* directory and file tables */
	const uint8_t *prog;      /* the program */
	unsigned version;
	unsigned offsize;         /* 4 or 8: DWARF32 or DWARF64 */
	uint8_t min_len, max_ops;
	int8_t line_base;
	uint8_t line_range, opcode_base;
	const uint8_t *oplens;    /* operand counts of opcodes 1.. */
	/* ceil(2^24 / line_range): special opcodes (most of a program)
	 * divide by line_range, and (adj * recip) >> 24 is that quotient
	 * exactly for every adj and line_range below 256, without a
	 * division instruction. */
	uint32_t recip;
};

struct row {
	uint64_t addr;
	uint64_t file;
	int64_t line;
};

/* Called for each row; end says it ends a sequence (the next one starts
 * at next).  Returns false to stop the program. */
typedef bool (*row_fn)(void *ctx, const struct row *r, bool end,
		       const uint8_t *next);

/* Bounded readers: each returns false (and leaves *p alone or past end)
 * when the value runs beyond end. */
static bool get_uleb(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	uint64_t r = 0;

	for (unsigned shift = 0; *p < end && shift < 64; shift += 7) {
		uint8_t b = *(*p)++;

		r |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = r;
			return true;
		}
	}
	return false;
}

static bool get_sleb(const uint8_t **p, const uint8_t *end, int64_t *v)
{
	uint64_t r = 0;
	unsigned shift = 0;

	while (*p < end && shift < 64) {
		uint8_t b = *(*p)++;

		r |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
		if (!(b & 0x80)) {
			if (shift < 64 && (b & 0x40))
				r |= ~(uint64_t)0 << shift;
			*v = (int64_t)r;
			return true;
		}
	}
	return false;
}

static bool get_uint(const uint8_t **p, const uint8_t *end, unsigned size,
		     uint64_t *v)
{
	uint64_t r = 0;

	if (size > 8 || (size_t)(end - *p) < size)
		return false;
	/* x86_64 only: little-endian. */
	for (unsigned i = 0; i < size; i++)
		r |= (uint64_t)(*p)[i] << (8 * i);
	*p += size;
	*v = r;
	return true;
}

static bool parse_unit(const struct linetab *lt, size_t off, struct unit *u)
{
	const uint8_t *p = lt->line + off, *end = lt->line + lt->line_len;
	uint64_t len, hlen, v;

	memset(u, 0, sizeof(*u));
	u->off = off;
	u->offsize = 4;
	if (!get_uint(&p, end, 4, &len))
		return false;
	if (len == 0xffffffff) {
		u->offsize = 8;
		if (!get_uint(&p, end, 8, &len))
			return false;
	}
	if (len > (uint64_t)(end - p))
		return false;
	end = u->end = p + len;
	if (!get_uint(&p, end, 2, &v) || v < 2 || v > 5)
		return false;
	u->version = v;
	/* DWARF 5 states address and segment selector sizes. */
	if (u->version >= 5 && (!get_uint(&p, end, 1, &v) || v != 8 ||
				!get_uint(&p, end, 1, &v) || v != 0))
		return false;
	if (!get_uint(&p, end, u->offsize, &hlen) ||
	    hlen > (uint64_t)(end - p))
		return false;
	u->prog = p + hlen;
	if (!get_uint(&p, end, 1, &v))
		return false;
	u->min_len = v;
	u->max_ops = 1;
	if (u->version >= 4 && (!get_uint(&p, end, 1, &v) || v == 0))
		return false;
	if (u->version >= 4)
		u->max_ops = v;
	if ((size_t)(u->prog - p) < 4)
		return false;
	p++;                      /* default_is_stmt: not needed */
	u->line_base = (int8_t)*p++;
	u->line_range = *p++;
	u->opcode_base = *p++;
	if (u->line_range == 0 || u->opcode_base == 0 ||
	    (size_t)(u->prog - p) < (size_t)u->opcode_base - 1)
		return false;
	u->recip = ((UINT32_C(1) << 24) + u->line_range - 1) / u->line_range;
	u->oplens = p - 1;
	u->tables = p + u->opcode_base - 1;
	return true;
}

/* The operands of an extended opcode. */
static bool run_extended(const struct unit *u, const uint8_t **pp,
			 struct row *r, bool *end_seq)
{
	const uint8_t *p = *pp;
	uint64_t len, v;
	uint8_t sub;

	if (!get_uleb(&p, u->end, &len) || len == 0 ||
	    len > (uint64_t)(u->end - p))
		return false;
	*pp = p + len;
	sub = *p++;
	switch (sub) {
	case DW_LNE_end_sequence:
		*end_seq = true;
		break;
	case DW_LNE_set_address:
		if (!get_uint(&p, *pp, len - 1, &v))
			return false;
		r->addr = v;
		break;
	default:
		/* set_discriminator, define_file, vendor ones: no row
		 * register we report. */
		break;
	}
	return true;
}

/* Standard opcodes; unknown ones are skipped by their operand count. */
static bool run_standard(const struct unit *u, uint8_t op,
			 const uint8_t **p, struct row *r, bool *emit)
{
	uint64_t v;
	int64_t s;

	switch (op) {
	case DW_LNS_copy:
		*emit = true;
		return true;
	case DW_LNS_advance_pc:
		if (!get_uleb(p, u->end, &v))
			return false;
		r->addr += v * u->min_len;
		return true;
	case DW_LNS_advance_line:
		if (!get_sleb(p, u->end, &s))
			return false;
		r->line += s;
		return true;
	case DW_LNS_set_file:
		return get_uleb(p, u->end, &r->file);
	case DW_LNS_const_add_pc:
		r->addr += (uint64_t)u->min_len *
			   ((255 - u->opcode_base) / u->line_range);
		return true;
	case DW_LNS_fixed_advance_pc:
		if (!get_uint(p, u->end, 2, &v))
			return false;
		r->addr += v;
		return true;
	default:
		for (unsigned i = 0; i < u->oplens[op]; i++)
			if (!get_uleb(p, u->end, &v))
				return false;
		return true;
	}
}

static void reset_row(struct row *r)
{
	r->addr = 0;
	r->file = 1;
	r->line = 1;
}

/* Run u's program from p (its start or a sequence's: the registers are
 * reset at both), handing each row to fn.  False: malformed. */
static bool run_program(const struct unit *u, const uint8_t *p, row_fn fn,
			void *ctx)
{
	struct row r;

	if (u->max_ops != 1)
		return false;
	reset_row(&r);
	while (p < u->end) {
		uint8_t op = *p++;
		bool emit = false, end_seq = false;

		if (op >= u->opcode_base) {
			unsigned adj = op - u->opcode_base;
			unsigned q = (unsigned)(((uint64_t)adj * u->recip) >> 24);

			r.line += u->line_base + (int)(adj - q * u->line_range);
			r.addr += (uint64_t)u->min_len * q;
			emit = true;
		} else if (op == 0) {
			if (!run_extended(u, &p, &r, &end_seq))
				return false;
		} else if (!run_standard(u, op, &p, &r, &emit)) {
			return false;
		}
		if ((emit || end_seq) && !fn(ctx, &r, end_seq, p))
			return true;
		if (end_seq)
			reset_row(&r);
	}
	return true;
}

/* Indexing: every sequence of the section, with its range. */
struct index_ctx {
	struct linetab *lt;
	size_t unit;
	const uint8_t *start;     /* of the current sequence */
	bool open;
	uint64_t lo;
};

static bool index_row(void *arg, const struct row *r, bool end,
		      const uint8_t *next)
{
	struct index_ctx *c = arg;
	struct seq *s;

	if (!c->open) {
		c->open = true;
		c->lo = r->addr;
	}
	if (!end)
		return true;
	c->open = false;
	if (r->addr > c->lo) {
		XGROW(c->lt->seqs, c->lt->cap, c->lt->nseqs + 1);
		s = &c->lt->seqs[c->lt->nseqs++];
		s->lo = c->lo;
		s->end = r->addr;
		s->unit = c->unit;
		s->start = (size_t)(c->start - c->lt->line);
	}
	c->start = next;
	return true;
}

static int by_lo(const void *a, const void *b)
{
	const struct seq *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* All sequences, sorted by start, each with the largest end so far: the
 * ones covering an address are found by a binary search and a short walk
 * back. */
static int build_index(struct linetab *lt)
{
	size_t off = 0;
	uint64_t max_end = 0;
	struct unit u;

	while (off < lt->line_len) {
		struct index_ctx c = { .lt = lt, .unit = off };

		if (!parse_unit(lt, off, &u))
			return -1;
		c.start = u.prog;
		if (!run_program(&u, u.prog, index_row, &c))
			return -1;
		off = (size_t)(u.end - lt->line);
	}
	if (lt->nseqs)
		qsort(lt->seqs, lt->nseqs, sizeof(*lt->seqs), by_lo);
	for (size_t i = 0; i < lt->nseqs; i++) {
		if (lt->seqs[i].end > max_end)
			max_end = lt->seqs[i].end;
		lt->seqs[i].max_end = max_end;
	}
	return 1;
}

/* The one sequence covering addr: NULL for none, and *many set when more
 * than one does. */
static const struct seq *covering(const struct linetab *lt, uint64_t addr,
				  bool *many)
{
	const struct seq *hit = NULL;
	size_t lo = 0, hi = lt->nseqs;

	*many = false;
	/* hi: the first sequence starting above addr. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (lt->seqs[mid].lo <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = hi; i-- > 0 && lt->seqs[i].max_end > addr;) {
		if (lt->seqs[i].end <= addr)
			continue;
		if (hit) {
			*many = true;
			return NULL;
		}
		hit = &lt->seqs[i];
	}
	return hit;
}

/* Lookup, run over one sequence: its last row at or below addr. */
struct find_ctx {
	uint64_t addr;
	bool found, monotonic;
	uint64_t prev;
	struct row best;
};

static bool find_row(void *arg, const struct row *r, bool end,
		     const uint8_t *next)
{
	struct find_ctx *c = arg;

	(void)next;
	/* libdw sorts rows by address; in program order is the same only
	 * if they never go down. */
	if (r->addr < c->prev)
		c->monotonic = false;
	c->prev = r->addr;
	if (!end && r->addr <= c->addr) {
		c->best = *r;
		c->found = true;
	}
	return !end;
}

static bool load_strsec(struct strsec *s)
{
	Elf_Data *d;
	GElf_Shdr sh;

	if (s->tried)
		return s->p != NULL;
	s->tried = true;
	if (!s->scn || !gelf_getshdr(s->scn, &sh))
		return false;
	if ((sh.sh_flags & SHF_COMPRESSED) && elf_compress(s->scn, 0, 0) < 0)
		return false;
	d = elf_getdata(s->scn, NULL);
	if (!d || !d->d_buf || !d->d_size)
		return false;
	s->p = d->d_buf;
	s->len = d->d_size;
	return true;
}

static const char *str_at(struct strsec *s, uint64_t off)
{
	if (!load_strsec(s) || off >= s->len ||
	    !memchr(s->p + off, 0, s->len - off))
		return NULL;
	return s->p + off;
}

/* One field of a DWARF 5 directory or file entry: its string (for path
 * forms) or number (for index forms); false for forms not handled. */
static bool read_form(struct linetab *lt, const struct unit *u,
		      uint64_t form, const uint8_t **p, const char **str,
		      uint64_t *num)
{
	const uint8_t *q;
	uint64_t v;

	*str = NULL;
	switch (form) {
	case DW_FORM_string:
		q = memchr(*p, 0, (size_t)(u->prog - *p));
		if (!q)
			return false;
		*str = (const char *)*p;
		*p = q + 1;
		return true;
	case DW_FORM_line_strp:
	case DW_FORM_strp:
		if (!get_uint(p, u->prog, u->offsize, &v))
			return false;
		*str = str_at(form == DW_FORM_strp ? &lt->str : &lt->line_str,
			      v);
		return *str != NULL;
	case DW_FORM_udata:
		return get_uleb(p, u->prog, num);
	case DW_FORM_data1:
		return get_uint(p, u->prog, 1, num);
	case DW_FORM_data2:
		return get_uint(p, u->prog, 2, num);
	case DW_FORM_data4:
		return get_uint(p, u->prog, 4, num);
	case DW_FORM_data8:
		return get_uint(p, u->prog, 8, num);
	case DW_FORM_data16:
		if (u->prog - *p < 16)
			return false;
		*p += 16;
		return true;
	case DW_FORM_block:
		if (!get_uleb(p, u->prog, &v) || v > (uint64_t)(u->prog - *p))
			return false;
		*p += v;
		return true;
	default:
		return false;
	}
}

/* Walk a DWARF 5 entry table (directories or files) from *p to its end;
 * entry want's path and directory index go to *path and *dir.  Returns 1
 * when want was there, 0 when not, -1 when the table is malformed or
 * uses a form not handled here. */
#define MAX_FORMATS 16

static int walk_table(struct linetab *lt, const struct unit *u,
		      const uint8_t **p, uint64_t want, const char **path,
		      uint64_t *dir)
{
	uint64_t desc[MAX_FORMATS], form[MAX_FORMATS], n, count;

	if (!get_uint(p, u->prog, 1, &n) || n > MAX_FORMATS)
		return -1;
	for (uint64_t i = 0; i < n; i++)
		if (!get_uleb(p, u->prog, &desc[i]) ||
		    !get_uleb(p, u->prog, &form[i]))
			return -1;
	/* Every entry takes at least a byte when there are formats: the
	 * loop ends with the header. */
	if (!get_uleb(p, u->prog, &count) || (!n && count))
		return -1;
	for (uint64_t k = 0; k < count; k++) {
		for (uint64_t i = 0; i < n; i++) {
			const char *s = NULL;
			uint64_t v = 0;

			if (!read_form(lt, u, form[i], p, &s, &v))
				return -1;
			if (k != want)
				continue;
			if (desc[i] == DW_LNCT_path)
				*path = s;
			else if (desc[i] == DW_LNCT_directory_index)
				*dir = v;
		}
	}
	return want < count;
}

/* The name of file index fileno of u (DWARF 5), joined as libdw joins
 * it: absolute names as they are, others after their directory and a
 * slash.  NULL when it cannot be told. */
static char *file_name(struct linetab *lt, const struct unit *u,
		       uint64_t fileno)
{
	const uint8_t *dirs = u->tables, *files = u->tables;
	const char *dir = NULL, *name = NULL;
	uint64_t diridx = UINT64_MAX, unused;
	char *out;

	if (walk_table(lt, u, &files, UINT64_MAX, &dir, &unused) < 0 ||
	    walk_table(lt, u, &files, fileno, &name, &diridx) != 1 ||
	    !name || diridx == UINT64_MAX)
		return NULL;
	if (name[0] == '/')
		return xstrdup(name);
	if (walk_table(lt, u, &dirs, diridx, &dir, &unused) != 1 || !dir)
		return NULL;
	out = xmalloc(strlen(dir) + strlen(name) + 2);
	strcpy(out, dir);
	strcat(out, "/");
	strcat(out, name);
	return out;
}

enum linetab_answer linetab_find(struct linetab *lt, uint64_t addr,
				 char **file, int *line)
{
	const struct seq *hit;
	struct find_ctx c = { .addr = addr, .monotonic = true };
	struct unit u;
	bool many;

	*file = NULL;
	if (!lt->indexed)
		lt->indexed = build_index(lt);
	if (lt->indexed < 0)
		return LINETAB_ASK_LIBDW;
	hit = covering(lt, addr, &many);
	if (many)
		return LINETAB_ASK_LIBDW;
	if (!hit)
		return LINETAB_NONE;
	/* Before DWARF 5, directory 0 is the unit's DW_AT_comp_dir. */
	if (!parse_unit(lt, hit->unit, &u) || u.version < 5 ||
	    !run_program(&u, lt->line + hit->start, find_row, &c) ||
	    !c.monotonic)
		return LINETAB_ASK_LIBDW;
	if (!c.found)
		return LINETAB_NONE;
	*file = file_name(lt, &u, c.best.file);
	if (!*file)
		return LINETAB_ASK_LIBDW;
	*line = (int)c.best.line;
	return LINETAB_FOUND;
}

static Elf_Scn *section_named(Elf *elf, size_t shstrndx, const char *want)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(elf, scn))) {
		const char *name;

		if (!gelf_getshdr(scn, &sh))
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (name && !strcmp(name, want))
			return scn;
	}
	return NULL;
}

/* Decompress .debug_line; false when it is not compressed (then libdw
 * is cheap enough) or cannot be read. */
static bool load_line(struct linetab *lt, Elf_Scn *scn)
{
	Elf_Data *d;
	GElf_Shdr sh;

	if (!scn || !gelf_getshdr(scn, &sh) ||
	    !(sh.sh_flags & SHF_COMPRESSED) || elf_compress(scn, 0, 0) < 0)
		return false;
	d = elf_getdata(scn, NULL);
	if (!d || !d->d_buf || !d->d_size)
		return false;
	lt->line = d->d_buf;
	lt->line_len = d->d_size;
	return true;
}

struct linetab *linetab_open(const char *path)
{
	struct linetab *lt = xcalloc(1, sizeof(*lt));
	size_t shstrndx;

	lt->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (lt->fd < 0) {
		free(lt);
		return NULL;
	}
	lt->elf = elf_begin(lt->fd, ELF_C_READ_MMAP, NULL);
	/* The readers above are for 64-bit little-endian (x86_64). */
	if (!lt->elf || elf_kind(lt->elf) != ELF_K_ELF ||
	    gelf_getclass(lt->elf) != ELFCLASS64 ||
	    elf_getident(lt->elf, NULL)[EI_DATA] != ELFDATA2LSB ||
	    elf_getshdrstrndx(lt->elf, &shstrndx) ||
	    !load_line(lt, section_named(lt->elf, shstrndx, ".debug_line"))) {
		linetab_close(lt);
		return NULL;
	}
	lt->line_str.scn = section_named(lt->elf, shstrndx, ".debug_line_str");
	lt->str.scn = section_named(lt->elf, shstrndx, ".debug_str");
	return lt;
}

void linetab_close(struct linetab *lt)
{
	if (!lt)
		return;
	if (lt->elf)
		elf_end(lt->elf);
	close(lt->fd);
	free(lt->seqs);
	free(lt);
}
