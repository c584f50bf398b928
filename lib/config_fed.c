/*
 * config_fed.c — the configuration's side of the federation directory
 * (PROTOCOL.md 13): [federation] partners, the partners the directory
 * adds while the daemon runs (daemon/partners.c), and the names of their
 * standings.  config.c reads the rest of [federation] through its table.
 */
#include <ctype.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"
#include "ppx/error.h"

#define AGENCY_GLOB_CHARS "abcdefghijklmnopqrstuvwxyz0123456789.-*?[]!"

static int fail(char *why, size_t cap, const char *msg)
{
	snprintf(why, cap, "%s", msg);
	return PPX_EINVAL;
}

/* One item, trimmed, of agency-name and glob characters. */
static int fed_item_add(struct ppx_config *c, const char *s, size_t n,
			char *why, size_t cap)
{
	char *item;

	while (n > 0 && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	if (n == 0)
		return fail(why, cap, "empty item in the list");
	if (n >= PPX_CONFIG_AGENCY_MAX)
		return fail(why, cap, "an item is longer than an agency name");
	if (c->n_fed_partners >= PPX_CONFIG_HOOK_PARTNERS)
		return fail(why, cap, "more than 32 names or globs");
	item = c->fed_partners[c->n_fed_partners++];
	memcpy(item, s, n);
	item[n] = '\0';
	if (strspn(item, AGENCY_GLOB_CHARS) != n)
		return fail(why, cap, "not agency names or globs (a-z, 0-9, "
			    "'.', '-', and * ? [ ])");
	return 0;
}

int ppxi_config_fed_partners_parse(struct ppx_config *c, const char *value,
				   char *why, size_t cap)
{
	const char *s = value;

	c->n_fed_partners = 0;
	for (;;) {
		const char *end = strchr(s, ',');
		size_t n = end ? (size_t)(end - s) : strlen(s);
		int rc = fed_item_add(c, s, n, why, cap);

		if (rc != 0)
			return rc;
		if (!end)
			return 0;
		s = end + 1;
	}
}

int ppx_config_add_partner(struct ppx_config *self,
			   const struct ppx_partner *p)
{
	struct ppx_partner *na;

	if (ppx_config_partner(self, p->name))
		return ppx_error_set(PPX_EDUP, "partner %s: already a partner",
				     p->name);
	if (self->n_partners >= PPX_CONFIG_MAX_PARTNERS)
		return ppx_error_set(PPX_ERANGE, "partner %s: more than %d "
				     "partners", p->name,
				     PPX_CONFIG_MAX_PARTNERS);
	/* The parse grew the array by doubling and kept its capacity to
	 * itself: an exact realloc is right whatever it was. */
	na = realloc(self->partners, (self->n_partners + 1) * sizeof(*na));
	if (!na)
		return ppx_error_set(PPX_ENOMEM, "partner %s: out of memory",
				     p->name);
	self->partners = na;
	na[self->n_partners++] = *p;
	return 0;
}

int ppx_config_fed_allows(const struct ppx_config *self, const char *agency)
{
	if (self->n_fed_partners == 0)
		return 1;	/* partners = * */
	for (size_t i = 0; i < self->n_fed_partners; i++)
		if (fnmatch(self->fed_partners[i], agency, 0) == 0)
			return 1;
	return 0;
}

const char *ppx_standing_name(int standing)
{
	static const char *const names[] = {
		[PPX_STANDING_CONFIGURED] = "configured",
		[PPX_STANDING_ACTIVE] = "active",
		[PPX_STANDING_SUSPENDED] = "suspended",
		[PPX_STANDING_LEAVING] = "leaving",
		[PPX_STANDING_REMOVED] = "removed",
		[PPX_STANDING_NOT_ALLOWED] = "not-allowed",
	};

	if (standing < 0 ||
	    (size_t)standing >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[standing];
}
