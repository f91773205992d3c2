#include "cmd/ticker.h"

#include <errno.h>
#include <time.h>

#include "util/clock.h"

/* How far behind the sampler still catches up, taking overdue ticks back
 * to back: two periods, or CATCHUP_MIN_NS at high rates; older ticks are
 * counted missed.  After a stall (no CPU for a while, the machine
 * suspended, a long page-in) a burst of samples of one instant would weigh
 * it too much at low rates; at high rates a wait for a CPU of a
 * millisecond or two is routine, and the burst it leaves spans about as
 * much of the target's run as the ticks it stands for. */
#define CATCHUP_TICKS 2
#define CATCHUP_MIN_NS 10000000LL
/* Waits this short are spun on the vDSO clock: a sleep costs a system
 * call and a context switch and wakes tens of microseconds late.  Longer
 * waits sleep: spinning to the tick from further off (tried: from twice
 * the usual wake-up lag before it) took no more ticks on time on this VM,
 * where what makes ticks late at high rates is the sample's own cost and
 * the VM's stalls, and it cost up to a CPU. */
#define SPIN_NS 5000LL

void ticker_init(struct ticker *t, unsigned rate, int64_t now)
{
	t->period = 1000000000LL / (rate ? rate : 1);
	t->catch_up = CATCHUP_TICKS * t->period > CATCHUP_MIN_NS ?
		CATCHUP_TICKS * t->period : CATCHUP_MIN_NS;
	t->next = now;
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

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

static void spin_until(int64_t until, const volatile sig_atomic_t *interrupted)
{
	while (monotonic_ns() < until && !*interrupted)
		cpu_relax();
}

void ticker_wait(const struct ticker *t, int64_t until,
		 const volatile sig_atomic_t *interrupted)
{
	struct timespec ts;

	(void)t;
	if (*interrupted)
		return;
	if (until - monotonic_ns() <= SPIN_NS) {
		spin_until(until, interrupted);
		return;
	}
	ts.tv_sec = until / 1000000000LL;
	ts.tv_nsec = until % 1000000000LL;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR &&
	       !*interrupted)
		;
}
