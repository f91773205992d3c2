/* top's table: rows built from struct top_agg as one view asks (sort key,
 * lines or functions, threads merged, split or one thread, a name filter)
 * and the plain-text snapshot `top --batch` prints.  Pure: the terminal
 * view (top_tui.c) draws the same rows. */
#ifndef SS_OUT_TOP_TABLE_H
#define SS_OUT_TOP_TABLE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "stack/top_agg.h"

/* The columns, in the order keys 1-4 pick them. */
enum top_sort {
	TOP_SORT_OWN_PCT,         /* own samples in the window */
	TOP_SORT_TOTAL_PCT,       /* total samples in the window */
	TOP_SORT_OWN_TIME,        /* own samples over the whole run */
	TOP_SORT_TOTAL_TIME,      /* total samples over the whole run */
	TOP_SORT_COUNT
};

#define TOP_THREADS_MERGED (-2)   /* one row per function, all threads */
#define TOP_THREADS_SPLIT (-1)    /* one row per function and thread */

struct top_view {
	enum top_sort sort;
	bool lines;               /* a row per line, else per function */
	int thread;               /* TOP_THREADS_*, or a thread index: only it */
	const char *filter;       /* substring of the function name, or NULL */
	double period;            /* seconds one sample stands for */
};

struct top_row {
	const char *function, *file;
	int line;                 /* functions: their hottest line; 0 unknown */
	int thread;               /* index, or -1 when merged */
	struct top_counts win, all;
};

struct top_table {
	struct top_row *rows;
	size_t nrows, cap;
	uint64_t win_samples;     /* denominators of the percentages */
	uint64_t all_samples;
};

void top_table_release(struct top_table *t);

/* Rebuild t from a (whose line entries are frames of prof) for view v. */
void top_table_build(struct top_table *t, const struct top_agg *a,
		     const struct profile *prof, const struct top_view *v);

/* Percent of the window's samples. */
double top_row_own_pct(const struct top_table *t, const struct top_row *r);
double top_row_total_pct(const struct top_table *t, const struct top_row *r);

/* "name.py:12" (the file's last component) into buf. */
void top_row_where(const struct top_row *r, char *buf, size_t size);

/* Lines are laid out for 40 to TOP_WIDTH_MAX columns; a buffer of
 * TOP_LINE_MAX bytes holds any (4 bytes a column). */
#define TOP_WIDTH_MAX 1000
#define TOP_LINE_MAX (4 * TOP_WIDTH_MAX + 64)

/* Bytes of s that make at most cols columns (code points). */
size_t top_text_cut(const char *s, int cols);

/* The column headings and one row, width columns wide at most (at least
 * 40); the function name is cut to fit. */
void top_table_heading(char *buf, size_t size, const struct top_view *v,
		       int width);
void top_table_line(char *buf, size_t size, const struct top_table *t,
		    const struct top_agg *a, const struct top_row *r,
		    const struct top_view *v, int width);

/* What the header says about the process and the sampler. */
struct top_status {
	int pid;
	const char *command;      /* its command line, may be "" */
	const char *python;       /* version, may be NULL */
	unsigned threads;         /* of the first process */
	unsigned processes;       /* sampled (--subprocesses), shown when > 1 */
	double elapsed;           /* seconds */
	double rate, target_rate; /* achieved and asked samples per second */
	double error_pct;         /* since the previous snapshot, -1 unknown */
	double gil_pct, cpu_pct;  /* -1: unknown */
	unsigned window;          /* seconds */
	bool exited, paused;
};

/* The header's lines (no newline at the end of the last). */
void top_status_format(char *buf, size_t size, const struct top_status *s,
		       const struct top_view *v, const struct top_agg *a,
		       int width);

/* A whole snapshot for --batch: header, a blank line, the heading and at
 * most max_rows rows (0: all), then a blank line. */
void top_snapshot_print(FILE *out, const struct top_status *s,
			const struct top_table *t, const struct top_agg *a,
			const struct top_view *v, size_t max_rows);

#endif
