#include "elf/buildid.h"

#include <stdio.h>
#include <string.h>

#define MAX_NOTE_SEGMENT (1u << 20)

static size_t scan_notes(Elf_Data *d, uint8_t *out, size_t max)
{
	size_t off = 0, name_off, desc_off;
	GElf_Nhdr nh;

	/* gelf_getnote advances off and fails on a malformed note, so the
	 * loop ends within d->d_size. */
	while ((off = gelf_getnote(d, off, &nh, &name_off, &desc_off)) > 0) {
		const char *name = (const char *)d->d_buf + name_off;

		if (nh.n_type != NT_GNU_BUILD_ID || nh.n_namesz != 4 ||
		    memcmp(name, "GNU", 4) != 0 || !nh.n_descsz)
			continue;
		if (nh.n_descsz > max)
			return 0;
		memcpy(out, (const uint8_t *)d->d_buf + desc_off,
		       nh.n_descsz);
		return nh.n_descsz;
	}
	return 0;
}

size_t elf_build_id(struct elf_file *f, uint8_t *out, size_t max)
{
	size_t i, n = 0, got;
	GElf_Phdr ph;

	if (elf_getphdrnum(f->elf, &n) != 0)
		return 0;
	for (i = 0; i < n; i++) {
		Elf_Data *d;

		if (!gelf_getphdr(f->elf, (int)i, &ph) ||
		    ph.p_type != PT_NOTE || !ph.p_filesz ||
		    ph.p_filesz > MAX_NOTE_SEGMENT)
			continue;
		/* 8-aligned note segments (GNU properties) use the
		 * 8-byte note layout. */
		d = elf_getdata_rawchunk(f->elf, (int64_t)ph.p_offset,
					 ph.p_filesz, ph.p_align == 8 ?
					 ELF_T_NHDR8 : ELF_T_NHDR);
		if (d && (got = scan_notes(d, out, max)))
			return got;
	}
	return 0;
}

void build_id_hex(const uint8_t *id, size_t n, char *buf, size_t len)
{
	size_t i;

	if (!len)
		return;
	buf[0] = '\0';
	for (i = 0; i < n && 2 * i + 2 < len; i++)
		snprintf(buf + 2 * i, 3, "%02x", id[i]);
}
