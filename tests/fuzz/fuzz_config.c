/*
 * fuzz_config.c — libFuzzer target for the files an administrator writes:
 * the input is written to a file and read both as a ppxd configuration
 * (ppx_config_load) and as a policy file (policy_load).  Relative paths inside
 * resolve against /tmp, so most inputs end in a refusal; the point is that
 * no input crashes, leaks or reads out of bounds on the way there.
 *
 * One file per process, /tmp/ppx-fuzz-config-PID, removed after each input.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "ppx/config.h"
#include "../../daemon/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int write_all(const char *path, const uint8_t *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t off = 0;
	ssize_t n;

	if (fd < 0)
		return -1;
	while (off < size && (n = write(fd, data + off, size - off)) > 0)
		off += (size_t)n;
	close(fd);
	return off == size ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	struct ppx_config *cfg = NULL;
	ppxd_policy *pol = NULL;

	if (!path[0])
		snprintf(path, sizeof(path), "/tmp/ppx-fuzz-config-%ld",
			 (long)getpid());
	if (write_all(path, data, size) != 0) {
		unlink(path);
		return 0;
	}
	if (ppx_config_load(&cfg, path) == 0)
		ppx_config_free(cfg);
	if (policy_load(&pol, path) == 0)
		policy_free(pol);
	unlink(path);
	return 0;
}
