#include "target/corewrite.h"

int corewrite_process(const char *dir, const struct hold *h, pid_t tid,
		      const siginfo_t *si, char *path, size_t len,
		      struct err *e)
{
	(void)dir; (void)h; (void)tid; (void)si; (void)path; (void)len;
	return err_set(e, SS_EIO, "not written yet");
}
