/*
 * state.c — the helpers every module of the daemon may call on its
 * state (state.h): the clock, the refusal counters that ppx status
 * shows, and whether an agency is a duty-to-co-operate one.  Kept apart from the loop (ppxd.c), which calls the modules, so
 * that no module calls back into it.
 */
#include <time.h>

#include "ppx/directory.h"
#include "ppx/error.h"
#include "state.h"

int64_t ppxd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int ppxd_duty_to_cooperate(const struct ppxd *d, const char *agency)
{
	const struct ppx_partner *p = ppx_config_partner(d->cfg, agency);
	const struct ppx_dir_agency *a;

	if (policy_is_duty_to_cooperate(d->policy, agency) ||
	    (d->baseline && policy_is_duty_to_cooperate(d->baseline, agency)))
		return 1;
	if (p && !p->from_directory && p->duty_to_cooperate)
		return 1;	/* a [partner] type may narrow, never widen */
	return d->directory &&
	       (a = ppx_directory_agency(d->directory, agency)) != NULL &&
	       a->duty_to_cooperate;
}

void ppxd_count_refusal(struct ppxd *d, int code)
{
	int r = ppx_error_reject_reason(code);

	if (r >= 0 && r < PPXD_REASONS)
		d->refusals[r]++;
}
