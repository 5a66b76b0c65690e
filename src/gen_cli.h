/* `traffic-reproducer generate`: a capture and its replay config from a spec, or the spec's oracle. */
#ifndef TR_GEN_CLI_H
#define TR_GEN_CLI_H

#include <signal.h>

/* argv[0] is "generate".  Exit code: 0, 1 (the run failed), 2 (bad command line or spec). */
int	gen_main(int argc, char **argv, volatile sig_atomic_t *stop);

#endif
