/*
 * directory_cmd.h — the parts of `ppx directory` shared between
 * cmd_directory.c (make, show) and cmd_directory_status.c (printing a
 * directory, the directory in force) and cmd_status.c (its one line).
 */
#ifndef PPX_DIRECTORY_CMD_H
#define PPX_DIRECTORY_CMD_H

#include "ppx/directory.h"
#include "ppx.pb-c.h"

/* Print a judged directory: a table, or one JSON object with --json. */
void directory_print(const struct ppx_directory *dir, const ppx_trust *trust,
		     int json);

/* `ppx directory [--config F] [--json]`: the process's exit status. */
int directory_in_force(int argc, char **argv);

/* The one line of `ppx status` about the directory in force, e.g.
 * "directory england-wales serial 4, taken 12 s ago from partner
 * police.gwent, valid until 2027-01-01T00:00:00Z", or "directory: none
 * in force" (into out, cut at cap). */
void directory_status_line(char *out, size_t cap,
			   const Ppx__V1__DirectoryStatus *d);

#endif
