/* Leveled logging to stderr with a level prefix; errno is preserved across calls. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/*
 * The level is process-wide by nature (one stderr); it is set once by main
 * before anything runs, so it is the one piece of mutable global state.
 */
static enum log_level current_level = LOG_LEVEL_WARNING;
static void (*before_output)(void *);
static void *before_output_arg;

static const char *const level_names[] = {
	[LOG_LEVEL_ERROR] = "error",
	[LOG_LEVEL_WARNING] = "warning",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_DEBUG] = "debug",
};

void
log_set_before_output(void (*fn)(void *), void *arg)
{
	before_output = fn;
	before_output_arg = arg;
}

void
log_set_level(enum log_level level)
{
	current_level = level;
}

int
log_enabled(enum log_level level)
{
	return level <= current_level;
}

/* The attribute lets -Wformat-nonliteral (clang) see fmt is checked at every caller. */
static void	vlog(enum log_level, const char *, const char *, va_list)
		    __attribute__((format(printf, 3, 0)));

static void
vlog(enum log_level level, const char *suffix, const char *fmt, va_list ap)
{
	int saved = errno;

	if (!log_enabled(level)) {
		errno = saved;
		return;
	}
	if (before_output != NULL)
		before_output(before_output_arg);
	fprintf(stderr, "traffic-reproducer: %s: ", level_names[level]);
	vfprintf(stderr, fmt, ap);
	if (suffix != NULL)
		fprintf(stderr, ": %s", suffix);
	fputc('\n', stderr);
	errno = saved;
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;
	const char *why = strerror(errno);

	va_start(ap, fmt);
	vlog(LOG_LEVEL_WARNING, why, fmt, ap);
	va_end(ap);
}

#define LOG_FN(name, level)				\
void							\
name(const char *fmt, ...)				\
{							\
	va_list ap;					\
							\
	va_start(ap, fmt);				\
	vlog(level, NULL, fmt, ap);			\
	va_end(ap);					\
}

LOG_FN(log_warnx, LOG_LEVEL_WARNING)
LOG_FN(log_errorx, LOG_LEVEL_ERROR)
LOG_FN(log_info, LOG_LEVEL_INFO)
LOG_FN(log_debug, LOG_LEVEL_DEBUG)

void
fatalx(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_ERROR, NULL, fmt, ap);
	va_end(ap);
	exit(code);
}
