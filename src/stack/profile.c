/* Profile trie with interned frames.  Lookups are open-addressing tables of
 * 32-bit indexes that double when half full, so adding a stack already seen
 * allocates nothing. */
#include "stack/profile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

#define EMPTY UINT32_MAX

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; s && *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

static uint32_t *new_slots(size_t cap)
{
	uint32_t *v = xmalloc(cap * sizeof(*v));

	memset(v, 0xff, cap * sizeof(*v));
	return v;
}

/* ---- strings ---- */

static uint32_t intern_string(struct profile *p, const char *s)
{
	size_t mask, i;

	if (2 * (p->nstrings + 1) > p->string_cap) {
		size_t cap = p->string_cap ? 2 * p->string_cap : 256;
		uint32_t *slots = new_slots(cap);

		for (size_t k = 0; k < p->nstrings; k++) {
			i = hash_str(p->strings[k]) & (cap - 1);
			while (slots[i] != EMPTY)
				i = (i + 1) & (cap - 1);
			slots[i] = (uint32_t)k;
		}
		free(p->string_slots);
		p->string_slots = slots;
		p->string_cap = cap;
	}
	mask = p->string_cap - 1;
	for (i = hash_str(s) & mask; p->string_slots[i] != EMPTY;
	     i = (i + 1) & mask)
		if (!strcmp(p->strings[p->string_slots[i]], s))
			return p->string_slots[i];
	XGROW(p->strings, p->strings_cap, p->nstrings + 1);
	p->strings[p->nstrings] = xstrdup(s);
	p->string_slots[i] = (uint32_t)p->nstrings;
	return (uint32_t)p->nstrings++;
}

/* ---- frames by content ---- */

static uint64_t frame_hash(const struct pframe *f)
{
	return mix((uintptr_t)f->function * 31 + (uintptr_t)f->file * 7 +
		   (uint64_t)(unsigned)f->line);
}

uint32_t profile_frame_text(struct profile *p, const char *function,
			    const char *file, int line)
{
	struct pframe key;
	size_t mask, i;
	uint32_t fn = intern_string(p, function ? function : "?");
	uint32_t fl = file ? intern_string(p, file) : EMPTY;

	/* Interned strings are unique, so their addresses are the content
	 * (read after interning: it may move the array). */
	key.function = p->strings[fn];
	key.file = file ? p->strings[fl] : NULL;
	key.line = line;
	if (2 * (p->nframes + 1) > p->frame_cap) {
		size_t cap = p->frame_cap ? 2 * p->frame_cap : 256;
		uint32_t *slots = new_slots(cap);

		for (size_t k = 0; k < p->nframes; k++) {
			i = frame_hash(&p->frames[k]) & (cap - 1);
			while (slots[i] != EMPTY)
				i = (i + 1) & (cap - 1);
			slots[i] = (uint32_t)k;
		}
		free(p->frame_slots);
		p->frame_slots = slots;
		p->frame_cap = cap;
	}
	mask = p->frame_cap - 1;
	for (i = frame_hash(&key) & mask; p->frame_slots[i] != EMPTY;
	     i = (i + 1) & mask) {
		const struct pframe *f = &p->frames[p->frame_slots[i]];

		if (f->function == key.function && f->file == key.file &&
		    f->line == key.line)
			return p->frame_slots[i];
	}
	XGROW(p->frames, p->frames_cap, p->nframes + 1);
	p->frames[p->nframes] = key;
	p->frame_slots[i] = (uint32_t)p->nframes;
	return (uint32_t)p->nframes++;
}

/* ---- frames by the caller's string addresses ---- */

static uint64_t ptr_hash(uintptr_t fn, uintptr_t file, int line)
{
	return mix(fn * 31 + file * 7 + (uint64_t)(unsigned)line);
}

uint32_t profile_frame(struct profile *p, const char *function,
		       const char *file, int line)
{
	uintptr_t fn = (uintptr_t)function, fl = (uintptr_t)file;
	size_t mask, i;
	uint32_t id;

	if (p->ptr_cap) {
		mask = p->ptr_cap - 1;
		for (i = ptr_hash(fn, fl, line) & mask; p->ptr_slots[i].id != EMPTY;
		     i = (i + 1) & mask)
			if (p->ptr_slots[i].fn == fn && p->ptr_slots[i].file == fl &&
			    p->ptr_slots[i].line == line)
				return p->ptr_slots[i].id;
	}
	id = profile_frame_text(p, function, file, line);
	if (2 * (p->nptr + 1) > p->ptr_cap) {
		size_t cap = p->ptr_cap ? 2 * p->ptr_cap : 256, k;
		struct pframe_ptr *slots = xmalloc(cap * sizeof(*slots));

		for (k = 0; k < cap; k++)
			slots[k].id = EMPTY;
		for (k = 0; k < p->ptr_cap; k++) {
			if (p->ptr_slots[k].id == EMPTY)
				continue;
			i = ptr_hash(p->ptr_slots[k].fn, p->ptr_slots[k].file,
				     p->ptr_slots[k].line) & (cap - 1);
			while (slots[i].id != EMPTY)
				i = (i + 1) & (cap - 1);
			slots[i] = p->ptr_slots[k];
		}
		free(p->ptr_slots);
		p->ptr_slots = slots;
		p->ptr_cap = cap;
	}
	mask = p->ptr_cap - 1;
	for (i = ptr_hash(fn, fl, line) & mask; p->ptr_slots[i].id != EMPTY;
	     i = (i + 1) & mask)
		;
	p->ptr_slots[i].fn = fn;
	p->ptr_slots[i].file = fl;
	p->ptr_slots[i].line = line;
	p->ptr_slots[i].id = id;
	p->nptr++;
	return id;
}

void profile_forget_pointers(struct profile *p)
{
	for (size_t i = 0; i < p->ptr_cap; i++)
		p->ptr_slots[i].id = EMPTY;
	p->nptr = 0;
}

/* ---- the trie ---- */

static uint64_t child_hash(uint32_t parent, uint32_t frame)
{
	return mix(((uint64_t)parent << 32) | frame);
}

static void grow_children(struct profile *p)
{
	size_t cap = p->child_cap ? 2 * p->child_cap : 1024, i;
	uint32_t *slots = new_slots(cap);

	/* Node 0 (the root) is nobody's child. */
	for (size_t k = 1; k < p->nnodes; k++) {
		i = child_hash(p->nodes[k].parent, p->nodes[k].frame) & (cap - 1);
		while (slots[i] != EMPTY)
			i = (i + 1) & (cap - 1);
		slots[i] = (uint32_t)k;
	}
	free(p->child_slots);
	p->child_slots = slots;
	p->child_cap = cap;
}

static uint32_t child(struct profile *p, uint32_t parent, uint32_t frame)
{
	size_t mask, i;
	struct pnode *n;

	if (2 * (p->nnodes + 1) > p->child_cap)
		grow_children(p);
	mask = p->child_cap - 1;
	for (i = child_hash(parent, frame) & mask; p->child_slots[i] != EMPTY;
	     i = (i + 1) & mask) {
		n = &p->nodes[p->child_slots[i]];
		if (n->parent == parent && n->frame == frame)
			return p->child_slots[i];
	}
	XGROW(p->nodes, p->nodes_cap, p->nnodes + 1);
	n = &p->nodes[p->nnodes];
	memset(n, 0, sizeof(*n));
	n->frame = frame;
	n->parent = parent;
	n->next_sibling = p->nodes[parent].first_child;
	p->nodes[parent].first_child = (uint32_t)p->nnodes;
	p->child_slots[i] = (uint32_t)p->nnodes;
	return (uint32_t)p->nnodes++;
}

void profile_init(struct profile *p)
{
	memset(p, 0, sizeof(*p));
	XGROW(p->nodes, p->nodes_cap, 1);
	memset(&p->nodes[0], 0, sizeof(p->nodes[0]));
	p->nodes[0].frame = EMPTY;
	p->nnodes = 1;
}

void profile_release(struct profile *p)
{
	for (size_t i = 0; i < p->nstrings; i++)
		free(p->strings[i]);
	free(p->strings);
	free(p->string_slots);
	free(p->frames);
	free(p->frame_slots);
	free(p->ptr_slots);
	free(p->nodes);
	free(p->child_slots);
	memset(p, 0, sizeof(*p));
}

void profile_add(struct profile *p, const uint32_t *frames, size_t n,
		 uint64_t count)
{
	uint32_t node = 0;

	p->nodes[0].total += count;
	for (size_t i = 0; i < n; i++) {
		node = child(p, node, frames[i]);
		p->nodes[node].total += count;
	}
	p->nodes[node].self += count;
	p->samples += count;
}

void profile_add_path(struct profile *p, struct profile_path *last,
		      const uint32_t *frames, size_t n, uint64_t count)
{
	uint32_t node = 0;
	size_t i = 0;

	if (n > last->cap) {
		last->cap = n;
		last->frames = xrealloc(last->frames, n * sizeof(*last->frames));
		last->nodes = xrealloc(last->nodes, n * sizeof(*last->nodes));
	}
	p->nodes[0].total += count;
	for (; i < n && i < last->n && last->frames[i] == frames[i]; i++) {
		node = last->nodes[i];
		p->nodes[node].total += count;
	}
	for (; i < n; i++) {
		node = child(p, node, frames[i]);
		p->nodes[node].total += count;
		last->frames[i] = frames[i];
		last->nodes[i] = node;
	}
	last->n = n;
	p->nodes[node].self += count;
	p->samples += count;
}

void profile_path_release(struct profile_path *pp)
{
	free(pp->frames);
	free(pp->nodes);
	memset(pp, 0, sizeof(*pp));
}

void profile_frame_label(const struct pframe *f, char *buf, size_t size)
{
	if (!f->file)
		snprintf(buf, size, "%s", f->function);
	else if (f->line > 0)
		snprintf(buf, size, "%s (%s:%d)", f->function, f->file, f->line);
	else
		snprintf(buf, size, "%s (%s)", f->function, f->file);
}
