/* The anonymize subcommand: `traffic-reproducer anonymize ...` (see anon_cli.c's usage text). */
#ifndef TR_ANON_CLI_H
#define TR_ANON_CLI_H

#include <signal.h>

/* argv[0] is "anonymize"; returns the exit code.  A signal sets *stop: the run ends, writing nothing. */
int	anon_main(int argc, char **argv, volatile sig_atomic_t *stop);

#endif
