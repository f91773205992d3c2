/* Source lines of the target's files, read through /proc/PID/root (or
 * /proc/PID/cwd for relative names) so that containers and chroots work. */
#ifndef SS_OUT_SOURCE_H
#define SS_OUT_SOURCE_H

#include <stddef.h>
#include <sys/types.h>

struct source_file;

struct source_cache {
	pid_t pid;                /* 0: paths are opened as they are */
	const char *sysroot;      /* prefix for absolute paths when pid is 0 */
	struct source_file *files;
	size_t n, cap;
};

void source_cache_init(struct source_cache *c, pid_t pid, const char *sysroot);
/* Line `line` (1-based) of `path` without its line ending and leading
 * white space, or NULL when the file or line cannot be read. */
const char *source_line(struct source_cache *c, const char *path, int line,
			size_t *len);
void source_cache_release(struct source_cache *c);

#endif
