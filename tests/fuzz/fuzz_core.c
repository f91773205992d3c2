/* libFuzzer target over the core reader: ELF headers, PT_LOADs, notes
 * (NT_PRSTATUS, NT_PRPSINFO, NT_SIGINFO, NT_AUXV, NT_FILE), the build-id
 * check of the files it names, and reads through the core memsrc.
 *
 *   make fuzz && build-fuzz/fuzz_core -max_total_time=60 tests/fuzz/corpus_core
 *
 * Files named by the input are looked up only under an empty directory
 * (sysroot_only), so the fuzzer never opens host files. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "target/core.h"
#include "target/corefiles.h"
#include "target/mem_core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void exercise(struct core *c)
{
	struct core_files cf;
	struct memsrc *m;
	struct err e = { 0 };
	uint8_t buf[4096];
	const char *found;

	core_files_init(&cf, c, "/nonexistent/snakescope-fuzz", NULL, NULL);
	cf.sysroot_only = true;
	mem_core_open(&m, c, &cf, &e);
	for (size_t i = 0; i < c->nloads && i < 64; i++) {
		const struct core_load *l = &c->loads[i];
		struct memseg seg = { l->vaddr + l->memsz - 8, buf, 64, false };

		memsrc_read(m, l->vaddr, buf, sizeof(buf));
		memsrc_read(m, l->vaddr + l->memsz / 2, buf, 100);
		m->ops->readv(m, &seg, 1);
	}
	for (size_t i = 0; i < c->files.n && i < 64; i++) {
		memsrc_read(m, c->files.v[i].start, buf, 16);
		core_files_fd(&cf, c->files.v[i].path, &found, &e);
	}
	memsrc_read(m, UINT64_MAX - 4, buf, 16);
	m->ops->release(m);
	core_files_release(&cf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct core c;
	struct maps files;
	struct err e = { 0 };
	int fd;

	/* The NT_FILE parser on its own, on the raw input. */
	if (core_parse_nt_file(data, size, &files, &e) == 0)
		maps_release(&files);
	fd = memfd_create("fuzz-core", MFD_CLOEXEC);
	if (fd < 0)
		abort();
	if (size && write(fd, data, size) != (ssize_t)size)
		abort();
	if (core_open_fd(&c, fd, "fuzz", &e) == 0) {
		exercise(&c);
		core_close(&c);
	}
	return 0;
}
