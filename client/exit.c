/*
 * exit.c — the one place where a PPX_E* code becomes the exit status of
 * ppx (docs/ppx.1).
 *
 * The client's helpers (ctl_*, and in time compose_*, logread's lr_* and
 * the option parsers) return 0 or a negative PPX_E* code, as libppx does.
 * Only the cmd_* functions and main() end in an exit status; when what
 * stops them is such a code, they turn it into one here, so that the
 * mapping is written once:
 *
 *   0                       0  success
 *   PPX_ETOOBIG..PPX_EBADDIR  1  a refusal: the check ran, the answer is no
 *   PPX_EINVAL              2  usage error (options, configuration)
 *   anything else           3  cannot read or reach what was asked for
 */
#include "client.h"
#include "ppx/error.h"

int ppx_exit_code(int ppx_error)
{
	if (ppx_error == PPX_OK)
		return PPX_EXIT_OK;
	if (ppx_error == PPX_EINVAL)
		return PPX_EXIT_USAGE;
	if (ppx_error <= PPX_ETOOBIG && ppx_error >= PPX_EBADDIR)
		return PPX_EXIT_NO;
	return PPX_EXIT_UNAVAILABLE;
}
