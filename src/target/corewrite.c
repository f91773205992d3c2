/* An ELF core of a held process, laid out like the kernel's: ELF header,
 * program headers (one PT_NOTE, then a PT_LOAD per mapping), the notes,
 * then the memory of each readable mapping at a page-aligned offset.
 * Memory is read through /proc/PID/mem, which the tracer may read;
 * pages that cannot be read (guard pages, an I/O error on a mapped file)
 * are left as holes of zeros, as are pages that are zero anyway. */
#include "target/corewrite.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/procfs.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/user.h>
#include <unistd.h>

#include "target/procfs.h"
#include "target/corenotes.h"
#include "util/xalloc.h"

#define PAGE 4096u
#define CHUNK (1u << 20)
#define AUXV_MAX 4096


struct notes {
	uint8_t *buf;
	size_t len, cap;
};

static void note_add(struct notes *n, const char *name, uint32_t type,
		     const void *desc, size_t len)
{
	Elf64_Nhdr nh = { .n_namesz = (Elf64_Word)strlen(name) + 1,
			  .n_descsz = (Elf64_Word)len, .n_type = type };
	size_t namesz = (nh.n_namesz + 3) & ~3u, descsz = (len + 3) & ~3ul;

	XGROW(n->buf, n->cap, n->len + sizeof(nh) + namesz + descsz);
	memcpy(n->buf + n->len, &nh, sizeof(nh));
	n->len += sizeof(nh);
	memset(n->buf + n->len, 0, namesz + descsz);
	memcpy(n->buf + n->len, name, nh.n_namesz - 1);
	n->len += namesz;
	memcpy(n->buf + n->len, desc, len);
	n->len += descsz;
}

static void note_thread(struct notes *n, const struct held_thread *t,
			pid_t pid, int sig)
{
	struct elf_prstatus st;
	struct user_fpregs_struct fp;

	memset(&st, 0, sizeof(st));
	st.pr_info.si_signo = sig;
	st.pr_cursig = (short)sig;
	st.pr_pid = t->tid;
	st.pr_ppid = getppid();
	st.pr_pgrp = getpgid(pid);
	st.pr_sid = getsid(pid);
	memcpy(&st.pr_reg, &t->regs, sizeof(st.pr_reg) < sizeof(t->regs) ?
	       sizeof(st.pr_reg) : sizeof(t->regs));
	st.pr_fpvalid = ptrace(PTRACE_GETFPREGS, t->tid, NULL, &fp) == 0;
	note_add(n, "CORE", NT_PRSTATUS, &st, sizeof(st));
	if (st.pr_fpvalid)
		note_add(n, "CORE", NT_FPREGSET, &fp, sizeof(fp));
}

static void note_psinfo(struct notes *n, pid_t pid)
{
	struct elf_prpsinfo ps;
	char path[64], args[sizeof(ps.pr_psargs)];
	ssize_t len = 0;
	int fd;

	memset(&ps, 0, sizeof(ps));
	ps.pr_pid = pid;
	ps.pr_ppid = getpid();
	ps.pr_pgrp = getpgid(pid);
	ps.pr_sid = getsid(pid);
	ps.pr_sname = 'R';
	procfs_comm(pid, ps.pr_fname, sizeof(ps.pr_fname));
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		len = read(fd, args, sizeof(args) - 1);
		close(fd);
	}
	for (ssize_t i = 0; i < len; i++)
		ps.pr_psargs[i] = args[i] ? args[i] : ' ';
	note_add(n, "CORE", NT_PRPSINFO, &ps, sizeof(ps));
}

static void note_auxv(struct notes *n, pid_t pid)
{
	char path[64];
	uint8_t buf[AUXV_MAX];
	ssize_t len = 0;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/auxv", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	len = read(fd, buf, sizeof(buf));
	close(fd);
	if (len > 0)
		note_add(n, "CORE", NT_AUXV, buf, (size_t)len);
}

/* NT_FILE: count, page size, (start, end, offset in pages) per file
 * mapping, then their names. */
static void note_files(struct notes *n, const struct maps *m)
{
	uint64_t *hdr;
	size_t count = 0, k = 0, names = 0, len;
	uint8_t *desc;

	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].path && m->v[i].path[0] == '/') {
			count++;
			names += strlen(m->v[i].path) + 1;
		}
	len = (2 + 3 * count) * 8 + names;
	desc = xcalloc(1, len);
	hdr = (uint64_t *)desc;
	hdr[0] = count;
	hdr[1] = PAGE;
	names = (2 + 3 * count) * 8;
	for (size_t i = 0; i < m->n; i++) {
		const struct mapping *mp = &m->v[i];

		if (!mp->path || mp->path[0] != '/')
			continue;
		hdr[2 + 3 * k] = mp->start;
		hdr[3 + 3 * k] = mp->end;
		hdr[4 + 3 * k] = mp->offset / PAGE;
		k++;
		strcpy((char *)desc + names, mp->path);
		names += strlen(mp->path) + 1;
	}
	note_add(n, "CORE", NT_FILE, desc, len);
	free(desc);
}

static void build_notes(struct notes *n, const struct hold *h, pid_t tid,
			const siginfo_t *si, const struct maps *m)
{
	const struct held_thread *first = hold_thread(h, tid);

	/* The crashing thread first: readers take it as the one that
	 * received the signal. */
	if (first)
		note_thread(n, first, h->pid, si->si_signo);
	note_psinfo(n, h->pid);
	note_add(n, "CORE", NT_SIGINFO, si, sizeof(*si));
	note_auxv(n, h->pid);
	note_files(n, m);
	for (size_t i = 0; i < h->n; i++)
		if (&h->v[i] != first)
			note_thread(n, &h->v[i], h->pid, 0);
}

static bool dumped(const struct mapping *m)
{
	return m->perms[0] == 'r' && !(m->path && !strcmp(m->path,
							  "[vsyscall]"));
}

static uint32_t pflags(const struct mapping *m)
{
	return (m->perms[0] == 'r' ? PF_R : 0) |
	       (m->perms[1] == 'w' ? PF_W : 0) |
	       (m->perms[2] == 'x' ? PF_X : 0);
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* Copy [start, end) of the process to out at off; unreadable or zero
 * pages stay holes. */
static int copy_range(int mem, int out, uint64_t start, uint64_t end,
		      off_t off, uint8_t *buf)
{
	for (uint64_t a = start; a < end; a += PAGE) {
		size_t len = PAGE;
		ssize_t r = pread(mem, buf, len, (off_t)a);

		if (r != (ssize_t)len || all_zero(buf, len))
			continue;
		if (pwrite(out, buf, len, off + (off_t)(a - start)) !=
		    (ssize_t)len)
			return -errno;
	}
	return 0;
}

static int write_all(int fd, const void *p, size_t len, off_t off)
{
	return pwrite(fd, p, len, off) == (ssize_t)len ? 0 : -errno;
}

static int write_core(int out, int mem, const struct hold *h,
		      const struct maps *m, const struct notes *n)
{
	Elf64_Ehdr eh = { 0 };
	Elf64_Phdr *ph;
	size_t nph = 1, k = 1;
	uint64_t off;
	uint8_t *buf = xmalloc(PAGE);
	int rc;

	(void)h;
	for (size_t i = 0; i < m->n; i++)
		nph++;
	ph = xcalloc(nph, sizeof(*ph));
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_ident[EI_OSABI] = ELFOSABI_NONE;
	eh.e_type = ET_CORE;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_phoff = sizeof(eh);
	eh.e_ehsize = sizeof(eh);
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = (Elf64_Half)nph;
	off = sizeof(eh) + nph * sizeof(*ph);
	ph[0] = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = off,
			      .p_filesz = n->len, .p_align = 4 };
	off = (off + n->len + PAGE - 1) & ~(uint64_t)(PAGE - 1);
	for (size_t i = 0; i < m->n; i++) {
		const struct mapping *mp = &m->v[i];
		uint64_t size = mp->end - mp->start;

		ph[k] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_offset = off,
				      .p_vaddr = mp->start,
				      .p_memsz = size, .p_flags = pflags(mp),
				      .p_align = PAGE,
				      .p_filesz = dumped(mp) ? size : 0 };
		off += ph[k].p_filesz;
		k++;
	}
	rc = write_all(out, &eh, sizeof(eh), 0);
	if (!rc)
		rc = write_all(out, ph, nph * sizeof(*ph), sizeof(eh));
	if (!rc)
		rc = write_all(out, n->buf, n->len, (off_t)ph[0].p_offset);
	for (size_t i = 0; !rc && i < m->n; i++)
		if (ph[i + 1].p_filesz)
			rc = copy_range(mem, out, m->v[i].start, m->v[i].end,
					(off_t)ph[i + 1].p_offset, buf);
	/* The file is as long as its last segment, holes included. */
	if (!rc && ftruncate(out, (off_t)off))
		rc = -errno;
	free(buf);
	free(ph);
	return rc;
}

int corewrite_process(const char *dir, const struct hold *h, pid_t tid,
		      const siginfo_t *si, char *path, size_t len,
		      struct err *e)
{
	struct notes n = { 0 };
	struct maps m = { 0 };
	char comm[32] = "", tmp[PATH_MAX + 64], memp[64];
	int rc, out = -1, mem = -1;

	path[0] = '\0';
	rc = procfs_read_maps(h->pid, &m, e);
	if (rc)
		return rc;
	if (procfs_comm(h->pid, comm, sizeof(comm)))
		snprintf(comm, sizeof(comm), "process");
	for (char *p = comm; *p; p++)
		if (*p == '/' || *p == ' ')
			*p = '_';
	snprintf(path, len, "%s/core.%s.%d", dir, comm, (int)h->pid);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	snprintf(memp, sizeof(memp), "/proc/%d/mem", (int)h->pid);
	mem = open(memp, O_RDONLY | O_CLOEXEC);
	if (mem < 0) {
		rc = err_set(e, SS_EIO, "cannot read the memory of process "
			     "%d: %s", (int)h->pid, strerror(errno));
		goto out;
	}
	out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (out < 0) {
		rc = err_set(e, SS_EIO, "cannot create '%s': %s", tmp,
			     strerror(errno));
		goto out;
	}
	build_notes(&n, h, tid, si, &m);
	rc = write_core(out, mem, h, &m, &n);
	if (!rc && close(out))
		rc = -errno;
	out = -1;
	if (!rc && rename(tmp, path))
		rc = -errno;
	if (rc) {
		unlink(tmp);
		rc = err_set(e, SS_EIO, "cannot write the core '%s': %s",
			     path, strerror(-rc));
	}
out:
	if (rc)
		path[0] = '\0';
	if (out >= 0)
		close(out);
	if (mem >= 0)
		close(mem);
	free(n.buf);
	maps_release(&m);
	return rc;
}
