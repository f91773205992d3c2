/* Allocation that cannot fail: on exhaustion print one line and exit 1.
 * snakescope's allocations are small and bounded, so running out of memory
 * means the machine is in trouble and there is nothing sensible to resume. */
#ifndef SS_UTIL_XALLOC_H
#define SS_UTIL_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Make the next `bytes` of small allocations come from memory already
 * faulted in (glibc: keep freed heap memory instead of trimming it). */
void xprefault(size_t bytes);
/* Grow *p (of *cap elements of size elem) to hold at least need elements. */
void xgrow(void **p, size_t *cap, size_t need, size_t elem);
#define XGROW(p, cap, need) xgrow((void **)&(p), &(cap), (need), sizeof(*(p)))

#endif
