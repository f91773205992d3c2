/* The user's end of a pdb session: pdb's output (framed messages from the
 * target, see bootstrap.h) goes to the terminal and the user's lines go
 * back, one per prompt.  On a terminal the lines are read with libedit
 * (editing, history of the session); otherwise plain lines are passed on
 * as they come, and no escape sequence is ever written. */
#ifndef SS_CMD_PDBTERM_H
#define SS_CMD_PDBTERM_H

/* Ctrl-C while the target runs: stop it in the debugger again. */
typedef void (*pdb_interrupt_fn)(void *arg);

/* Relay until the session ends (the target closed it: q, Ctrl-D, or it
 * died): 0, or -1 when the terminal or the socket failed. */
int pdb_term_relay(int sock, pdb_interrupt_fn interrupt, void *arg);

#endif
