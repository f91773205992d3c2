/* A memsrc over a core file: the dumped PT_LOAD bytes straight from the
 * mapped core, and the file-backed pages the core left out (read-only
 * text and rodata) from the files its NT_FILE note names. */
#ifndef SS_TARGET_MEM_CORE_H
#define SS_TARGET_MEM_CORE_H

#include "target/core.h"
#include "target/corefiles.h"
#include "target/memsrc.h"

/* core and files must outlive the memsrc; read failures are recorded in
 * e.  Release with (*out)->ops->release. */
void mem_core_open(struct memsrc **out, const struct core *core,
		   struct core_files *files, struct err *e);

#endif
