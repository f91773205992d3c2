/* The GNU build-id of an ELF file (NT_GNU_BUILD_ID in a PT_NOTE). */
#ifndef SS_ELF_BUILDID_H
#define SS_ELF_BUILDID_H

#include <stddef.h>
#include <stdint.h>

#include "elf/elffile.h"

/* Copy the build-id's bytes to out (at most max) and return its length,
 * or 0 when the file has none. */
size_t elf_build_id(struct elf_file *f, uint8_t *out, size_t max);

/* Lower-case hex of id into buf (NUL-terminated, truncated to fit). */
void build_id_hex(const uint8_t *id, size_t n, char *buf, size_t len);

#endif
