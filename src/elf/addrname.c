#include "elf/addrname.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "elf/buildid.h"
#include "elf/elffile.h"
#include "elf/nearsym.h"
#include "target/rootview.h"

#define MAX_LOADS 32

static const struct mapping *mapping_at(const struct maps *maps,
					uint64_t addr)
{
	for (size_t i = 0; i < maps->n; i++)
		if (addr >= maps->v[i].start && addr < maps->v[i].end)
			return &maps->v[i];
	return NULL;
}

const char *addr_map_name(const struct mapping *m)
{
	const char *slash;

	if (!m->path)
		return "anonymous memory";
	if (m->path[0] == '[')
		return m->path;
	slash = strrchr(m->path, '/');
	return slash ? slash + 1 : m->path;
}

const char *addr_name_path(const struct addr_name *an)
{
	if (!an->map)
		return "unmapped";
	if (an->view)
		return an->view;
	return an->map->path ? an->map->path : "anonymous memory";
}

/* The link-time address of a file offset: inside the PT_LOAD that maps
 * it from the file. */
static int link_vaddr(struct elf_file *f, uint64_t off, uint64_t *vaddr)
{
	GElf_Phdr ph[MAX_LOADS];
	size_t n = elf_load_segments(f, ph, MAX_LOADS);

	for (size_t i = 0; i < n; i++) {
		if (off >= ph[i].p_offset &&
		    off < ph[i].p_offset + ph[i].p_filesz) {
			*vaddr = ph[i].p_vaddr + (off - ph[i].p_offset);
			return 0;
		}
	}
	return -1;
}

void addr_name_lookup(pid_t pid, const struct maps *maps, uint64_t addr,
		      struct addr_name *out)
{
	char path[PATH_MAX + 32];
	uint8_t id[64];
	struct elf_file f;
	struct err ignored = { 0 };
	uint64_t vaddr;
	size_t n;

	struct target_root root;

	memset(out, 0, sizeof(*out));
	out->map = mapping_at(maps, addr);
	if (!out->map || !out->map->path || out->map->path[0] != '/')
		return;
	/* maps names a chrooted target's files with the chroot's path. */
	target_root_init(&root, pid);
	out->view = target_root_view(&root, out->map->path);
	if (target_root_host_path(&root, out->view, path, sizeof(path)))
		return;
	if (elf_file_open(&f, path, out->map->path, &ignored))
		return;
	n = elf_build_id(&f, id, sizeof(id));
	build_id_hex(id, n, out->build_id, sizeof(out->build_id));
	if (!link_vaddr(&f, addr - out->map->start + out->map->offset, &vaddr) &&
	    elf_nearest_symbol(&f, vaddr, out->symbol, sizeof(out->symbol)))
		out->symbol[0] = '\0';
	elf_file_close(&f);
}
