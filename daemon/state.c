/*
 * state.c — the two helpers every module of the daemon may call on its
 * state (state.h): the clock and the refusal counters that ppx status
 * shows.  Kept apart from the loop (ppxd.c), which calls the modules, so
 * that no module calls back into it.
 */
#include <time.h>

#include "ppx/error.h"
#include "state.h"

int64_t ppxd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void ppxd_count_refusal(struct ppxd *d, int code)
{
	int r = ppx_error_reject_reason(code);

	if (r >= 0 && r < PPXD_REASONS)
		d->refusals[r]++;
}
