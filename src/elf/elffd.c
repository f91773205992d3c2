#include "elf/elffd.h"

#include <string.h>
#include <unistd.h>

size_t elf_load_segments(struct elf_file *f, GElf_Phdr *out, size_t max)
{
	size_t i, n = 0, k = 0;
	GElf_Phdr ph;

	if (elf_getphdrnum(f->elf, &n) != 0)
		return 0;
	for (i = 0; i < n && k < max; i++)
		if (gelf_getphdr(f->elf, (int)i, &ph) && ph.p_type == PT_LOAD)
			out[k++] = ph;
	return k;
}

static void note_layout(struct elf_file *f)
{
	GElf_Phdr ph[64];
	size_t n = elf_load_segments(f, ph, 64), i;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	f->min_vaddr = n ? UINT64_MAX : 0;
	for (i = 0; i < n; i++)
		if ((ph[i].p_vaddr & ~(uint64_t)0xfff) < f->min_vaddr)
			f->min_vaddr = ph[i].p_vaddr & ~(uint64_t)0xfff;
	while ((scn = elf_nextscn(f->elf, scn))) {
		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_SYMTAB)
			f->has_symtab = true;
		else if (sh.sh_type == SHT_DYNSYM)
			f->has_dynsym = true;
	}
}

int elf_file_open_fd(struct elf_file *f, int fd, const char *display,
		     struct err *e)
{
	memset(f, 0, sizeof(*f));
	f->fd = fd;
	if (elf_version(EV_CURRENT) == EV_NONE) {
		elf_file_close(f);
		return err_set(e, SS_EIO, "libelf is unusable: %s",
			       elf_errmsg(-1));
	}
	f->elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!f->elf || elf_kind(f->elf) != ELF_K_ELF ||
	    !gelf_getehdr(f->elf, &f->ehdr)) {
		elf_file_close(f);
		return err_set(e, SS_ENOTPY, "'%s' is not an ELF file",
			       display);
	}
	if (f->ehdr.e_ident[EI_CLASS] != ELFCLASS64 ||
	    f->ehdr.e_machine != EM_X86_64) {
		elf_file_close(f);
		return err_set(e, SS_ENOTPY,
			       "'%s' is not an x86-64 ELF file", display);
	}
	note_layout(f);
	return 0;
}
