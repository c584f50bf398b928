/*
 * replay_main.c — run a fuzz target over a corpus without libFuzzer, so the
 * corpora are regression tests built by the ordinary compiler.
 *
 * Usage: replay_fuzz_X DIR|FILE...   Prints one TAP line per input: an input
 * "passes" by returning from the target; a crash ends the program, which
 * tests/run-tests counts as a failure.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count;

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long len;

	if (!f || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0) {
		printf("not ok %d - cannot read %s\n", ++count, path);
		if (f)
			fclose(f);
		return 1;
	}
	buf = malloc(len ? (size_t)len : 1);
	if (!buf || fread(buf, 1, (size_t)len, f) != (size_t)len) {
		printf("not ok %d - cannot read %s\n", ++count, path);
		free(buf);
		fclose(f);
		return 1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)len);
	free(buf);
	printf("ok %d - %s\n", ++count, path);
	return 0;
}

static int replay_dir(const char *dir)
{
	struct dirent **list = NULL;
	int n = scandir(dir, &list, NULL, alphasort), failed = 0;
	char path[4096];

	if (n < 0) {
		printf("not ok %d - cannot open %s\n", ++count, dir);
		return 1;
	}
	for (int i = 0; i < n; i++) {
		if (list[i]->d_name[0] != '.' &&
		    (size_t)snprintf(path, sizeof(path), "%s/%s", dir,
				     list[i]->d_name) < sizeof(path))
			failed |= replay_file(path);
		free(list[i]);
	}
	free(list);
	return failed;
}

int main(int argc, char **argv)
{
	struct stat st;
	int failed = 0;

	for (int i = 1; i < argc; i++) {
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
			failed |= replay_dir(argv[i]);
		else
			failed |= replay_file(argv[i]);
	}
	printf("1..%d\n", count);
	return failed;
}
