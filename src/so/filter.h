/* Which mapped files are the application's and which the system's, and
 * what a file name says about what it is.  Pure functions of names. */
#ifndef SS_SO_FILTER_H
#define SS_SO_FILTER_H

#include <stdbool.h>
#include <stddef.h>

/* Whether view (the target's name for a file) belongs to the operating
 * system: under /usr (not /usr/local), /lib*, /bin, /sbin or /etc, and not
 * in a Python package or extension directory (site-packages,
 * dist-packages, lib-dynload, pythonX.Y/), which pip and friends write
 * to.  System files are replaced atomically by the package manager; they
 * are listed only with --all. */
bool so_path_is_system(const char *view);

/* The module name an extension file is imported as, from its base name:
 * "_ssl.cpython-312-x86_64-linux-gnu.so" and "_ssl.abi3.so" and "_ssl.so"
 * give "_ssl".  Returns false when the name does not end in ".so" or the
 * module name does not fit len. */
bool so_module_name(const char *view, char *out, size_t len);

/* Whether the base name is a libpython ("libpython3.12.so.1.0"). */
bool so_is_libpython(const char *view);

#endif
