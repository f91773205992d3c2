/* Reading dynamic relocations.  All addresses in PT_DYNAMIC are link-time
 * virtual addresses; they are turned into file offsets through the PT_LOAD
 * headers and read with elf_getdata_rawchunk(), which also converts them
 * to host structures. */
#include "elf/dynreloc.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "elf/elffile.h"
#include "util/xalloc.h"

#define MAX_LOADS 64

struct dyninfo {
	uint64_t rela, relasz, jmprel, pltrelsz, pltrel, relr, relrsz;
	uint64_t symtab;
};

struct layout {
	GElf_Phdr load[MAX_LOADS];
	size_t nload;
	uint64_t file_size;
};

size_t elf_relr_decode(const uint64_t *relr, size_t n, uint64_t *out,
		       size_t max)
{
	uint64_t where = 0;
	size_t i, count = 0;
	unsigned bit;

	for (i = 0; i < n; i++) {
		uint64_t e = relr[i];

		if (!(e & 1)) {
			/* An address: relocate it, then continue after it. */
			if (count < max)
				out[count] = e;
			count++;
			where = e + 8;
			continue;
		}
		/* A bitmap of the 63 words from where on. */
		for (bit = 1; bit < 64; bit++) {
			if (!((e >> bit) & 1))
				continue;
			if (count < max)
				out[count] = where + (uint64_t)(bit - 1) * 8;
			count++;
		}
		where += 63 * 8;
	}
	return count;
}

/* File offset of [vaddr, vaddr+size) when one PT_LOAD holds it in file
 * bytes, else -1. */
static int64_t file_offset(const struct layout *l, uint64_t vaddr,
			   uint64_t size)
{
	for (size_t i = 0; i < l->nload; i++) {
		const GElf_Phdr *p = &l->load[i];

		if (vaddr < p->p_vaddr || vaddr - p->p_vaddr > p->p_filesz ||
		    size > p->p_filesz - (vaddr - p->p_vaddr))
			continue;
		if (p->p_offset + (vaddr - p->p_vaddr) + size > l->file_size)
			return -1;
		return (int64_t)(p->p_offset + (vaddr - p->p_vaddr));
	}
	return -1;
}

static int read_dynamic(struct elf_file *f, struct dyninfo *di, bool *found)
{
	size_t i, n = 0;
	GElf_Phdr ph;

	memset(di, 0, sizeof(*di));
	*found = false;
	if (elf_getphdrnum(f->elf, &n) != 0)
		return -1;
	for (i = 0; i < n; i++) {
		Elf_Data *d;
		size_t k, cnt;

		if (!gelf_getphdr(f->elf, (int)i, &ph) ||
		    ph.p_type != PT_DYNAMIC)
			continue;
		*found = true;
		d = elf_getdata_rawchunk(f->elf, (int64_t)ph.p_offset,
					 ph.p_filesz, ELF_T_DYN);
		if (!d)
			return -1;
		cnt = ph.p_filesz / sizeof(Elf64_Dyn);
		for (k = 0; k < cnt; k++) {
			GElf_Dyn dyn;

			if (!gelf_getdyn(d, (int)k, &dyn) ||
			    dyn.d_tag == DT_NULL)
				break;
			switch (dyn.d_tag) {
			case DT_RELA: di->rela = dyn.d_un.d_ptr; break;
			case DT_RELASZ: di->relasz = dyn.d_un.d_val; break;
			case DT_JMPREL: di->jmprel = dyn.d_un.d_ptr; break;
			case DT_PLTRELSZ: di->pltrelsz = dyn.d_un.d_val; break;
			case DT_PLTREL: di->pltrel = dyn.d_un.d_val; break;
			case DT_RELR: di->relr = dyn.d_un.d_ptr; break;
			case DT_RELRSZ: di->relrsz = dyn.d_un.d_val; break;
			case DT_SYMTAB: di->symtab = dyn.d_un.d_ptr; break;
			default: break;
			}
		}
		return 0;
	}
	return 0;
}

static bool kept_type(uint32_t t)
{
	return t == R_X86_64_RELATIVE || t == R_X86_64_GLOB_DAT ||
	       t == R_X86_64_JUMP_SLOT || t == R_X86_64_64;
}

static bool needs_symbol(uint32_t t)
{
	return t == R_X86_64_GLOB_DAT || t == R_X86_64_64;
}

struct collect {
	struct elf_dynreloc *v;
	uint32_t *sym; /* symbol index of v[i], for the weak check */
	size_t n, cap;
	uint32_t max_sym;
};

static void push(struct collect *c, uint64_t off, int64_t addend,
		 uint32_t type, uint32_t flags, uint32_t sym)
{
	if (c->n == c->cap) {
		size_t cap = c->cap;

		XGROW(c->v, cap, c->n + 1);
		c->sym = xrealloc(c->sym, cap * sizeof(*c->sym));
		c->cap = cap;
	}
	c->v[c->n] = (struct elf_dynreloc){ off, addend, type, flags };
	c->sym[c->n] = sym;
	c->n++;
	if (needs_symbol(type) && sym > c->max_sym)
		c->max_sym = sym;
}

static int read_rela(struct elf_file *f, const struct layout *l,
		     uint64_t vaddr, uint64_t size, struct collect *c)
{
	int64_t off;
	Elf_Data *d;
	size_t i, cnt;

	if (!size)
		return 0;
	cnt = size / sizeof(Elf64_Rela);
	if (cnt > ELF_DYNRELOC_MAX || c->n + cnt > ELF_DYNRELOC_MAX)
		return -1;
	off = file_offset(l, vaddr, size);
	if (off < 0)
		return -1;
	d = elf_getdata_rawchunk(f->elf, off, size, ELF_T_RELA);
	if (!d)
		return -1;
	for (i = 0; i < cnt; i++) {
		GElf_Rela r;
		uint32_t type;

		if (!gelf_getrela(d, (int)i, &r))
			return -1;
		type = (uint32_t)GELF_R_TYPE(r.r_info);
		if (kept_type(type))
			push(c, r.r_offset, r.r_addend, type, 0,
			     (uint32_t)GELF_R_SYM(r.r_info));
	}
	return 0;
}

static int read_relr(struct elf_file *f, const struct layout *l,
		     uint64_t vaddr, uint64_t size, struct collect *c)
{
	uint64_t *slots;
	int64_t off;
	Elf_Data *d;
	size_t cnt, nslots, i;

	if (!size)
		return 0;
	cnt = size / 8;
	if (cnt > ELF_DYNRELOC_MAX)
		return -1;
	off = file_offset(l, vaddr, size);
	if (off < 0)
		return -1;
	d = elf_getdata_rawchunk(f->elf, off, size, ELF_T_XWORD);
	if (!d || d->d_size < cnt * 8)
		return -1;
	nslots = elf_relr_decode(d->d_buf, cnt, NULL, 0);
	if (nslots > ELF_DYNRELOC_MAX || c->n + nslots > ELF_DYNRELOC_MAX)
		return -1;
	slots = xmalloc((nslots ? nslots : 1) * sizeof(*slots));
	elf_relr_decode(d->d_buf, cnt, slots, nslots);
	for (i = 0; i < nslots; i++)
		push(c, slots[i], 0, R_X86_64_RELATIVE, ELF_DYNRELOC_IMPLICIT,
		     0);
	free(slots);
	return 0;
}

/* Mark relocations against undefined weak symbols: those may rightly
 * resolve to 0, the very value the file holds. */
static int mark_weak(struct elf_file *f, const struct layout *l,
		     uint64_t symtab, struct collect *c)
{
	uint64_t size = ((uint64_t)c->max_sym + 1) * sizeof(Elf64_Sym);
	int64_t off;
	Elf_Data *d;
	size_t i;

	if (!c->max_sym || !symtab)
		return 0;
	off = file_offset(l, symtab, size);
	if (off < 0)
		return -1;
	d = elf_getdata_rawchunk(f->elf, off, size, ELF_T_SYM);
	if (!d)
		return -1;
	for (i = 0; i < c->n; i++) {
		GElf_Sym s;

		if (!needs_symbol(c->v[i].type) || !c->sym[i] ||
		    !gelf_getsym(d, (int)c->sym[i], &s))
			continue;
		if (s.st_shndx == SHN_UNDEF &&
		    GELF_ST_BIND(s.st_info) == STB_WEAK)
			c->v[i].flags |= ELF_DYNRELOC_WEAK_UNDEF;
	}
	return 0;
}

/* Sort by offset.  The tables come in a few ascending runs (linkers sort
 * RELATIVE relocations first, then the others, then the PLT's), so a
 * natural merge sort does a pass or two instead of a full sort. */
static void sort_relocs(struct elf_dynreloc *v, size_t n)
{
	struct elf_dynreloc *tmp;
	bool sorted = true;

	for (size_t i = 1; i < n && sorted; i++)
		sorted = v[i - 1].offset <= v[i].offset;
	if (sorted)
		return;
	tmp = xmalloc(n * sizeof(*tmp));
	/* Each pass merges neighbouring pairs of runs, halving their
	 * number: at most log2(n) + 1 passes. */
	for (;;) {
		size_t i = 0, k = 0, groups = 0;

		while (i < n) {
			size_t x = i, mid = i + 1, end, y;

			while (mid < n && v[mid - 1].offset <= v[mid].offset)
				mid++;
			end = mid;
			if (end < n) {
				end++;
				while (end < n &&
				       v[end - 1].offset <= v[end].offset)
					end++;
			}
			y = mid;
			while (x < mid || y < end) {
				if (y >= end ||
				    (x < mid && v[x].offset <= v[y].offset))
					tmp[k++] = v[x++];
				else
					tmp[k++] = v[y++];
			}
			groups++;
			i = end;
		}
		memcpy(v, tmp, n * sizeof(*v));
		if (groups <= 1)
			break;
	}
	free(tmp);
}

int elf_read_dynrelocs(struct elf_file *f, const char *display,
		       struct elf_dynrelocs *out, struct err *e)
{
	struct collect c = { 0 };
	struct layout l;
	struct dyninfo di;
	struct stat st;
	size_t i, k;
	int bad = 0;

	out->v = NULL;
	out->n = 0;
	out->has_dynamic = false;
	if (fstat(f->fd, &st) != 0)
		return err_set(e, SS_EIO, "cannot stat '%s'", display);
	l.file_size = (uint64_t)st.st_size;
	l.nload = elf_load_segments(f, l.load, MAX_LOADS);
	if (read_dynamic(f, &di, &out->has_dynamic))
		return err_set(e, SS_ECORRUPT, "'%s': unreadable dynamic "
			       "section", display);
	if (!out->has_dynamic)
		return 0;
	bad |= read_rela(f, &l, di.rela, di.relasz, &c);
	/* DT_RELASZ may already include the PLT relocations (some linkers
	 * do); the duplicates are dropped below. */
	if (di.pltrel == DT_RELA)
		bad |= read_rela(f, &l, di.jmprel, di.pltrelsz, &c);
	bad |= read_relr(f, &l, di.relr, di.relrsz, &c);
	if (!bad)
		bad |= mark_weak(f, &l, di.symtab, &c);
	free(c.sym);
	if (bad) {
		free(c.v);
		return err_set(e, SS_ECORRUPT, "'%s': dynamic relocation "
			       "tables lie outside the file", display);
	}
	sort_relocs(c.v, c.n);
	for (i = k = 0; i < c.n; i++)
		if (!k || c.v[i].offset != c.v[k - 1].offset)
			c.v[k++] = c.v[i];
	out->v = c.v;
	out->n = k;
	return 0;
}

void elf_dynrelocs_release(struct elf_dynrelocs *r)
{
	free(r->v);
	r->v = NULL;
	r->n = 0;
}
