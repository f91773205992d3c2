#include "out/source.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/xalloc.h"

/* Larger files are not source a person reads line by line. */
#define SOURCE_MAX (16u << 20)

struct source_file {
	char *path;
	char *data;               /* NULL when unreadable */
	size_t len;
	size_t *starts;           /* offset of each line, built on first use */
	size_t nlines;
};

void source_cache_init(struct source_cache *c, pid_t pid, const char *sysroot)
{
	memset(c, 0, sizeof(*c));
	c->pid = pid;
	c->sysroot = sysroot;
}

static char *load(const char *path, size_t *len)
{
	struct stat st;
	char *data = NULL;
	ssize_t got;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_size <= SOURCE_MAX) {
		data = xmalloc((size_t)st.st_size + 1);
		got = pread(fd, data, (size_t)st.st_size, 0);
		if (got < 0) {
			free(data);
			data = NULL;
		} else {
			*len = (size_t)got;
		}
	}
	close(fd);
	return data;
}

static struct source_file *lookup(struct source_cache *c, const char *path)
{
	char full[8192];
	struct source_file *f;
	size_t i;

	for (i = 0; i < c->n; i++)
		if (strcmp(c->files[i].path, path) == 0)
			return &c->files[i];
	XGROW(c->files, c->cap, c->n + 1);
	f = &c->files[c->n++];
	f->path = xstrdup(path);
	f->len = 0;
	f->starts = NULL;
	f->nlines = 0;
	if (path[0] == '<')          /* "<string>", "<frozen ...>" */
		f->data = NULL;
	else if (c->pid)
		snprintf(full, sizeof(full), "/proc/%d/%s%s", (int)c->pid,
			 path[0] == '/' ? "root" : "cwd/", path);
	else
		snprintf(full, sizeof(full), "%s%s",
			 path[0] == '/' && c->sysroot ? c->sysroot : "", path);
	if (path[0] != '<')
		f->data = load(full, &f->len);
	return f;
}

/* Tracebacks of deep stacks look up thousands of lines: index once. */
static void index_lines(struct source_file *f)
{
	size_t cap = 0, pos = 0;
	const char *nl;

	f->nlines = 0;
	while (pos < f->len) {
		XGROW(f->starts, cap, f->nlines + 1);
		f->starts[f->nlines++] = pos;
		nl = memchr(f->data + pos, '\n', f->len - pos);
		if (!nl)
			break;
		pos = (size_t)(nl - f->data) + 1;
	}
	if (!f->starts)
		f->starts = xcalloc(1, sizeof(*f->starts));
}

const char *source_line(struct source_cache *c, const char *path, int line,
			size_t *len)
{
	struct source_file *f;
	size_t pos, end, stop;
	const char *nl;

	if (!path || line < 1)
		return NULL;
	f = lookup(c, path);
	if (!f->data)
		return NULL;
	if (!f->starts)
		index_lines(f);
	if ((size_t)line > f->nlines)
		return NULL;
	pos = f->starts[line - 1];
	while (pos < f->len && (f->data[pos] == ' ' || f->data[pos] == '\t' ||
				f->data[pos] == '\f'))
		pos++;
	if (pos >= f->len)
		return NULL;
	nl = memchr(f->data + pos, '\n', f->len - pos);
	end = nl ? (size_t)(nl - f->data) : f->len;
	stop = end;
	while (stop > pos && (f->data[stop - 1] == '\r' ||
			      f->data[stop - 1] == ' '))
		stop--;
	*len = stop - pos;
	return f->data + pos;
}

void source_cache_release(struct source_cache *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->files[i].path);
		free(c->files[i].data);
		free(c->files[i].starts);
	}
	free(c->files);
	memset(c, 0, sizeof(*c));
}
