/* Reading an ELF core with libelf: PT_LOAD segments and the notes
 * (NT_PRSTATUS, NT_PRPSINFO, NT_SIGINFO, NT_AUXV, NT_FILE). */
#include "target/core.h"

#include <elf.h>
#include <gelf.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/procfs.h>
#include <sys/reg.h>
#include <sys/stat.h>
#include <unistd.h>

#include "target/corenotes.h"
#include "util/xalloc.h"

/* Bounds on what a core may claim; real ones are far below. */
#define MAX_PHDRS (1u << 20)
#define MAX_THREADS (1u << 16)
#define MAX_FILES (1u << 20)
#define MAX_NOTE_SEGMENT (256u << 20)

static int corrupt(struct err *e, const char *display, const char *why)
{
	return err_set(e, SS_ECORRUPT, "'%s' is not a usable core file: %s",
		       display, why);
}

static int cmp_load(const void *a, const void *b)
{
	const struct core_load *x = a, *y = b;

	return x->vaddr < y->vaddr ? -1 : x->vaddr > y->vaddr;
}

static int read_loads(struct core *c, Elf *elf, const char *display,
		      struct err *e)
{
	size_t n = 0, i, cap = 0;
	GElf_Phdr ph;

	if (elf_getphdrnum(elf, &n) != 0)
		return corrupt(e, display, "unreadable program headers");
	if (n > MAX_PHDRS)
		return corrupt(e, display, "too many program headers");
	for (i = 0; i < n; i++) {
		struct core_load *l;

		if (!gelf_getphdr(elf, (int)i, &ph))
			return corrupt(e, display,
				       "unreadable program headers");
		if (ph.p_type != PT_LOAD || !ph.p_memsz)
			continue;
		if (ph.p_memsz > UINT64_MAX - ph.p_vaddr ||
		    ph.p_filesz > ph.p_memsz)
			return corrupt(e, display,
				       "a PT_LOAD segment wraps around");
		xgrow((void **)&c->loads, &cap, c->nloads + 1,
		      sizeof(*c->loads));
		l = &c->loads[c->nloads++];
		l->vaddr = ph.p_vaddr;
		l->memsz = ph.p_memsz;
		l->offset = ph.p_offset;
		l->filesz = ph.p_filesz;
		if (l->offset > c->size) {
			l->filesz = 0;
			c->truncated |= ph.p_filesz != 0;
		} else if (l->filesz > c->size - l->offset) {
			l->filesz = c->size - l->offset;
			c->truncated = true;
		}
	}
	if (c->nloads)
		qsort(c->loads, c->nloads, sizeof(*c->loads), cmp_load);
	for (i = 1; i < c->nloads; i++)
		if (c->loads[i].vaddr < c->loads[i - 1].vaddr +
					c->loads[i - 1].memsz)
			return corrupt(e, display,
				       "PT_LOAD segments overlap");
	return 0;
}

int core_parse_nt_file(const uint8_t *desc, size_t len, struct maps *files,
		       struct err *e)
{
	uint64_t count, page_size, i;
	size_t names, pos;

	memset(files, 0, sizeof(*files));
	if (len < 16)
		return err_set(e, SS_ECORRUPT, "NT_FILE note is too short");
	memcpy(&count, desc, 8);
	memcpy(&page_size, desc + 8, 8);
	if (count > MAX_FILES || count > (len - 16) / 24)
		return err_set(e, SS_ECORRUPT,
			       "NT_FILE note claims %llu files in %zu bytes",
			       (unsigned long long)count, len);
	if (!page_size || (page_size & (page_size - 1)) ||
	    page_size > (1u << 30))
		return err_set(e, SS_ECORRUPT,
			       "NT_FILE note has page size %llu",
			       (unsigned long long)page_size);
	files->v = xcalloc(count ? count : 1, sizeof(*files->v));
	names = 16 + (size_t)count * 24;
	pos = names;
	for (i = 0; i < count; i++) {
		struct mapping *m = &files->v[i];
		uint64_t t[3];
		const uint8_t *nul;

		memcpy(t, desc + 16 + i * 24, 24);
		nul = pos < len ? memchr(desc + pos, '\0', len - pos) : NULL;
		if (!nul || t[0] >= t[1] || t[2] > UINT64_MAX / page_size) {
			maps_release(files);
			return err_set(e, SS_ECORRUPT,
				       "NT_FILE note entry %llu is malformed",
				       (unsigned long long)i);
		}
		m->start = t[0];
		m->end = t[1];
		m->offset = t[2] * page_size;
		memcpy(m->perms, "r--p", 5);
		m->path = xstrndup((const char *)desc + pos,
				   (size_t)(nul - (desc + pos)));
		pos = (size_t)(nul - desc) + 1;
		files->n++;
	}
	return 0;
}

static void copy_str(char *dst, size_t cap, const char *src, size_t n)
{
	size_t k = 0;

	while (k < n && k + 1 < cap && src[k])
		k++;
	memcpy(dst, src, k);
	dst[k] = '\0';
}

static void parse_auxv(struct core *c, const uint8_t *desc, size_t len)
{
	for (size_t off = 0; off + 16 <= len; off += 16) {
		uint64_t kv[2];

		memcpy(kv, desc + off, 16);
		if (kv[0] == AT_NULL)
			break;
		if (kv[0] == AT_ENTRY)
			c->at_entry = kv[1];
	}
}

/* The signals whose default action is a core dump.  Others in a core's
 * notes did not kill the process: gcore records the SIGSTOP it attached
 * with. */
static bool dumps_core(int sig)
{
	switch (sig) {
	case SIGQUIT: case SIGILL: case SIGTRAP: case SIGABRT: case SIGBUS:
	case SIGFPE: case SIGSEGV: case SIGXCPU: case SIGXFSZ: case SIGSYS:
		return true;
	default:
		return false;
	}
}

static void parse_siginfo(struct core *c, const uint8_t *desc, size_t len)
{
	int32_t v[3];

	if (len < 24)
		return;
	memcpy(v, desc, 12);
	if (!dumps_core(v[0]))
		return;
	c->signo = v[0];
	c->si_code = v[2];
	if (v[0] == SIGSEGV || v[0] == SIGBUS || v[0] == SIGILL ||
	    v[0] == SIGFPE || v[0] == SIGTRAP) {
		memcpy(&c->fault_addr, desc + 16, 8);
		c->has_addr = true;
	}
}

static int parse_note(struct core *c, const GElf_Nhdr *nh, const char *name,
		      const uint8_t *desc, const char *display, struct err *e,
		      size_t *thread_cap)
{
	int rc;

	if (nh->n_namesz != 5 || memcmp(name, "CORE", 5) != 0)
		return 0;
	switch (nh->n_type) {
	case NT_PRSTATUS: {
		struct elf_prstatus st;
		struct core_thread *t;

		if (nh->n_descsz < sizeof(st))
			return corrupt(e, display, "short NT_PRSTATUS note");
		if (c->nthreads >= MAX_THREADS)
			return corrupt(e, display, "too many threads");
		memcpy(&st, desc, sizeof(st));
		xgrow((void **)&c->threads, thread_cap, c->nthreads + 1,
		      sizeof(*c->threads));
		t = &c->threads[c->nthreads++];
		t->tid = st.pr_pid;
		t->cursig = st.pr_cursig;
		t->fs_base = st.pr_reg[FS_BASE];
		regs_from_user(&t->regs, (const uint64_t *)st.pr_reg,
			       sizeof(st.pr_reg) / sizeof(uint64_t));
		break;
	}
	case NT_PRPSINFO: {
		struct elf_prpsinfo ps;

		if (nh->n_descsz < sizeof(ps))
			return corrupt(e, display, "short NT_PRPSINFO note");
		memcpy(&ps, desc, sizeof(ps));
		c->pid = ps.pr_pid;
		copy_str(c->comm, sizeof(c->comm), ps.pr_fname,
			 sizeof(ps.pr_fname));
		copy_str(c->args, sizeof(c->args), ps.pr_psargs,
			 sizeof(ps.pr_psargs));
		break;
	}
	case NT_SIGINFO:
		parse_siginfo(c, desc, nh->n_descsz);
		break;
	case NT_AUXV:
		parse_auxv(c, desc, nh->n_descsz);
		break;
	case NT_FILE:
		if (c->files.v)
			return corrupt(e, display, "two NT_FILE notes");
		rc = core_parse_nt_file(desc, nh->n_descsz, &c->files, e);
		if (rc)
			return err_prefix(e, "'%s' is not a usable core file",
					  display);
		break;
	default:
		break;
	}
	return 0;
}

static int read_notes(struct core *c, Elf *elf, const char *display,
		      struct err *e)
{
	size_t n = 0, i, thread_cap = 0;
	GElf_Phdr ph;
	int rc;

	if (elf_getphdrnum(elf, &n) != 0)
		return corrupt(e, display, "unreadable program headers");
	for (i = 0; i < n; i++) {
		Elf_Data *d;
		size_t off = 0, next, name_off, desc_off;
		GElf_Nhdr nh;

		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_NOTE)
			continue;
		if (ph.p_filesz > MAX_NOTE_SEGMENT || ph.p_offset > c->size ||
		    ph.p_filesz > c->size - ph.p_offset)
			return corrupt(e, display, "the notes are cut off "
				       "(truncated core)");
		d = elf_getdata_rawchunk(elf, (int64_t)ph.p_offset,
					 ph.p_filesz, ELF_T_NHDR);
		if (!d)
			return corrupt(e, display, "unreadable notes");
		/* gelf_getnote() checks each note against d->d_size and
		 * returns 0 at the end or on a malformed one. */
		while (off < d->d_size &&
		       (next = gelf_getnote(d, off, &nh, &name_off,
					    &desc_off)) > 0) {
			rc = parse_note(c, &nh,
					(const char *)d->d_buf + name_off,
					(const uint8_t *)d->d_buf + desc_off,
					display, e, &thread_cap);
			if (rc)
				return rc;
			if (next <= off)
				break;
			off = next;
		}
	}
	if (!c->nthreads)
		return corrupt(e, display, "no NT_PRSTATUS note (no threads)");
	if (!c->pid)
		c->pid = c->threads[0].tid;
	if (!c->signo && dumps_core(c->threads[0].cursig))
		c->signo = c->threads[0].cursig;
	return 0;
}

int core_open_fd(struct core *c, int fd, const char *display, struct err *e)
{
	struct stat st;
	GElf_Ehdr eh;
	Elf *elf = NULL;
	void *map;
	int rc;

	memset(c, 0, sizeof(*c));
	c->fd = fd;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = err_set(e, SS_EIO, "'%s' is not a regular file", display);
		goto fail;
	}
	if (st.st_size == 0) {
		rc = err_set(e, SS_ECORRUPT, "'%s' is empty", display);
		goto fail;
	}
	c->size = (size_t)st.st_size;
	map = mmap(NULL, c->size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED) {
		rc = err_set(e, SS_EIO, "cannot map '%s'", display);
		goto fail;
	}
	c->map = map;
	if (elf_version(EV_CURRENT) == EV_NONE) {
		rc = err_set(e, SS_EIO, "libelf is unusable");
		goto fail;
	}
	/* libelf reads from our mapping: it checks its own offsets against
	 * the size given, so a truncated core cannot take it past the end. */
	elf = elf_memory((char *)c->map, c->size);
	if (!elf || elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh)) {
		rc = err_set(e, SS_ECORRUPT, "'%s' is not an ELF core file",
			     display);
		goto fail;
	}
	if (eh.e_type != ET_CORE) {
		rc = err_set(e, SS_ECORRUPT, "'%s' is an ELF file but not a "
			     "core (ELF type %u)", display, eh.e_type);
		goto fail;
	}
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_machine != EM_X86_64) {
		rc = err_set(e, SS_ECORRUPT, "'%s' is not an x86-64 core",
			     display);
		goto fail;
	}
	rc = read_loads(c, elf, display, e);
	if (!rc)
		rc = read_notes(c, elf, display, e);
	if (rc)
		goto fail;
	elf_end(elf);
	return 0;
fail:
	if (elf)
		elf_end(elf);
	core_close(c);
	return rc;
}

void core_close(struct core *c)
{
	if (c->map)
		munmap((void *)c->map, c->size);
	if (c->fd >= 0)
		close(c->fd);
	free(c->loads);
	free(c->threads);
	maps_release(&c->files);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

const struct core_load *core_load_at(const struct core *c, uint64_t addr)
{
	size_t lo = 0, hi = c->nloads;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct core_load *l = &c->loads[mid];

		if (addr < l->vaddr)
			hi = mid;
		else if (addr - l->vaddr >= l->memsz)
			lo = mid + 1;
		else
			return l;
	}
	return NULL;
}

const void *core_ptr(const struct core *c, uint64_t addr, size_t len)
{
	const struct core_load *l = core_load_at(c, addr);
	uint64_t rel;

	if (!l)
		return NULL;
	rel = addr - l->vaddr;
	if (rel > l->filesz || len > l->filesz - rel)
		return NULL;
	return c->map + l->offset + rel;
}

const struct mapping *core_file_at(const struct core *c, uint64_t addr)
{
	for (size_t i = 0; i < c->files.n; i++)
		if (addr >= c->files.v[i].start && addr < c->files.v[i].end)
			return &c->files.v[i];
	return NULL;
}
