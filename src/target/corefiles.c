#include "target/corefiles.h"

#include <fcntl.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf/buildid.h"
#include "elf/elffile.h"
#include "util/xalloc.h"

/* Where the ELF header, program headers and build-id note live. */
#define HEAD_BYTES 4096
#define MAX_OPEN_FILES 4096

void core_files_init(struct core_files *cf, const struct core *core,
		     const char *sysroot, const char *executable, FILE *warn)
{
	const struct mapping *m;

	memset(cf, 0, sizeof(*cf));
	cf->core = core;
	cf->sysroot = sysroot && *sysroot ? sysroot : NULL;
	cf->executable = executable;
	cf->warn = warn;
	m = core->at_entry ? core_file_at(core, core->at_entry) : NULL;
	cf->exe_recorded = m ? m->path : NULL;
}

void core_files_release(struct core_files *cf)
{
	for (size_t i = 0; i < cf->n; i++) {
		free(cf->v[i].recorded);
		free(cf->v[i].found);
		if (cf->v[i].fd >= 0)
			close(cf->v[i].fd);
	}
	free(cf->v);
	memset(cf, 0, sizeof(*cf));
}

/* The build-id in the core's copy of the file's first page (the kernel and
 * gdb dump the ELF header page of every mapped ELF file). */
static size_t core_build_id(const struct core *c, const char *path,
			    uint8_t *out, size_t max)
{
	const struct mapping *best = NULL;
	struct elf_file f;
	const void *head;
	size_t n;

	for (size_t i = 0; i < c->files.n; i++) {
		const struct mapping *m = &c->files.v[i];

		if (m->offset == 0 && !strcmp(m->path, path) &&
		    (!best || m->start < best->start))
			best = m;
	}
	if (!best || !(head = core_ptr(c, best->start, HEAD_BYTES)))
		return 0;
	memset(&f, 0, sizeof(f));
	f.fd = -1;
	f.elf = elf_memory((char *)head, HEAD_BYTES);
	if (!f.elf)
		return 0;
	n = elf_kind(f.elf) == ELF_K_ELF ? elf_build_id(&f, out, max) : 0;
	elf_end(f.elf);
	return n;
}

static void check_build_id(struct core_files *cf, struct core_file_ent *ent)
{
	uint8_t in_core[64], on_disk[64];
	char a[160], b[160];
	size_t na, nb;
	struct elf_file f;
	struct err ignored;

	na = core_build_id(cf->core, ent->recorded, in_core, sizeof(in_core));
	if (!na || !cf->warn)
		return;
	if (elf_file_open_fd(&f, dup(ent->fd), ent->found, &ignored))
		return;
	nb = elf_build_id(&f, on_disk, sizeof(on_disk));
	elf_file_close(&f);
	if (na == nb && !memcmp(in_core, on_disk, na))
		return;
	build_id_hex(in_core, na, a, sizeof(a));
	build_id_hex(on_disk, nb, b, sizeof(b));
	fprintf(cf->warn, "snakescope: warning: '%s' has build-id %s but the "
		"core's '%s' had %s: results may be wrong\n", ent->found,
		nb ? b : "(none)", ent->recorded, a);
}

static int try_open(struct core_file_ent *ent, const char *path)
{
	size_t used = strlen(ent->tried);
	/* The names come from the core: never block on a FIFO or device. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	struct stat st;

	if (fd >= 0 && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))) {
		close(fd);
		fd = -1;
	}
	if (fd >= 0) {
		ent->fd = fd;
		ent->found = xstrdup(path);
		return 0;
	}
	snprintf(ent->tried + used, sizeof(ent->tried) - used, "%s'%s'",
		 used ? ", " : "", path);
	return -1;
}

static void look_up(struct core_files *cf, struct core_file_ent *ent)
{
	char buf[PATH_MAX * 2];
	const char *p = ent->recorded;

	if (cf->executable && cf->exe_recorded &&
	    !strcmp(p, cf->exe_recorded) && try_open(ent, cf->executable) == 0)
		return;
	if (cf->sysroot) {
		snprintf(buf, sizeof(buf), "%s/%s", cf->sysroot,
			 p[0] == '/' ? p + 1 : p);
		if (try_open(ent, buf) == 0 || cf->sysroot_only)
			return;
	}
	try_open(ent, p);
}

int core_files_fd(struct core_files *cf, const char *path, const char **found,
		  struct err *e)
{
	struct core_file_ent *ent = NULL;

	for (size_t i = 0; i < cf->n; i++)
		if (!strcmp(cf->v[i].recorded, path))
			ent = &cf->v[i];
	if (!ent) {
		if (cf->n >= MAX_OPEN_FILES)
			return err_set(e, SS_EIO, "the core names too many "
				       "files");
		xgrow((void **)&cf->v, &cf->cap, cf->n + 1, sizeof(*cf->v));
		ent = &cf->v[cf->n++];
		memset(ent, 0, sizeof(*ent));
		ent->fd = -1;
		ent->recorded = xstrdup(path);
		look_up(cf, ent);
		if (ent->fd >= 0)
			check_build_id(cf, ent);
	}
	if (ent->fd < 0)
		return err_set(e, SS_EIO, "cannot find '%s', mapped in the "
			       "core (tried %s; give --sysroot DIR%s)", path,
			       ent->tried, cf->exe_recorded &&
			       !strcmp(path, cf->exe_recorded) ?
			       " or --executable PATH" : "");
	if (found)
		*found = ent->found;
	return ent->fd;
}
