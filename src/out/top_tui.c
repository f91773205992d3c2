/* top's terminal view with ncurses.  Signal handlers only set flags: the
 * SIGWINCH one here (the resize is done by the loop), SIGINT and SIGTERM
 * record's (the loop ends and calls top_tui_stop).  cbreak, not raw:
 * Ctrl-C stays a signal, which in spawn mode also reaches the command. */
#include "out/top_tui.h"

#include <curses.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define KEY_ESC 27

/* The SIGWINCH handler's only way to the flag (set while the view is up). */
static volatile sig_atomic_t *winch_flag;

static void on_winch(int sig)
{
	(void)sig;
	if (winch_flag)
		*winch_flag = 1;
}

int top_tui_start(struct top_tui *u, struct err *e)
{
	struct sigaction sa;
	const char *loc;
	SCREEN *scr;

	memset(u, 0, sizeof(*u));
	/* Names are UTF-8: let ncursesw show them as such when the
	 * terminal's locale does. */
	loc = setlocale(LC_CTYPE, NULL);
	snprintf(u->old_locale, sizeof(u->old_locale), "%s", loc ? loc : "C");
	setlocale(LC_CTYPE, "");
	/* Ours before ncurses starts: it then leaves SIGWINCH alone. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_winch;
	sigemptyset(&sa.sa_mask);
	winch_flag = &u->resized;
	sigaction(SIGWINCH, &sa, &u->old_winch);
	scr = newterm(NULL, stdout, stdin);
	if (!scr) {
		const char *term = getenv("TERM");

		sigaction(SIGWINCH, &u->old_winch, NULL);
		winch_flag = NULL;
		setlocale(LC_CTYPE, u->old_locale);
		return err_set(e, SS_EIO, "top: cannot drive terminal type '%s' "
			       "(set TERM, or use --batch)", term ? term : "");
	}
	u->screen = scr;
	u->on = true;
	cbreak();
	noecho();
	nodelay(stdscr, TRUE);
	keypad(stdscr, TRUE);
	curs_set(0);
	return 0;
}

void top_tui_stop(struct top_tui *u)
{
	if (!u->on)
		return;
	u->on = false;
	curs_set(1);
	endwin();
	delscreen(u->screen);
	u->screen = NULL;
	sigaction(SIGWINCH, &u->old_winch, NULL);
	winch_flag = NULL;
	setlocale(LC_CTYPE, u->old_locale);
}

bool top_tui_check_resize(struct top_tui *u)
{
	struct winsize ws;

	if (!u->on || !u->resized)
		return false;
	u->resized = 0;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row &&
	    ws.ws_col)
		resize_term(ws.ws_row, ws.ws_col);
	u->repaint = true;
	return true;
}

int top_tui_width(const struct top_tui *u)
{
	(void)u;
	return COLS;
}

/* s on row y, cut at the right edge. */
static void put_line(int y, const char *s, int attr)
{
	if (y >= LINES)
		return;
	if (attr)
		attron(attr);
	/* Cut at the right edge: a longer line would wrap. */
	mvaddnstr(y, 0, s, (int)top_text_cut(s, COLS));
	if (attr)
		attroff(attr);
}

void top_tui_draw(struct top_tui *u, const char *status,
		  const struct top_table *t, const struct top_agg *a,
		  const struct top_view *v)
{
	char line[TOP_LINE_MAX];
	const char *s = status;
	int y = 0;

	if (!u->on)
		return;
	if (u->repaint) {
		clearok(curscr, TRUE);
		u->repaint = false;
	}
	erase();
	while (s && *s && y < LINES) {
		const char *nl = strchr(s, '\n');
		size_t n = nl ? (size_t)(nl - s) : strlen(s);

		snprintf(line, sizeof(line), "%.*s", (int)n, s);
		put_line(y, line, y == 0 ? A_BOLD : 0);
		y++;
		s = nl ? nl + 1 : NULL;
	}
	if (u->editing)
		snprintf(line, sizeof(line), "filter: %s_", u->edit);
	else
		snprintf(line, sizeof(line), "keys: 1-4/s sort  t threads  l lines  "
			 "/ filter  p pause  q quit");
	put_line(y++, line, 0);
	top_table_heading(line, sizeof(line), v, COLS);
	put_line(y++, line, A_REVERSE);
	for (size_t i = 0; i < t->nrows && y < LINES; i++) {
		top_table_line(line, sizeof(line), t, a, &t->rows[i], v, COLS);
		put_line(y++, line, 0);
	}
	refresh();
}

/* A key while the filter is being typed. */
static enum top_action edit_key(struct top_tui *u, struct top_view *v, int c)
{
	size_t n = strlen(u->edit);

	if (c == '\n' || c == '\r' || c == KEY_ENTER) {
		u->editing = false;
		memcpy(u->filter, u->edit, sizeof(u->filter));
		v->filter = u->filter;
		return TOP_REDRAW;
	}
	if (c == KEY_ESC) {
		u->editing = false;
		return TOP_REDRAW;
	}
	if ((c == KEY_BACKSPACE || c == 127 || c == 8) && n) {
		u->edit[n - 1] = '\0';
		return TOP_REDRAW;
	}
	if (c >= 32 && c < 127 && n + 1 < sizeof(u->edit)) {
		u->edit[n] = (char)c;
		u->edit[n + 1] = '\0';
		return TOP_REDRAW;
	}
	return TOP_NONE;
}

/* 't': all threads, a row per thread, then each thread alone. */
static void next_thread_view(struct top_view *v, size_t nthreads)
{
	if (v->thread == TOP_THREADS_MERGED)
		v->thread = TOP_THREADS_SPLIT;
	else if (v->thread + 1 < (int)nthreads)
		v->thread++;
	else
		v->thread = TOP_THREADS_MERGED;
}

static enum top_action view_key(struct top_tui *u, struct top_view *v, int c,
				size_t nthreads)
{
	switch (c) {
	case 'q':
	case 'Q':
		return TOP_QUIT;
	case '1': case '2': case '3': case '4':
		v->sort = (enum top_sort)(c - '1');
		return TOP_REDRAW;
	case 's':
		v->sort = (enum top_sort)((v->sort + 1) % TOP_SORT_COUNT);
		return TOP_REDRAW;
	case 't':
		next_thread_view(v, nthreads);
		return TOP_REDRAW;
	case 'l':
		v->lines = !v->lines;
		return TOP_REDRAW;
	case 'p':
		return TOP_PAUSE;
	case '/':
		u->editing = true;
		memcpy(u->edit, u->filter, sizeof(u->edit));
		return TOP_REDRAW;
	case KEY_RESIZE:
		return TOP_REDRAW;
	default:
		return TOP_NONE;
	}
}

enum top_action top_tui_keys(struct top_tui *u, struct top_view *v,
			     size_t nthreads)
{
	enum top_action act = TOP_NONE;
	int c;

	if (!u->on)
		return TOP_NONE;
	/* Bounded: a flood of input is taken a screenful at a time. */
	for (int i = 0; i < 256 && (c = getch()) != ERR; i++) {
		enum top_action a = u->editing ? edit_key(u, v, c) :
						 view_key(u, v, c, nthreads);

		if (a == TOP_QUIT || a == TOP_PAUSE)
			return a;
		if (a != TOP_NONE)
			act = a;
	}
	return act;
}
