/* The floor of a sample: one process_vm_readv of LEN bytes at ADDR in PID,
 * repeated N times; prints the mean CPU nanoseconds per call (CPU time,
 * as the samplers are measured: on a loaded machine wall time would add
 * the waits for a CPU).
 *   floor PID ADDR LEN N */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <time.h>

int main(int argc, char **argv)
{
	struct timespec a, b;
	static char buf[1 << 20];
	long n, i;
	size_t len;
	struct iovec l, r;
	pid_t pid;

	if (argc != 5)
		return 2;
	pid = (pid_t)atoi(argv[1]);
	r.iov_base = (void *)strtoull(argv[2], NULL, 0);
	len = strtoul(argv[3], NULL, 0);
	n = atol(argv[4]);
	if (len > sizeof(buf))
		return 2;
	l.iov_base = buf;
	l.iov_len = r.iov_len = len;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
	for (i = 0; i < n; i++)
		if (process_vm_readv(pid, &l, 1, &r, 1, 0) != (ssize_t)len) {
			perror("process_vm_readv");
			return 1;
		}
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
	printf("%.1f\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n);
	return 0;
}
