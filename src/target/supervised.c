#include "target/supervised.h"

#include <dirent.h>
#include <stdlib.h>
#include <unistd.h>

#include "target/procfs.h"
#include "util/xalloc.h"

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

void supervised_processes(pid_t **pids, size_t *n)
{
	pid_t self = getpid(), *v = NULL;
	size_t cap = 0, k = 0;
	struct dirent *de;
	DIR *d = opendir("/proc");

	while (d && (de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);
		pid_t tracer;

		if (*end || pid <= 0 || pid == self)
			continue;
		if (procfs_tracer_pid((pid_t)pid, (pid_t)pid, &tracer) ||
		    tracer != self)
			continue;
		XGROW(v, cap, k + 1);
		v[k++] = (pid_t)pid;
	}
	if (d)
		closedir(d);
	if (k)
		qsort(v, k, sizeof(*v), cmp_pid);
	*pids = v;
	*n = k;
}
