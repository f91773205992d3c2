#include "cmd/ticker.h"

#include <errno.h>
#include <time.h>

/* How far behind the sampler still catches up, taking overdue ticks back
 * to back: two periods, or CATCHUP_MIN_NS at high rates; older ticks are
 * counted missed.  After a stall (no CPU for a while, the machine
 * suspended, a long page-in) a burst of samples of one instant would weigh
 * it too much at low rates; at high rates a wait for a CPU of a
 * millisecond or two is routine, and the burst it leaves spans about as
 * much of the target's run as the ticks it stands for. */
#define CATCHUP_TICKS 2
#define CATCHUP_MIN_NS 10000000LL
/* What a VM's sleeps are assumed to overshoot by before any was seen. */
#define WAKE_LAG_START_NS 50000LL
/* Lateness is forgotten at 1/256 per wait: a spike of a millisecond fades
 * below 100 us after some 600 waits. */
#define WAKE_LAG_DECAY_SHIFT 8
/* A spin that sees the clock jump this much lost its CPU (an interrupt
 * takes a few microseconds), and the ticker then sleeps all the way for
 * NO_SPIN_NS before it tries spinning again. */
#define PREEMPTED_NS 1000000LL
#define NO_SPIN_NS 1000000000LL
/* Waits shorter than this are always spun: a sleep costs a system call
 * and a context switch for nothing. */
#define SPIN_ALWAYS_NS 5000LL

int64_t ticker_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void ticker_init(struct ticker *t, unsigned rate, int64_t now)
{
	t->period = 1000000000LL / (rate ? rate : 1);
	t->catch_up = CATCHUP_TICKS * t->period > CATCHUP_MIN_NS ?
		CATCHUP_TICKS * t->period : CATCHUP_MIN_NS;
	t->next = now;
	t->wake_lag = WAKE_LAG_START_NS;
	t->no_spin_until = now;
}

struct tick ticker_take(struct ticker *t, int64_t now)
{
	struct tick k = { 0, false };

	if (now - t->next > t->catch_up) {
		int64_t missed = (now - t->next - t->catch_up) / t->period;

		k.missed = (uint64_t)missed;
		t->next += missed * t->period;
	}
	k.late = now - t->next >= t->period;
	return k;
}

/* Spinning pays when sleeps end late by a sizeable share of the period
 * (an eighth: at 100 Hz a 50 us lag is 0.5 % of it and nothing is late);
 * the margin is twice the lag, so that most wake-ups land before the tick
 * even when the lag grows a little. */
int64_t ticker_spin_margin(const struct ticker *t, int64_t now)
{
	if (t->wake_lag * 8 < t->period || now < t->no_spin_until)
		return 0;
	return 2 * t->wake_lag;
}

void ticker_note_preempted(struct ticker *t, int64_t now)
{
	t->no_spin_until = now + NO_SPIN_NS;
}

void ticker_note_wake(struct ticker *t, int64_t asked, int64_t woke)
{
	int64_t lag = woke - asked;

	t->wake_lag -= t->wake_lag >> WAKE_LAG_DECAY_SHIFT;
	if (lag > t->wake_lag)
		t->wake_lag = lag;
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

/* Spin until `until`; a jump of the clock between two looks means the
 * CPU was taken away meanwhile. */
static void spin_until(struct ticker *t, int64_t until,
		       const volatile sig_atomic_t *interrupted)
{
	int64_t now = ticker_now_ns(), prev = now;

	while (now < until && !*interrupted) {
		cpu_relax();
		now = ticker_now_ns();
		if (now - prev > PREEMPTED_NS)
			ticker_note_preempted(t, now);
		prev = now;
	}
}

void ticker_wait(struct ticker *t, int64_t until,
		 const volatile sig_atomic_t *interrupted)
{
	int64_t now = ticker_now_ns(), wake = until - ticker_spin_margin(t, now);
	struct timespec ts;

	if (*interrupted)
		return;
	if (until - now <= SPIN_ALWAYS_NS || wake <= now) {
		/* No sleep, so nothing learnt: let the lag fade anyway, or
		 * one slow wake-up would keep the ticker spinning for good. */
		ticker_note_wake(t, 0, 0);
		spin_until(t, until, interrupted);
		return;
	}
	ts.tv_sec = wake / 1000000000LL;
	ts.tv_nsec = wake % 1000000000LL;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR &&
	       !*interrupted)
		;
	now = ticker_now_ns();
	if (!*interrupted)
		ticker_note_wake(t, wake, now);
	if (now < until)
		spin_until(t, until, interrupted);
}
