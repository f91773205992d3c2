/* When record's next sample is due, and waiting for it.  Tick k is due at
 * start + k * period.  A tick taken a period or more after it was due is
 * late; one more than the catch-up window overdue is skipped and counted
 * missed. */
#ifndef SS_CMD_TICKER_H
#define SS_CMD_TICKER_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

struct ticker {
	int64_t period, catch_up; /* ns */
	int64_t next;             /* CLOCK_MONOTONIC ns the next tick is due */
};

struct tick {
	uint64_t missed;          /* ticks skipped before this one */
	bool late;                /* taken a period or more after it was due */
};

/* A ticker whose first tick is due at now. */
void ticker_init(struct ticker *t, unsigned rate, int64_t now);

/* The tick due next is being taken at now: skip what is too far behind. */
struct tick ticker_take(struct ticker *t, int64_t now);

/* The tick was taken: the next one is due a period later. */
static inline void ticker_advance(struct ticker *t)
{
	t->next += t->period;
}

/* Wait until CLOCK_MONOTONIC time until, or *interrupted. */
void ticker_wait(const struct ticker *t, int64_t until,
		 const volatile sig_atomic_t *interrupted);

#endif
