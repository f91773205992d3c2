#include "stack/crash.h"

#include <stdlib.h>

void crash_report_release(struct crash_report *c)
{
	free(c->native);
	c->native = NULL;
	c->nnative = 0;
	dump_release(&c->dump);
}
