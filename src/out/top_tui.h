/* top's full-screen view (ncurses): draws the header and table, turns
 * keys into changes of the view, follows the window size (SIGWINCH) and
 * gives the terminal back as it found it. */
#ifndef SS_OUT_TOP_TUI_H
#define SS_OUT_TOP_TUI_H

#include <signal.h>
#include <stdbool.h>

#include "out/top_table.h"
#include "util/err.h"

#define TOP_FILTER_MAX 64

struct top_tui {
	bool on;                  /* the terminal is ours (restore it) */
	void *screen;             /* ncurses SCREEN */
	volatile sig_atomic_t resized; /* set by the SIGWINCH handler */
	struct sigaction old_winch;
	bool editing;             /* '/' typed: keys go to the filter */
	char filter[TOP_FILTER_MAX];
	char edit[TOP_FILTER_MAX];
	bool repaint;             /* repaint every cell at the next draw */
	char old_locale[128];     /* LC_CTYPE to give back */
};

enum top_action {
	TOP_NONE,                 /* nothing changed */
	TOP_REDRAW,               /* the view changed: rebuild and draw */
	TOP_PAUSE,                /* 'p': freeze or thaw the display */
	TOP_QUIT,
};

/* Take the terminal (stdin and stdout must be one); SS_EIO when it cannot
 * be used (TERM unknown). */
int top_tui_start(struct top_tui *u, struct err *e);
/* Give it back: cursor, modes, screen; safe to call twice. */
void top_tui_stop(struct top_tui *u);

/* Adopt a new size when SIGWINCH said so; true when it did. */
bool top_tui_check_resize(struct top_tui *u);

/* Draw status (lines) and as many rows of t as fit. */
void top_tui_draw(struct top_tui *u, const char *status,
		  const struct top_table *t, const struct top_agg *a,
		  const struct top_view *v);

/* Read the keys typed so far and apply them to v (its filter points into
 * u); nthreads bounds the thread cycle. */
enum top_action top_tui_keys(struct top_tui *u, struct top_view *v,
			     size_t nthreads);

/* The terminal's width. */
int top_tui_width(const struct top_tui *u);

#endif
