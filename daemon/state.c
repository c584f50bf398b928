/*
 * state.c — the helpers every module of the daemon may call on its
 * state (state.h): the clock, the refusal counters that ppx status
 * shows, whether an agency is a duty-to-co-operate one, and which
 * content a partner's frame holds.  Kept apart from the loop (ppxd.c), which calls the modules, so
 * that no module calls back into it.
 */
#include <time.h>

#include "ppx/directory.h"
#include "ppx/envelope.h"
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

int ppxd_frame_content(const uint8_t *data, size_t len)
{
	size_t at = 0;
	int content = 0;

	while (at < len) {
		uint64_t tag, v;

		if (ppx_varint_read(data, len, &at, &tag) != 0)
			return 0;
		switch (tag & 7) {
		case 0:
			if (ppx_varint_read(data, len, &at, &v) != 0)
				return 0;
			break;
		case 1:
		case 5:
			if (len - at < ((tag & 7) == 1 ? 8u : 4u))
				return 0;
			at += (tag & 7) == 1 ? 8 : 4;
			break;
		case 2:
			if (ppx_varint_read(data, len, &at, &v) != 0 ||
			    v > len - at)
				return 0;
			at += v;
			if ((tag >> 3) >= PPX__V1__FRAME__CONTENT_MESSAGE &&
			    (tag >> 3) <= PPX__V1__FRAME__CONTENT_RESTORE)
				content = (int)(tag >> 3);
			break;
		default:
			return 0;
		}
	}
	return content;
}
