#include "elf/nearsym.h"

#include <stdio.h>
#include <string.h>

struct best {
	uint64_t value;
	const char *name;
	bool contains;
};

static void consider(struct best *b, const GElf_Sym *s, const char *name,
		     uint64_t vaddr, size_t shndx)
{
	int type = GELF_ST_TYPE(s->st_info);
	bool contains;

	if (s->st_shndx != shndx || !name || !*name || s->st_value > vaddr)
		return;
	if (type != STT_OBJECT && type != STT_FUNC && type != STT_NOTYPE &&
	    type != STT_TLS)
		return;
	contains = vaddr < s->st_value + s->st_size;
	/* A containing symbol beats any other; then the closest below. */
	if (b->name && b->contains && !contains)
		return;
	if (b->name && b->contains == contains && s->st_value <= b->value)
		return;
	b->value = s->st_value;
	b->name = name;
	b->contains = contains;
}

/* The section holding vaddr (allocated sections only), or 0. */
static size_t section_of(struct elf_file *f, uint64_t vaddr, GElf_Shdr *out)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(f->elf, scn))) {
		if (!gelf_getshdr(scn, &sh) || !(sh.sh_flags & SHF_ALLOC) ||
		    vaddr < sh.sh_addr || vaddr >= sh.sh_addr + sh.sh_size)
			continue;
		*out = sh;
		return elf_ndxscn(scn);
	}
	return 0;
}

int elf_nearest_symbol(struct elf_file *f, uint64_t vaddr, char *buf,
		       size_t len)
{
	struct best b = { 0 };
	Elf_Scn *scn = NULL;
	GElf_Shdr sh, target;
	size_t shndx = section_of(f, vaddr, &target), shstrndx;

	if (!shndx)
		return -1;
	while ((scn = elf_nextscn(f->elf, scn))) {
		Elf_Data *d;
		size_t i, count;

		if (!gelf_getshdr(scn, &sh) ||
		    (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM) ||
		    !sh.sh_entsize)
			continue;
		d = elf_getdata(scn, NULL);
		if (!d)
			continue;
		count = sh.sh_size / sh.sh_entsize;
		for (i = 0; i < count; i++) {
			GElf_Sym s;

			if (!gelf_getsym(d, (int)i, &s))
				break;
			consider(&b, &s, elf_strptr(f->elf, sh.sh_link,
						    s.st_name), vaddr, shndx);
		}
	}
	if (b.name) {
		if (vaddr == b.value)
			snprintf(buf, len, "%s", b.name);
		else
			snprintf(buf, len, "%s+0x%llx", b.name,
				 (unsigned long long)(vaddr - b.value));
		return 0;
	}
	if (elf_getshdrstrndx(f->elf, &shstrndx) != 0)
		return -1;
	{
		const char *name = elf_strptr(f->elf, shstrndx,
					      target.sh_name);

		if (!name)
			return -1;
		snprintf(buf, len, "%s+0x%llx", name,
			 (unsigned long long)(vaddr - target.sh_addr));
	}
	return 0;
}
