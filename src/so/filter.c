#include "so/filter.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

static bool has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* "/pythonX.Y/" or "/pythonX.Yd/" etc. anywhere in the path. */
static bool in_python_lib(const char *view)
{
	const char *p = view;

	while ((p = strstr(p, "/python"))) {
		const char *q = p + 7;

		if (isdigit((unsigned char)*q)) {
			while (isdigit((unsigned char)*q) || *q == '.')
				q++;
			while (isalpha((unsigned char)*q))
				q++;
			if (*q == '/')
				return true;
		}
		p += 7;
	}
	return false;
}

bool so_path_is_system(const char *view)
{
	static const char *const system_dirs[] = {
		"/usr/", "/lib/", "/lib32/", "/lib64/", "/libx32/", "/bin/",
		"/sbin/", "/etc/",
	};
	bool system = false;

	for (size_t i = 0; i < sizeof(system_dirs) / sizeof(system_dirs[0]);
	     i++)
		if (has_prefix(view, system_dirs[i]))
			system = true;
	if (has_prefix(view, "/usr/local/"))
		system = false;
	if (system && (strstr(view, "/site-packages/") ||
		       strstr(view, "/dist-packages/") ||
		       strstr(view, "/lib-dynload/") || in_python_lib(view)))
		system = false;
	return system;
}

bool so_module_name(const char *view, char *out, size_t len)
{
	const char *b = base_name(view);
	size_t n = strlen(b), dot;

	if (n < 4 || strcmp(b + n - 3, ".so") != 0)
		return false;
	dot = strcspn(b, ".");
	if (!dot || dot >= len)
		return false;
	memcpy(out, b, dot);
	out[dot] = '\0';
	return true;
}

bool so_is_libpython(const char *view)
{
	return has_prefix(base_name(view), "libpython");
}
