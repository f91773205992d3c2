#include "so/scan.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "elf/buildid.h"
#include "elf/dynreloc.h"
#include "elf/elffile.h"
#include "elf/nearsym.h"
#include "so/filter.h"
#include "target/mem_live.h"
#include "target/procfs.h"
#include "target/starttime.h"
#include "util/xalloc.h"

#define MAX_LOADS 64

struct scan {
	pid_t pid;
	const struct so_scan_opts *opts;
	struct so_report *r;
	struct memsrc *mem;
	struct err memerr; /* read failures the check tolerates land here */
	struct so_reloc_scratch scratch;
	char exe[PATH_MAX];
};

const char *so_kind_name(enum so_kind k)
{
	switch (k) {
	case SO_KIND_EXECUTABLE: return "executable";
	case SO_KIND_LIBPYTHON: return "libpython";
	case SO_KIND_EXTENSION: return "extension";
	case SO_KIND_LIBRARY: return "library";
	default: return "file";
	}
}

/* Reading must not disturb the evidence: O_NOATIME keeps atime as it was
 * (allowed for the owner and CAP_FOWNER; others read without it). */
static int open_quietly(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOATIME);

	if (fd < 0 && errno == EPERM)
		fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd;
}

static void map_files_path(pid_t pid, const struct so_object *o, char *buf,
			   size_t len)
{
	snprintf(buf, len, "/proc/%d/map_files/%llx-%llx", (int)pid,
		 (unsigned long long)o->maps[0].start,
		 (unsigned long long)o->maps[0].end);
}

/* The load bias: the first mapping shows file offset maps[0].offset at
 * maps[0].start; the PT_LOAD that starts at that (page-aligned) offset
 * says which link-time address that is. */
static bool find_bias(const struct so_object *o, const GElf_Phdr *ph,
		      size_t n, uint64_t min_vaddr, uint64_t *bias)
{
	for (size_t i = 0; i < n; i++) {
		if ((ph[i].p_offset & ~(uint64_t)0xfff) != o->maps[0].offset)
			continue;
		*bias = o->maps[0].start - (ph[i].p_vaddr & ~(uint64_t)0xfff);
		return true;
	}
	*bias = o->maps[0].start - min_vaddr;
	return false;
}

/* Whether every readable mapping still lies where the file's PT_LOADs
 * put its offset, and the file is long enough for all of them. */
static void check_layout(struct so_entry *en, const GElf_Phdr *ph, size_t n,
			 uint64_t file_size)
{
	const struct so_object *o = en->obj;

	for (size_t i = 0; i < n; i++)
		if (ph[i].p_offset + ph[i].p_filesz > file_size)
			en->ev.short_file = true;
	for (size_t m = 0; m < o->nmaps; m++) {
		const struct so_map *mp = &o->maps[m];
		uint64_t a = mp->start - en->bias;
		bool ok = false;

		/* PROT_NONE gaps between segments are not segments. */
		if (!strcmp(mp->perms, "---p") || !strcmp(mp->perms, "---s"))
			continue;
		for (size_t i = 0; i < n && !ok; i++) {
			uint64_t pv = ph[i].p_vaddr & ~(uint64_t)0xfff;
			uint64_t po = ph[i].p_offset & ~(uint64_t)0xfff;

			if (a < pv || a >= ph[i].p_vaddr + ph[i].p_memsz)
				continue;
			ok = po + (a - pv) == mp->offset;
		}
		if (!ok)
			en->ev.layout_mismatch = true;
	}
}

static enum so_kind kind_of(struct scan *s, const struct so_object *o,
			    struct elf_file *f)
{
	char mod[128], names[3][160];
	const char *want[3];
	uint64_t values[3];
	size_t k = 0, len;

	if (!strcmp(o->path, s->exe))
		return SO_KIND_EXECUTABLE;
	if (so_is_libpython(o->view))
		return SO_KIND_LIBPYTHON;
	if (!so_module_name(o->view, mod, sizeof(mod)))
		return SO_KIND_LIBRARY;
	snprintf(names[k], sizeof(names[k]), "PyInit_%s", mod);
	want[k] = names[k];
	k++;
	snprintf(names[k], sizeof(names[k]), "init%s", mod);
	want[k] = names[k];
	k++;
	/* Python 2 also imports "spammodule.so" as spam. */
	len = strlen(mod);
	if (len > 6 && !strcmp(mod + len - 6, "module")) {
		snprintf(names[k], sizeof(names[k]), "init%.*s",
			 (int)(len - 6), mod);
		want[k] = names[k];
		k++;
	}
	return elf_lookup_symbols(f, want, k, values, NULL) ?
		SO_KIND_EXTENSION : SO_KIND_LIBRARY;
}

static int check_relocs(struct scan *s, struct so_entry *en,
			struct elf_file *f)
{
	struct elf_dynrelocs rel;
	struct err e = { 0 };
	int rc;

	rc = elf_read_dynrelocs(f, en->obj->view, &rel, &e);
	if (rc) {
		snprintf(en->note, sizeof(en->note), "relocations not "
			 "checked: %.200s", e.msg);
		return 0;
	}
	rc = so_reloc_check(en->obj, en->bias, &rel, f->fd, s->mem,
			    &s->scratch, &en->reloc, &e);
	elf_dynrelocs_release(&rel);
	if (rc == SS_EGONE)
		return err_set(&s->memerr, rc, "process %d exited",
			       (int)s->pid);
	en->relocs_checked = true;
	en->ev.bad_slots = en->reloc.bad;
	if (en->reloc.short_file)
		en->ev.short_file = true;
	if (en->reloc.bad &&
	    elf_nearest_symbol(f, en->reloc.first_bad, en->first_bad_symbol,
			       sizeof(en->first_bad_symbol)) != 0)
		en->first_bad_symbol[0] = '\0';
	return 0;
}

/* Everything the ELF file of the mapped object tells. */
static int inspect_elf(struct scan *s, struct so_entry *en, int fd,
		       uint64_t file_size)
{
	GElf_Phdr ph[MAX_LOADS];
	struct elf_file f;
	struct err ignored;
	uint8_t id[64];
	size_t n, idlen;
	int rc = 0;

	if (elf_file_open_fd(&f, fd, en->obj->view, &ignored)) {
		en->kind = SO_KIND_DATA;
		return 0;
	}
	en->elf = true;
	idlen = elf_build_id(&f, id, sizeof(id));
	build_id_hex(id, idlen, en->build_id, sizeof(en->build_id));
	n = elf_load_segments(&f, ph, MAX_LOADS);
	if (!find_bias(en->obj, ph, n, f.min_vaddr, &en->bias))
		en->ev.layout_mismatch = true;
	check_layout(en, ph, n, file_size);
	en->kind = kind_of(s, en->obj, &f);
	if (s->opts->relocs)
		rc = check_relocs(s, en, &f);
	elf_file_close(&f);
	return rc;
}

/* Bound on the bytes compared to tell an identical copy (as `pin` leaves
 * it) from another file; larger files are "not known". */
#define MAX_COMPARE (1ull << 30)

/* Whether the file now at the path has the mapped file's contents, byte
 * for byte: the same build-id is not enough (strip keeps it). */
static int same_contents(int mapped, const char *host, const struct stat *pst,
			 uint64_t mapped_size)
{
	const size_t chunk = 1 << 16;
	uint64_t off = 0;
	int fd, rc = 1;
	char *a, *b;

	if (!S_ISREG(pst->st_mode) || (uint64_t)pst->st_size != mapped_size)
		return 0;
	if (mapped_size > MAX_COMPARE)
		return -1;
	fd = open_quietly(host);
	if (fd < 0)
		return -1;
	a = xmalloc(chunk);
	b = xmalloc(chunk);
	while (off < mapped_size && rc == 1) {
		size_t want = mapped_size - off < chunk ?
			(size_t)(mapped_size - off) : chunk;
		ssize_t x = pread(mapped, a, want, (off_t)off);
		ssize_t y = pread(fd, b, want, (off_t)off);

		if (x != (ssize_t)want || y != (ssize_t)want)
			rc = -1;
		else if (memcmp(a, b, want) != 0)
			rc = 0;
		off += want;
	}
	free(a);
	free(b);
	close(fd);
	return rc;
}

/* The birth time, where the file system keeps one (ext4, xfs, btrfs,
 * tmpfs): it tells a module installed after the process started from one
 * rewritten after it was loaded. */
static void read_birth(int fd, struct so_entry *en)
{
	struct statx sx;

	if (statx(fd, "", AT_EMPTY_PATH, STATX_BTIME, &sx) != 0 ||
	    !(sx.stx_mask & STATX_BTIME))
		return;
	en->have_btime = true;
	en->btime.tv_sec = sx.stx_btime.tv_sec;
	en->btime.tv_nsec = sx.stx_btime.tv_nsec;
}

static int scan_object(struct scan *s, const struct so_object *o,
		       struct so_entry *en)
{
	struct so_report *r = s->r;
	char host[PATH_MAX + 64], mf[96];
	struct stat pst, mst, fst;
	bool have_path, have_mf, same;
	uint64_t mapped_size = 0;
	int fd = -1, rc = 0;

	memset(en, 0, sizeof(*en));
	en->obj = o;
	en->load_address = o->maps[0].start;
	en->identical = -1;
	en->kind = SO_KIND_LIBRARY;
	en->system = so_path_is_system(o->view);
	en->ev.unlinked = o->deleted;
	map_files_path(s->pid, o, mf, sizeof(mf));
	have_mf = stat(mf, &mst) == 0;
	have_path = target_root_host_path(&r->root, o->view, host,
					  sizeof(host)) == 0 &&
		    stat(host, &pst) == 0;
	if (have_mf) {
		en->mapped_dev = mst.st_dev;
		en->mapped_ino = mst.st_ino;
		en->dev_known = true;
	} else {
		en->mapped_dev = makedev(o->dev_major, o->dev_minor);
		en->mapped_ino = (ino_t)o->inode;
	}
	same = have_path && pst.st_ino == en->mapped_ino &&
	       (!en->dev_known || pst.st_dev == en->mapped_dev);
	en->ev.path_missing = !have_path;
	en->ev.path_other = have_path && !same;

	/* Only regular files are opened: nothing else is ELF, and opening
	 * some special files has side effects. */
	if (have_mf && S_ISREG(mst.st_mode))
		fd = open_quietly(mf);
	if (fd < 0 && same && S_ISREG(pst.st_mode)) {
		fd = open_quietly(host);
		if (fd >= 0 && (fstat(fd, &fst) != 0 ||
				fst.st_ino != en->mapped_ino)) {
			close(fd);
			fd = -1;
		}
	}
	if (fd < 0) {
		snprintf(en->note, sizeof(en->note), "%s",
			 same ? "the mapped file cannot be read" :
			 "the mapped file is reachable only through "
			 "/proc/PID/map_files, which needs root "
			 "(CAP_SYS_ADMIN); not checked");
		goto verdict;
	}
	if (fstat(fd, &fst) == 0) {
		en->have_mtime = true;
		en->mtime = fst.st_mtim;
		mapped_size = (uint64_t)fst.st_size;
		/* The modification time, not the change time: ctime
		 * also moves on chmod, chown, a relabel or a new hard
		 * link, none of which touches the pages.  (A rewrite that
		 * puts an old mtime back is caught only if it truncated,
		 * by the relocation check.) */
		read_birth(fd, en);
		if (!o->deleted && fst.st_nlink > 0)
			en->ev.modified_after_start =
				so_modified_after_mapping(&fst.st_mtim,
					&r->started,
					en->have_btime ? &en->btime : NULL);
	}
	if (en->ev.path_other) {
		en->identical = same_contents(fd, host, &pst, mapped_size);
		lseek(fd, 0, SEEK_SET);
	}
	rc = inspect_elf(s, en, fd, mapped_size); /* takes fd */
	if (rc)
		return rc;
verdict:
	en->verdict = so_verdict_of(&en->ev);
	return 0;
}

bool so_report_has_findings(const struct so_report *r)
{
	return r->count[SO_REWRITTEN] || r->count[SO_CORRUPTED];
}

int so_scan(pid_t pid, const struct so_scan_opts *o, struct so_report *r,
	    struct err *e)
{
	struct scan s = { .pid = pid, .opts = o, .r = r };
	struct maps maps;
	int rc;

	memset(r, 0, sizeof(*r));
	r->pid = pid;
	rc = procfs_read_maps(pid, &maps, e);
	if (rc)
		return rc;
	rc = procfs_start_time(pid, &r->started, e);
	if (rc) {
		maps_release(&maps);
		return rc;
	}
	target_root_init(&r->root, pid);
	so_objects_build(&maps, r->root.prefix, &r->objects);
	maps_release(&maps);
	if (procfs_exe(pid, s.exe, sizeof(s.exe)))
		s.exe[0] = '\0';
	if (o->relocs) {
		rc = mem_live_open(&s.mem, pid, &s.memerr);
		if (rc) {
			err_set(e, rc, "%s", s.memerr.msg);
			goto out;
		}
	}
	r->v = xcalloc(r->objects.n ? r->objects.n : 1, sizeof(*r->v));
	for (size_t i = 0; i < r->objects.n; i++) {
		const struct so_object *obj = &r->objects.v[i];
		struct so_entry *en = &r->v[r->n];

		/* System files are not even opened without --all: that
		 * keeps `maps` fast on processes with hundreds of them. */
		if (!o->all && so_path_is_system(obj->view)) {
			r->hidden++;
			continue;
		}
		rc = scan_object(&s, obj, en);
		if (rc) {
			err_set(e, rc, "%s", s.memerr.msg);
			goto out;
		}
		if (!o->all && en->kind == SO_KIND_DATA) {
			r->hidden++;
			continue;
		}
		r->count[en->verdict]++;
		r->n++;
	}
out:
	so_reloc_scratch_release(&s.scratch);
	if (s.mem)
		s.mem->ops->release(s.mem);
	if (rc)
		so_report_release(r);
	return rc;
}

void so_report_release(struct so_report *r)
{
	free(r->v);
	r->v = NULL;
	r->n = 0;
	so_objects_release(&r->objects);
}
