/* Process start time.  /proc/PID/stat counts from boot in clock ticks;
 * CLOCK_BOOTTIME counts from the same origin (suspend included, as the
 * kernel's start_boottime does), so "now" on both clocks converts it. */
#include "target/starttime.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int procfs_parse_starttime(const char *stat, unsigned long long *ticks)
{
	/* comm may contain ") " and blanks; the last ')' ends it. */
	const char *p = strrchr(stat, ')');
	int field;

	if (!p)
		return -1;
	p++;
	/* p is just before field 3 (state); field 22 is 19 fields on. */
	for (field = 3; field <= 22; field++) {
		char *end;

		while (*p == ' ')
			p++;
		if (!*p)
			return -1;
		if (field == 22) {
			errno = 0;
			*ticks = strtoull(p, &end, 10);
			return end == p || errno ? -1 : 0;
		}
		while (*p && *p != ' ')
			p++;
	}
	return -1;
}

static long long ts_ns(const struct timespec *t)
{
	return (long long)t->tv_sec * 1000000000LL + t->tv_nsec;
}

int procfs_start_time(pid_t pid, struct timespec *out, struct err *e)
{
	char path[64], buf[1024];
	struct timespec real, boot;
	unsigned long long ticks;
	long hz = sysconf(_SC_CLK_TCK);
	long long start_ns;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, SS_EGONE, "no process with pid %d", (int)pid);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return err_set(e, SS_EGONE, "process %d exited", (int)pid);
	buf[n] = '\0';
	if (procfs_parse_starttime(buf, &ticks) || hz <= 0)
		return err_set(e, SS_ECORRUPT, "cannot parse %s", path);
	clock_gettime(CLOCK_REALTIME, &real);
	clock_gettime(CLOCK_BOOTTIME, &boot);
	start_ns = ts_ns(&real) - ts_ns(&boot) +
		   (long long)(ticks / (unsigned long long)hz) * 1000000000LL +
		   (long long)(ticks % (unsigned long long)hz) *
			   (1000000000LL / hz);
	out->tv_sec = (time_t)(start_ns / 1000000000LL);
	out->tv_nsec = (long)(start_ns % 1000000000LL);
	return 0;
}
