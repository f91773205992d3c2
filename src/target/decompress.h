/* Compressed cores (systemd-coredump stores .zst; .lz4 and .xz too):
 * recognised by their magic bytes and decompressed, streaming, into an
 * unlinked temporary file that can then be mapped like any core. */
#ifndef SS_TARGET_DECOMPRESS_H
#define SS_TARGET_DECOMPRESS_H

#include "util/err.h"

/* Open path for reading as a core.  An uncompressed file is returned as
 * is; a zstd, lz4 or xz one is decompressed into a temporary file (in
 * $TMPDIR, else /var/tmp) whose descriptor is returned.  Returns the
 * descriptor or a negative SS_E* with the message recorded. */
int decompress_open(const char *path, struct err *e);

/* The same for an already open descriptor (taken over). */
int decompress_fd(int fd, const char *display, struct err *e);

#endif
