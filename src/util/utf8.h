/* UTF-8 encoding helpers (Python strings are decoded to UTF-8 for output). */
#ifndef SS_UTIL_UTF8_H
#define SS_UTIL_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Length (1-4) of the valid UTF-8 sequence at p, or 0 if invalid. */
size_t utf8_valid_len(const unsigned char *p, size_t avail);
/* Encode code point cp into out (>= 4 bytes); returns bytes written.
 * Surrogates and out-of-range values become U+FFFD. */
size_t utf8_encode(uint32_t cp, char *out);

#endif
