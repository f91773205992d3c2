/* Growable NUL-terminated byte string. */
#ifndef SS_UTIL_STRBUF_H
#define SS_UTIL_STRBUF_H

#include <stddef.h>

struct strbuf {
	char *buf;
	size_t len;
	size_t cap;
};

#define STRBUF_INIT { 0 }

void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, char c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Append s as a JSON string literal, quotes included.  Invalid UTF-8 bytes
 * become U+FFFD so the document always parses. */
void strbuf_add_json_str(struct strbuf *sb, const char *s);
void strbuf_reset(struct strbuf *sb);
void strbuf_release(struct strbuf *sb);
/* Hand over the buffer (never NULL); sb is left empty. */
char *strbuf_detach(struct strbuf *sb);

#endif
