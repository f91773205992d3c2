/* A sampling profile: a trie of call paths with sample counts, over frames
 * interned by content.  The record command feeds it one stack at a time;
 * the profile writers (src/out/collapsed.c, speedscope.c, flamegraph.c,
 * pprof.c) read it and never touch the target. */
#ifndef SS_STACK_PROFILE_H
#define SS_STACK_PROFILE_H

#include <stddef.h>
#include <stdint.h>

/* A frame as profiles show it.  file NULL and line -1 for synthetic frames
 * (process and thread roots); line 0 with --function (lines ignored). */
struct pframe {
	const char *function;     /* owned by the profile */
	const char *file;         /* owned by the profile, or NULL */
	int line;
};

/* Node 0 is the root (no frame).  Children of a node are chained through
 * next_sibling, newest first. */
struct pnode {
	uint32_t frame;           /* index into profile.frames */
	uint32_t parent;
	uint32_t first_child;     /* 0: none */
	uint32_t next_sibling;    /* 0: none */
	uint64_t self;            /* samples ending here */
	uint64_t total;           /* samples through here */
};

/* (string addresses, line) -> frame: the lookup that avoids hashing text. */
struct pframe_ptr {
	uintptr_t fn, file;
	int line;
	uint32_t id;
};

struct profile {
	struct pframe *frames;
	size_t nframes, frames_cap;
	struct pnode *nodes;
	size_t nnodes, nodes_cap;
	uint64_t samples;         /* stacks added */
	/* Lookup tables (open addressing, private to profile.c). */
	uint32_t *child_slots;    /* (parent, frame) -> node */
	size_t child_cap;
	uint32_t *frame_slots;    /* content -> frame */
	size_t frame_cap;
	struct pframe_ptr *ptr_slots;
	size_t ptr_cap, nptr;     /* (string pointers, line) -> frame */
	char **strings;           /* interned strings, owned */
	size_t nstrings, strings_cap;
	uint32_t *string_slots;
	size_t string_cap;
};

void profile_init(struct profile *p);
void profile_release(struct profile *p);

/* The frame for (function, file, line), interning copies of the strings.
 * The key is the strings' addresses first: callers that pass strings that
 * stay alive and unchanged for the profile's life (the reader's caches) get
 * a lookup without hashing text. */
uint32_t profile_frame(struct profile *p, const char *function,
		       const char *file, int line);

/* The same by content only, for strings that do not stay alive (labels
 * built in a buffer). */
uint32_t profile_frame_text(struct profile *p, const char *function,
			    const char *file, int line);

/* Forget the string addresses profile_frame() has seen (their owner is
 * about to free them); frames themselves stay. */
void profile_forget_pointers(struct profile *p);

/* Add one sample of the path frames[0] (outermost) .. frames[n-1]. */
void profile_add(struct profile *p, const uint32_t *frames, size_t n,
		 uint64_t count);

/* The last path added through it, with its trie nodes: a sampler adds
 * one per thread, and a thread's stack mostly changes at its top, so the
 * common part is walked without looking anything up. */
struct profile_path {
	uint32_t *frames, *nodes;
	size_t n, cap;
};

/* profile_add() that reuses last's nodes for the prefix frames share with
 * it, then remembers frames in last.  Empty last: { 0 }. */
void profile_add_path(struct profile *p, struct profile_path *last,
		      const uint32_t *frames, size_t n, uint64_t count);
void profile_path_release(struct profile_path *pp);

/* "function (file:line)", "function (file)" (line 0) or "function"
 * (synthetic) into buf. */
void profile_frame_label(const struct pframe *f, char *buf, size_t size);

#endif
