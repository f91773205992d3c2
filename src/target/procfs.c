/* Parsing /proc/PID/... files.  Everything here copes with the process or
 * thread disappearing between two reads: files vanish (ENOENT), reads
 * fail (ESRCH) or come back empty. */
#include "target/procfs.h"
#include "target/perm.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DELETED_SUFFIX " (deleted)"

/* Map the errno of a failed /proc access to our codes.  ENOENT and ESRCH
 * both mean "gone": the directory vanishes on reap, while files of an
 * exiting task can still be opened but refuse reads. */
static int code_of(int errnum)
{
	switch (errnum) {
	case ENOENT:
	case ESRCH:
		return SS_EGONE;
	case EACCES:
	case EPERM:
		return SS_EPERM;
	case ENOMEM:
		return SS_ENOMEM;
	default:
		return SS_EIO;
	}
}

/* Read a small generated file whole into buf (NUL-terminated).  /proc
 * files are produced on read, so short reads are continued to the end. */
static int read_small(const char *path, char *buf, size_t len, size_t *got)
{
	size_t n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return code_of(errno);
	while (n + 1 < len) {
		ssize_t r = read(fd, buf + n, len - 1 - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int rc = code_of(errno);

			close(fd);
			return rc;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	if (got)
		*got = n;
	return 0;
}

/* The text after "key" on the line of a status file that starts with it.
 * status files are a few kB but grow with the number of groups and
 * namespaces, so they are read line by line rather than into a fixed
 * buffer.  Returns SS_ECORRUPT when the key is absent. */
static int status_field(pid_t pid, pid_t tid, const char *key, char *val,
			size_t len)
{
	char path[64];
	char *line = NULL;
	size_t cap = 0, klen = strlen(key);
	int rc = SS_ECORRUPT;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", (int)pid,
		 (int)tid);
	f = fopen(path, "re");
	if (!f)
		return code_of(errno);
	while (getline(&line, &cap, f) > 0) {
		if (strncmp(line, key, klen) != 0)
			continue;
		snprintf(val, len, "%s", line + klen);
		rc = 0;
		break;
	}
	/* an exiting thread's status can fail to read (ESRCH) */
	if (rc && ferror(f))
		rc = code_of(errno);
	free(line);
	fclose(f);
	return rc;
}

/* Parse one maps line:
 *   start-end perms offset major:minor inode   path
 * The path starts after the run of blanks that pads the inode column and
 * may itself contain blanks. */
static int parse_map_line(char *line, struct mapping *m)
{
	char *p = line, *end;
	size_t len;

	memset(m, 0, sizeof(*m));
	m->start = strtoull(p, &end, 16);
	if (end == p || *end != '-')
		return -1;
	p = end + 1;
	m->end = strtoull(p, &end, 16);
	if (end == p || *end != ' ')
		return -1;
	p = end + 1;
	if (strlen(p) < 5 || p[4] != ' ')
		return -1;
	memcpy(m->perms, p, 4);
	m->perms[4] = '\0';
	p += 5;
	m->offset = strtoull(p, &end, 16);
	if (end == p || *end != ' ')
		return -1;
	p = end + 1;
	m->dev_major = (unsigned)strtoul(p, &end, 16);
	if (end == p || *end != ':')
		return -1;
	p = end + 1;
	m->dev_minor = (unsigned)strtoul(p, &end, 16);
	if (end == p || *end != ' ')
		return -1;
	p = end + 1;
	m->inode = strtoull(p, &end, 10);
	if (end == p || (*end != ' ' && *end != '\n' && *end != '\0'))
		return -1;
	p = end;
	while (*p == ' ')
		p++;
	len = strcspn(p, "\n");
	p[len] = '\0';
	if (!len)
		return 0;
	if (len > strlen(DELETED_SUFFIX) &&
	    strcmp(p + len - strlen(DELETED_SUFFIX), DELETED_SUFFIX) == 0) {
		len -= strlen(DELETED_SUFFIX);
		p[len] = '\0';
		m->deleted = true;
	}
	m->path = strdup(p);
	return m->path ? 0 : -2;
}

void maps_release(struct maps *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->v[i].path);
	free(m->v);
	m->v = NULL;
	m->n = 0;
}

int procfs_read_maps(pid_t pid, struct maps *out, struct err *e)
{
	char path[64];
	char *line = NULL;
	size_t cap = 0, lineno = 0, vcap = 0;
	int rc = 0;
	FILE *f;

	out->v = NULL;
	out->n = 0;
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f) {
		int code = code_of(errno);

		if (code == SS_EGONE)
			return err_set(e, code, "no process with pid %d",
				       (int)pid);
		if (code == SS_EPERM)
			return perm_error(e, pid, pid, "inspect");
		return err_set(e, code, "cannot open %s: %s", path,
			       strerror(errno));
	}
	while (getline(&line, &cap, f) > 0) {
		struct mapping m;
		int r;

		lineno++;
		if (out->n == vcap) {
			size_t ncap = vcap ? vcap * 2 : 64;
			struct mapping *v = realloc(out->v, ncap * sizeof(*v));

			if (!v) {
				rc = err_set(e, SS_ENOMEM, "out of memory");
				goto out;
			}
			out->v = v;
			vcap = ncap;
		}
		r = parse_map_line(line, &m);
		if (r == -2) {
			rc = err_set(e, SS_ENOMEM, "out of memory");
			goto out;
		}
		if (r < 0) {
			rc = err_set(e, SS_EIO, "cannot parse line %zu of %s",
				     lineno, path);
			goto out;
		}
		out->v[out->n++] = m;
	}
	/* A process that exits while we read makes the read fail (ESRCH)
	 * rather than end early. */
	if (ferror(f)) {
		int code = code_of(errno);

		rc = code == SS_EGONE ?
			err_set(e, code, "process %d exited", (int)pid) :
			err_set(e, code, "cannot read %s: %s", path,
				strerror(errno));
	}
out:
	free(line);
	fclose(f);
	if (rc)
		maps_release(out);
	return rc;
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

int procfs_list_tids(pid_t pid, pid_t **tids, size_t *n, struct err *e)
{
	char path[64];
	struct dirent *de;
	pid_t *v = NULL;
	size_t cnt = 0, cap = 0;
	DIR *d;

	*tids = NULL;
	*n = 0;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d) {
		int code = code_of(errno);

		if (code == SS_EGONE)
			return err_set(e, code, "no process with pid %d",
				       (int)pid);
		return err_set(e, code, "cannot list %s: %s", path,
			       strerror(errno));
	}
	while ((de = readdir(d))) {
		char *end;
		long t = strtol(de->d_name, &end, 10);

		if (end == de->d_name || *end || t <= 0)
			continue;
		if (cnt == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			pid_t *nv = realloc(v, ncap * sizeof(*nv));

			if (!nv) {
				free(v);
				closedir(d);
				return err_set(e, SS_ENOMEM, "out of memory");
			}
			v = nv;
			cap = ncap;
		}
		v[cnt++] = (pid_t)t;
	}
	closedir(d);
	/* An empty task directory: the process was reaped while we read. */
	if (!cnt) {
		free(v);
		return err_set(e, SS_EGONE, "process %d exited", (int)pid);
	}
	qsort(v, cnt, sizeof(*v), cmp_pid);
	*tids = v;
	*n = cnt;
	return 0;
}

int procfs_ns_tid(pid_t pid, pid_t tid, pid_t *ns_tid)
{
	char val[256], *p, *end;
	long last = -1;
	int rc = status_field(pid, tid, "NSpid:", val, sizeof(val));

	*ns_tid = tid;
	if (rc == SS_ECORRUPT) /* kernel before 4.1: no namespaces shown */
		return 0;
	if (rc)
		return rc;
	/* One id per nested namespace, outermost first: the last one is the
	 * id inside the target's own namespace. */
	for (p = val;; p = end) {
		long v = strtol(p, &end, 10);

		if (end == p)
			break;
		last = v;
	}
	if (last > 0)
		*ns_tid = (pid_t)last;
	return 0;
}

int procfs_tracer_pid(pid_t pid, pid_t tid, pid_t *tracer)
{
	char val[64];
	int rc = status_field(pid, tid, "TracerPid:", val, sizeof(val));

	*tracer = 0;
	if (rc)
		return rc;
	*tracer = (pid_t)strtol(val, NULL, 10);
	return 0;
}

int procfs_tgid(pid_t tid, pid_t *tgid)
{
	char val[64];
	int rc = status_field(tid, tid, "Tgid:", val, sizeof(val));

	*tgid = 0;
	if (rc)
		return rc;
	*tgid = (pid_t)strtol(val, NULL, 10);
	return *tgid > 0 ? 0 : SS_ECORRUPT;
}

/* Whether bit sig of the signal mask in status field key is set. */
static int status_sigmask_has(pid_t pid, const char *key, int sig)
{
	char val[64];
	unsigned long long mask;
	int rc = status_field(pid, pid, key, val, sizeof(val));

	if (rc)
		return rc;
	mask = strtoull(val, NULL, 16);
	return sig >= 1 && sig <= 64 && (mask >> (sig - 1)) & 1;
}

int procfs_signal_caught(pid_t pid, int sig)
{
	return status_sigmask_has(pid, "SigCgt:", sig);
}

int procfs_signal_pending(pid_t pid, int sig)
{
	return status_sigmask_has(pid, "ShdPnd:", sig);
}

int procfs_thread_comm(pid_t pid, pid_t tid, char *buf, size_t len)
{
	char path[64];
	size_t got = 0;
	int rc;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", (int)pid,
		 (int)tid);
	rc = read_small(path, buf, len, &got);
	if (rc)
		return rc;
	if (got && buf[got - 1] == '\n')
		buf[got - 1] = '\0';
	return 0;
}

int procfs_thread_state(pid_t pid, pid_t tid, char *state)
{
	char path[64], buf[1024], *p;
	int rc;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid,
		 (int)tid);
	rc = read_small(path, buf, sizeof(buf), NULL);
	if (rc)
		return rc;
	/* "tid (comm) S ...": comm may hold ')' and blanks, but it is at
	 * most 16 bytes and nothing after it contains ')', so the last ')'
	 * ends it. */
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || !p[2] || p[2] == ' ')
		return SS_ECORRUPT;
	*state = p[2];
	return 0;
}

int procfs_comm(pid_t pid, char *buf, size_t len)
{
	char path[64], tmp[64];
	size_t n;
	int rc;

	if (!len)
		return SS_EIO;
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	rc = read_small(path, tmp, sizeof(tmp), &n);
	if (rc)
		return rc;
	if (n && tmp[n - 1] == '\n')
		tmp[--n] = '\0';
	snprintf(buf, len, "%s", tmp);
	return 0;
}

void procfs_cmdline(pid_t pid, char *buf, size_t size)
{
	char path[64];
	ssize_t n;
	int fd;

	if (!size)
		return;
	buf[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		n = 0;
	buf[n] = '\0';
	/* One line on a terminal: no NULs, newlines or tabs. */
	for (ssize_t i = 0; i < n; i++)
		if ((unsigned char)buf[i] < ' ')
			buf[i] = ' ';
	while (n > 0 && buf[n - 1] == ' ')
		buf[--n] = '\0';
}

int procfs_exe(pid_t pid, char *buf, size_t len)
{
	char path[64];
	size_t slen = strlen(DELETED_SUFFIX);
	ssize_t n;

	if (!len)
		return SS_EIO;
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	n = readlink(path, buf, len);
	if (n < 0) {
		int code = code_of(errno);

		/* Kernel threads and zombies have no exe but do exist. */
		if (code == SS_EGONE && procfs_pid_exists(pid))
			code = SS_EIO;
		buf[0] = '\0';
		return code;
	}
	if ((size_t)n >= len) { /* readlink truncates silently */
		buf[0] = '\0';
		return SS_EIO;
	}
	buf[n] = '\0';
	if ((size_t)n > slen && strcmp(buf + n - slen, DELETED_SUFFIX) == 0)
		buf[n - slen] = '\0';
	return 0;
}

int procfs_root_path(pid_t pid, const char *path, char *buf, size_t len)
{
	int n = snprintf(buf, len, "/proc/%d/root%s%s", (int)pid,
			 path[0] == '/' ? "" : "/", path);

	if (n < 0 || (size_t)n >= len) {
		if (len)
			buf[0] = '\0';
		return SS_EIO;
	}
	return 0;
}

int procfs_pid_exists(pid_t pid)
{
	char path[64];

	if (pid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	return access(path, F_OK) == 0;
}

int procfs_yama_ptrace_scope(void)
{
	char buf[32];

	if (read_small("/proc/sys/kernel/yama/ptrace_scope", buf, sizeof(buf),
		       NULL))
		return -1;
	return (int)strtol(buf, NULL, 10);
}

bool procfs_same_pid_namespace(pid_t pid)
{
	char path[64];
	struct stat a, b;

	snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)pid);
	return stat(path, &a) == 0 && stat("/proc/self/ns/pid", &b) == 0 &&
	       a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}
