#include "so/reloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/xalloc.h"

#define PAGE 4096u
/* Slots are read in windows of at most this many bytes. */
#define WINDOW (1u << 20)

static void note_bad(struct so_reloc_result *res, uint64_t slot,
		     uint64_t value)
{
	if (!res->bad || slot < res->first_bad) {
		res->first_bad = slot;
		res->first_bad_value = value;
	}
	res->bad++;
}

void so_reloc_judge(const struct elf_dynreloc *r, size_t n, uint64_t bias,
		    uint64_t vaddr, const uint8_t *file, const uint8_t *live,
		    size_t len, struct so_reloc_result *res)
{
	for (size_t i = 0; i < n; i++) {
		const struct elf_dynreloc *s = &r[i];
		uint64_t fv, lv, expect;
		size_t at;

		if (s->offset < vaddr || s->offset - vaddr > len ||
		    len - (s->offset - vaddr) < 8)
			continue;
		at = (size_t)(s->offset - vaddr);
		memcpy(&fv, file + at, 8);
		memcpy(&lv, live + at, 8);
		switch (s->type) {
		case R_X86_64_RELATIVE:
			if (!bias) {
				res->unjudged++;
				break;
			}
			expect = bias + (s->flags & ELF_DYNRELOC_IMPLICIT ?
					 fv : (uint64_t)s->addend);
			res->checked++;
			if (lv == fv && fv != expect)
				note_bad(res, s->offset, lv);
			break;
		case R_X86_64_JUMP_SLOT:
			if (!bias) {
				res->unjudged++;
				break;
			}
			res->checked++;
			if (lv == fv)
				note_bad(res, s->offset, lv);
			break;
		case R_X86_64_GLOB_DAT:
		case R_X86_64_64:
			if (s->flags & ELF_DYNRELOC_WEAK_UNDEF)
				break;
			if (s->type == R_X86_64_64 && !fv) {
				res->unjudged++;
				break;
			}
			res->checked++;
			if (lv == fv)
				note_bad(res, s->offset, lv);
			break;
		default:
			break;
		}
	}
}

/* First slot at or after vaddr (slots ascend). */
static size_t lower_bound(const struct elf_dynrelocs *rel, uint64_t vaddr)
{
	size_t lo = 0, hi = rel->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (rel->v[mid].offset < vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct window {
	uint64_t vaddr;   /* link-time start */
	size_t len;
	uint64_t foff;    /* file offset of vaddr */
	const struct elf_dynreloc *slots;
	size_t nslots;
};

static unsigned long count_in(const struct window *w)
{
	unsigned long c = 0;

	for (size_t i = 0; i < w->nslots; i++)
		c += w->slots[i].offset >= w->vaddr &&
		     w->slots[i].offset + 8 <= w->vaddr + w->len;
	return c;
}

/* Read and judge one window; an unreadable window of more than a page is
 * retried page by page so one bad page costs only its own slots. */
static int judge_window(const struct window *w, uint64_t bias, int fd,
			struct memsrc *mem, uint8_t *fbuf, uint8_t *lbuf,
			struct so_reloc_result *res)
{
	ssize_t got;
	int rc;

	rc = memsrc_read(mem, bias + w->vaddr, lbuf, w->len);
	if (rc == SS_EGONE)
		return rc;
	if (rc) {
		uint64_t p, end = w->vaddr + w->len;

		if (w->len <= PAGE ||
		    (w->vaddr & ~(uint64_t)(PAGE - 1)) + PAGE >= end) {
			res->unjudged += count_in(w);
			return 0;
		}
		for (p = w->vaddr; p < end;) {
			uint64_t next = (p & ~(uint64_t)(PAGE - 1)) + PAGE;
			struct window sub = *w;

			if (next > end)
				next = end;
			sub.vaddr = p;
			sub.len = (size_t)(next - p);
			sub.foff = w->foff + (p - w->vaddr);
			rc = judge_window(&sub, bias, fd, mem, fbuf, lbuf,
					  res);
			if (rc)
				return rc;
			p = next;
		}
		return 0;
	}
	do {
		got = pread(fd, fbuf, w->len, (off_t)w->foff);
	} while (got < 0 && errno == EINTR);
	if (got < 0) {
		res->unjudged += count_in(w);
		return 0;
	}
	if ((size_t)got < w->len) {
		/* The file now ends inside the mapping: the tail cannot be
		 * compared (and touching it in the target raises SIGBUS). */
		struct window tail = *w;

		res->short_file = true;
		tail.vaddr = w->vaddr + (uint64_t)got;
		tail.len = w->len - (size_t)got;
		res->unjudged += count_in(&tail);
	}
	so_reloc_judge(w->slots, w->nslots, bias, w->vaddr, fbuf, lbuf,
		       (size_t)got, res);
	return 0;
}

void so_reloc_scratch_release(struct so_reloc_scratch *s)
{
	free(s->file);
	free(s->live);
	s->file = s->live = NULL;
}

int so_reloc_check(const struct so_object *o, uint64_t bias,
		   const struct elf_dynrelocs *rel, int fd, struct memsrc *mem,
		   struct so_reloc_scratch *scratch, struct so_reloc_result *res,
		   struct err *e)
{
	uint8_t *fbuf, *lbuf;
	int rc = 0;

	memset(res, 0, sizeof(*res));
	if (!rel->n)
		return 0;
	if (!scratch->file) {
		scratch->file = xmalloc(WINDOW + 8);
		scratch->live = xmalloc(WINDOW + 8);
	}
	fbuf = scratch->file;
	lbuf = scratch->live;
	for (size_t m = 0; m < o->nmaps && !rc; m++) {
		const struct so_map *mp = &o->maps[m];
		uint64_t lo, hi;
		size_t i, j;

		if (mp->perms[0] != 'r' || mp->start < bias)
			continue;
		lo = mp->start - bias;
		hi = mp->end - bias;
		i = lower_bound(rel, lo);
		/* Each window starts at a slot and takes the following
		 * slots that fit, so no slot is split between windows. */
		while (i < rel->n && rel->v[i].offset < hi && !rc) {
			struct window w;
			uint64_t end;

			j = i;
			while (j < rel->n && rel->v[j].offset < hi &&
			       hi - rel->v[j].offset >= 8 &&
			       rel->v[j].offset - rel->v[i].offset <= WINDOW - 8)
				j++;
			if (j == i) { /* a slot straddling the mapping's end */
				res->unjudged++;
				i++;
				continue;
			}
			end = rel->v[j - 1].offset + 8;
			w.vaddr = rel->v[i].offset;
			w.len = (size_t)(end - w.vaddr);
			w.foff = mp->offset + (w.vaddr - lo);
			w.slots = &rel->v[i];
			w.nslots = j - i;
			rc = judge_window(&w, bias, fd, mem, fbuf, lbuf, res);
			i = j;
		}
	}
	if (rc == SS_EGONE)
		return err_set(e, rc, "the process exited while being read");
	return rc;
}
