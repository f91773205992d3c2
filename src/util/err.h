/* Error codes and the one-message error record.
 *
 * Functions return 0 or a negative SS_E* code.  The function that detects a
 * failure records one message with err_set(); callers may prepend context
 * with err_prefix(); main.c prints it once as
 *   snakescope: <msg>
 * and maps the code to an exit status.
 */
#ifndef SS_UTIL_ERR_H
#define SS_UTIL_ERR_H

#include <stdarg.h>

enum ss_err {
	SS_OK = 0,
	SS_EGONE = -1,      /* process or thread vanished */
	SS_EPERM = -2,      /* not allowed to trace/read */
	SS_EFAULT = -3,     /* target address unreadable */
	SS_ENOTPY = -4,     /* no Python interpreter found */
	SS_EVERSION = -5,   /* Python version not supported */
	SS_ECORRUPT = -6,   /* target data broke an invariant */
	SS_EIO = -7,        /* local I/O failed */
	SS_ENOMEM = -8,
	SS_EUSAGE = -9,     /* bad command line */
	SS_ENOTREADY = -10, /* interpreter not initialised / finalising */
	SS_EINTR = -11,     /* interrupted by a signal */
};

struct err {
	int code;
	char msg[1024];
};

/* Record code and message (printf format, no trailing newline, git style:
 * lower case, no full stop); returns code so callers can
 * `return err_set(e, SS_EGONE, "...")`. */
int err_set(struct err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prepend "prefix: " to the recorded message; returns e->code. */
int err_prefix(struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void err_clear(struct err *e);

#endif
