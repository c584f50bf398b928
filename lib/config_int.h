/*
 * config_int.h — what config.c and config_hooks.c share inside libppx:
 * the integration sections ([events], [hook NAME]) of the configuration.
 * Not part of the public interface (include/ppx/config.h).
 */
#ifndef PPX_CONFIG_INT_H
#define PPX_CONFIG_INT_H

#include "ppx/config.h"

/*
 * The integration sections (config_hooks.c), for config.c.  The value
 * parsers return 0, or PPX_EINVAL having written into why[cap] what is
 * wrong with the value (config.c adds section, key and value); the others
 * record their problem with ppx_error_set() and point *line at it.
 */
int ppxi_config_events_endpoint_parse(const char *value, char *why, size_t cap);

/* A new [hook NAME], its filters at their defaults. */
int ppxi_config_hook_add(struct ppx_hook_config **out, struct ppx_config *c,
			 size_t *cap, const char *name, int line);

/* command, entry_kinds, families, kinds or partners of hook h; relative
 * programs are resolved against `dir`. */
int ppxi_config_hook_value(struct ppx_hook_config *h,
			   const struct ppx_ini_entry *e, const char *dir,
			   char *why, size_t cap);

/* The end of hook h's section: the lines its keys were given on (0: not
 * given). */
struct ppxi_config_hook_lines {
	int command, kinds, families, retry_initial, retry_max;
};
int ppxi_config_hook_finish(struct ppx_hook_config *h,
			    const struct ppxi_config_hook_lines *l, int *line);

/* After the whole file: the spool's operator (given at operator_line) and
 * the emergency reviewer (at reviewer_line) are ours, and each hook's
 * exact partner names are partners. */
int ppxi_config_hooks_check(const struct ppx_config *c, int operator_line,
			    int reviewer_line, int *line);

/* [federation] partners = names and globs, comma-separated, into
 * c->fed_partners (config_fed.c). */
int ppxi_config_fed_partners_parse(struct ppx_config *c, const char *value,
				   char *why, size_t cap);

#endif
