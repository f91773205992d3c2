#include "xalloc.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *check(void *p, size_t n)
{
	if (!p && n) {
		fputs("snakescope: out of memory\n", stderr);
		exit(1);
	}
	return p;
}

void *xmalloc(size_t n)
{
	return check(malloc(n), n);
}

void *xcalloc(size_t nmemb, size_t size)
{
	return check(calloc(nmemb, size), nmemb * size);
}

void *xrealloc(void *p, size_t n)
{
	return check(realloc(p, n), n);
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *d = xmalloc(n + 1);

	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

void xgrow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t c = *cap ? *cap : 8;

	if (need <= *cap)
		return;
	while (c < need)
		c *= 2;
	*p = xrealloc(*p, c * elem);
	*cap = c;
}

/* Blocks below glibc's mmap threshold (128 KiB), so they come from the
 * heap that later small allocations are carved from. */
#define PREFAULT_BLOCK (64u << 10)

void xprefault(size_t bytes)
{
	size_t n = bytes / PREFAULT_BLOCK;
	void **v = calloc(n ? n : 1, sizeof(*v));

	if (!v)
		return;
#ifdef M_TRIM_THRESHOLD
	/* Freed memory at the top of the heap would go back to the system
	 * once it passes the trim threshold, faults and all. */
	mallopt(M_TRIM_THRESHOLD, (int)(bytes * 4 > (64u << 20) ? bytes * 4 :
					(64u << 20)));
#endif
	for (size_t i = 0; i < n; i++) {
		v[i] = malloc(PREFAULT_BLOCK);
		if (v[i])
			memset(v[i], 0, PREFAULT_BLOCK);
	}
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}
