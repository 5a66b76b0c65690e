/* The anonymize subcommand: `traffic-reproducer anonymize ...` (see anon_cli.c's usage text). */
#ifndef TR_ANON_CLI_H
#define TR_ANON_CLI_H

/* argv[0] is "anonymize"; returns the exit code. */
int	anon_main(int argc, char **argv);

#endif
