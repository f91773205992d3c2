/* When record's next sample is due, and waiting for it.  Tick k is due at
 * start + k * period.  A tick taken a period or more after it was due is
 * late; one more than the catch-up window overdue is skipped and counted
 * missed.
 *
 * Waiting: a sleep ends tens of microseconds after it was asked to in a VM
 * (more on a loaded machine), which at high rates is a period or more.
 * The ticker learns how late its sleeps end and, when that is a sizeable
 * share of the period, sleeps only until that long before the tick and
 * spins the rest on the vDSO clock: at 10 kHz and above a sampler then
 * uses a whole CPU, and at 100 Hz it never spins. */
#ifndef SS_CMD_TICKER_H
#define SS_CMD_TICKER_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

struct ticker {
	int64_t period, catch_up; /* ns */
	int64_t next;             /* CLOCK_MONOTONIC ns the next tick is due */
	/* How late sleeps end: the largest lateness seen, decaying slowly so
	 * that one odd wake-up does not make the ticker spin for good. */
	int64_t wake_lag;
	/* Until when the ticker sleeps all the way: a spin was preempted.
	 * Where the sampler competes for a CPU (the target's own threads
	 * fill the machine), the scheduler favours a thread that sleeps;
	 * one that spins is made to wait, and every tick comes late. */
	int64_t no_spin_until;
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

/* How long before a wake-up the ticker stops sleeping and spins, at time
 * now (0: sleep all the way). */
int64_t ticker_spin_margin(const struct ticker *t, int64_t now);

/* A spin saw the clock jump at now: it lost its CPU for a while. */
void ticker_note_preempted(struct ticker *t, int64_t now);

/* A sleep asked to end at `asked` ended at `woke`. */
void ticker_note_wake(struct ticker *t, int64_t asked, int64_t woke);

/* Wait until CLOCK_MONOTONIC time until, or *interrupted. */
void ticker_wait(struct ticker *t, int64_t until,
		 const volatile sig_atomic_t *interrupted);

/* CLOCK_MONOTONIC in ns. */
int64_t ticker_now_ns(void);

#endif
