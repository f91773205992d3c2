/* Names of signals and of their si_code values, for reports. */
#ifndef SS_TARGET_SIGNAMES_H
#define SS_TARGET_SIGNAMES_H

/* "SIGSEGV"; "SIG?" for an unknown number. */
const char *signal_name(int sig, char *buf, unsigned long len);

/* The si_code of a signal as its constant's name and a description
 * ("SEGV_MAPERR", "address not mapped to object"); both "?" and the
 * number when unknown. */
void si_code_name(int sig, int code, const char **name, const char **what);

/* Whether si_addr is meaningful for sig (a fault). */
int signal_has_addr(int sig, int code);

#endif
