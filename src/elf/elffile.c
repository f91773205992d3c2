#include "elffile.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int init_libelf(struct err *e)
{
	if (elf_version(EV_CURRENT) == EV_NONE)
		return err_set(e, SS_EIO, "libelf is unusable: %s",
			       elf_errmsg(-1));
	return 0;
}

static void find_min_vaddr(struct elf_file *f)
{
	size_t i, n = 0;
	GElf_Phdr ph;

	f->min_vaddr = UINT64_MAX;
	if (elf_getphdrnum(f->elf, &n) != 0)
		n = 0;
	for (i = 0; i < n; i++) {
		if (!gelf_getphdr(f->elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (ph.p_vaddr < f->min_vaddr)
			f->min_vaddr = ph.p_vaddr & ~(uint64_t)0xfff;
	}
	if (f->min_vaddr == UINT64_MAX)
		f->min_vaddr = 0;
}

static void note_symbol_tables(struct elf_file *f)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(f->elf, scn))) {
		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_SYMTAB)
			f->has_symtab = true;
		else if (sh.sh_type == SHT_DYNSYM)
			f->has_dynsym = true;
	}
}

/* Take over fd and check that it is an x86-64 ELF file.  cmd is
 * ELF_C_READ_MMAP (fast) or ELF_C_READ (pread: a concurrent truncation is a
 * failed read rather than SIGBUS). */
static int begin(struct elf_file *f, int fd, Elf_Cmd cmd, const char *display,
		 struct err *e)
{
	int rc;

	memset(f, 0, sizeof(*f));
	f->fd = fd;
	rc = init_libelf(e);
	if (rc) {
		elf_file_close(f);
		return rc;
	}
	f->elf = elf_begin(f->fd, cmd, NULL);
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
	find_min_vaddr(f);
	note_symbol_tables(f);
	return 0;
}

int elf_file_open(struct elf_file *f, const char *path, const char *display,
		  struct err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		int saved = errno;

		memset(f, 0, sizeof(*f));
		f->fd = -1;
		return err_set(e, saved == EACCES ? SS_EPERM : SS_EIO,
			       "cannot open '%s': %s", display,
			       strerror(saved));
	}
	return begin(f, fd, ELF_C_READ_MMAP, display, e);
}

int elf_file_open_fd(struct elf_file *f, int fd, const char *display,
		     struct err *e)
{
	return begin(f, fd, ELF_C_READ, display, e);
}

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

void elf_file_close(struct elf_file *f)
{
	if (f->elf)
		elf_end(f->elf);
	if (f->fd >= 0)
		close(f->fd);
	f->elf = NULL;
	f->fd = -1;
}

static void scan_symbols(Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh,
			 const char *const *names, size_t n, uint64_t *values,
			 bool *from_symtab, bool is_symtab)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t count, i, k;
	GElf_Sym sym;

	if (!data || !sh->sh_entsize)
		return;
	count = sh->sh_size / sh->sh_entsize;
	for (i = 0; i < count; i++) {
		const char *name;

		if (!gelf_getsym(data, (int)i, &sym) || !sym.st_value ||
		    sym.st_shndx == SHN_UNDEF)
			continue;
		name = elf_strptr(elf, sh->sh_link, sym.st_name);
		if (!name || !*name)
			continue;
		for (k = 0; k < n; k++) {
			if (values[k] || strcmp(name, names[k]) != 0)
				continue;
			values[k] = sym.st_value;
			if (from_symtab)
				from_symtab[k] = is_symtab;
		}
	}
}

size_t elf_lookup_symbols(struct elf_file *f, const char *const *names,
			  size_t n, uint64_t *values, bool *from_symtab)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	size_t i, found = 0;

	memset(values, 0, n * sizeof(*values));
	/* .dynsym first: it is what stripped distribution builds keep. */
	for (int pass = 0; pass < 2; pass++) {
		Elf64_Word want = pass == 0 ? SHT_DYNSYM : SHT_SYMTAB;

		scn = NULL;
		while ((scn = elf_nextscn(f->elf, scn))) {
			if (!gelf_getshdr(scn, &sh) || sh.sh_type != want)
				continue;
			scan_symbols(f->elf, scn, &sh, names, n, values,
				     from_symtab, pass == 1);
		}
	}
	for (i = 0; i < n; i++)
		found += values[i] != 0;
	return found;
}

static uint64_t scan_file_local(Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh,
				const char *file, const char *name)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	bool in_file = false;
	size_t count, i;
	GElf_Sym sym;

	if (!data || !sh->sh_entsize)
		return 0;
	count = sh->sh_size / sh->sh_entsize;
	for (i = 0; i < count; i++) {
		const char *n;

		if (!gelf_getsym(data, (int)i, &sym))
			continue;
		n = elf_strptr(elf, sh->sh_link, sym.st_name);
		if (!n)
			continue;
		if (GELF_ST_TYPE(sym.st_info) == STT_FILE)
			in_file = strcmp(n, file) == 0;
		else if (in_file && GELF_ST_BIND(sym.st_info) == STB_LOCAL &&
			 sym.st_shndx != SHN_UNDEF && strcmp(n, name) == 0)
			return sym.st_value;
	}
	return 0;
}

uint64_t elf_lookup_file_local(struct elf_file *f, const char *file,
			       const char *name)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	uint64_t v;

	while ((scn = elf_nextscn(f->elf, scn))) {
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB)
			continue;
		v = scan_file_local(f->elf, scn, &sh, file, name);
		if (v)
			return v;
	}
	return 0;
}

int elf_read_vaddr(struct elf_file *f, uint64_t vaddr, void *buf, size_t len)
{
	size_t i, n = 0;
	GElf_Phdr ph;

	if (elf_getphdrnum(f->elf, &n) != 0)
		return SS_EFAULT;
	for (i = 0; i < n; i++) {
		if (!gelf_getphdr(f->elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (vaddr < ph.p_vaddr || vaddr + len > ph.p_vaddr + ph.p_filesz)
			continue;
		if (pread(f->fd, buf, len,
			  (off_t)(ph.p_offset + (vaddr - ph.p_vaddr))) ==
		    (ssize_t)len)
			return 0;
		return SS_EIO;
	}
	return SS_EFAULT;
}

/* "3.6.15", "2.7.18", "3.15.0a2", "3.14.0rc1+": digits.digits.digits then
 * a short tail of [a-z0-9+]. */
static bool looks_like_version(const char *s, size_t len)
{
	size_t i = 0;
	int dots = 0;

	if (len < 5 || len > 16 || (s[0] != '2' && s[0] != '3') || s[1] != '.')
		return false;
	for (i = 2; i < len && (isdigit((unsigned char)s[i]) || s[i] == '.');
	     i++)
		dots += s[i] == '.';
	if (dots != 1 || s[i - 1] == '.')
		return false;
	for (; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '+')
			return false;
	return true;
}

static bool scan_rodata(const char *d, size_t size, const char *prefix,
			char *out, size_t len)
{
	size_t i = 0;

	while (i < size) {
		size_t start = i;

		while (i < size && d[i])
			i++;
		if (i < size && looks_like_version(d + start, i - start) &&
		    (!*prefix ||
		     strncmp(d + start, prefix, strlen(prefix)) == 0)) {
			snprintf(out, len, "%.*s", (int)(i - start), d + start);
			return true;
		}
		i++;
	}
	return false;
}

int elf_find_version_string(struct elf_file *f, const char *prefix, char *out,
			    size_t len)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	size_t shstrndx;

	if (elf_getshdrstrndx(f->elf, &shstrndx) != 0)
		return SS_ENOTPY;
	while ((scn = elf_nextscn(f->elf, scn))) {
		const char *name;
		Elf_Data *data;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS)
			continue;
		name = elf_strptr(f->elf, shstrndx, sh.sh_name);
		if (!name || strcmp(name, ".rodata") != 0)
			continue;
		data = elf_getdata(scn, NULL);
		if (data && data->d_buf &&
		    scan_rodata(data->d_buf, data->d_size, prefix, out, len))
			return 0;
	}
	return SS_ENOTPY;
}

bool elf_is_pie(const struct elf_file *f)
{
	return f->ehdr.e_type == ET_DYN;
}
