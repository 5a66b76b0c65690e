/* libFuzzer harness: any bytes as a YAML config file. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"

/* Warnings (unknown keys) would flood the fuzzer's output. */
static void
quiet(void *arg, const char *msg)
{
	(void)arg, (void)msg;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct config_load_opts opts = { .warn = quiet };
	struct config cfg;
	char path[64], err[1024];
	FILE *null;
	int fd;

	/* config_load reads a path: give it one without touching the disk. */
	if ((fd = memfd_create("fuzz-config", 0)) == -1)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (config_load(path, &opts, &cfg, err, sizeof(err)) == 0) {
		(void)config_check_replay(&cfg, err, sizeof(err));
		if ((null = fopen("/dev/null", "w")) != NULL) {
			config_print(null, &cfg);
			fclose(null);
		}
		config_free(&cfg);
	}
	close(fd);
	return 0;
}
