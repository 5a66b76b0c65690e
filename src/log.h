/* Leveled logging to stderr; library code logs, only main decides to exit. */
#ifndef TR_LOG_H
#define TR_LOG_H

enum log_level {
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARNING,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

void	log_set_level(enum log_level);
int	log_enabled(enum log_level);

/*
 * Called before every message is printed, e.g. to erase a progress bar so the
 * message does not land in the middle of it; NULL for none.
 */
void	log_set_before_output(void (*)(void *), void *);

/* log_warn appends ": strerror(errno)"; the x variants do not.  errno is preserved. */
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_errorx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));

/* Only for main's wiring: print and exit with the given code. */
void	fatalx(int, const char *, ...)
	    __attribute__((format(printf, 2, 3), noreturn));

#endif
