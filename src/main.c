/* traffic-reproducer: command line parsing and the wiring of the stages; nothing else. */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <pcap/pcap.h>
#include <yaml.h>

#include "anon_cli.h"
#include "config.h"
#include "gen_cli.h"
#include "info.h"
#include "log.h"
#include "monotime.h"
#include "preproc.h"
#include "replay.h"
#include "report.h"
#include "shard.h"
#include "sink.h"

/* Exit codes, documented in the help text and the README. */
enum {
	EXIT_OK = 0,
	EXIT_RUNTIME = 1,	/* the run started but could not go on */
	EXIT_USAGE = 2,		/* bad command line, config or capture path: nothing was sent */
	EXIT_DAMAGED = 3,	/* played, but a capture was damaged (the message says where) */
	EXIT_SIGINT = 130,
};

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t stop_signal;

/* A closed terminal (SIGHUP) asks for a stop like SIGTERM does: same clean stop, same exit code. */
static void
on_signal(int sig)
{
	stop_requested = 1;
	stop_signal = sig == SIGHUP ? SIGTERM : sig;
}

/*
 * hangup: the replay also stops cleanly on SIGHUP, unless it was started
 * ignoring it (nohup), which is kept.  The sink has handlers of its own.
 */
static void
install_signals(bool hangup)
{
	struct sigaction sa, old;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a signal must cut a long sleep short. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (hangup && sigaction(SIGHUP, NULL, &old) == 0 &&
	    old.sa_handler != SIG_IGN)
		sigaction(SIGHUP, &sa, NULL);
}

/*
 * stdout is flushed at exit, where a failed write (-n > /dev/full) would go
 * unnoticed: flush it now, and say so.  Returns the exit code.
 */
static int
stdout_done(const char *what)
{
	if (fflush(stdout) == EOF || ferror(stdout)) {
		log_errorx("%s: cannot write to stdout: %s", what,
		    strerror(errno));
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}

#ifndef TR_GIT_REVISION
#define TR_GIT_REVISION "unknown"	/* CMake sets it; "unknown" outside a git checkout */
#endif

/*
 * --version: ours, the git revision it was built from, and the libraries'
 * versions as loaded at run time (a bug report needs those: libpcap's
 * handling of a damaged capture, for one, changed between releases).
 */
static void
print_version(void)
{
	printf("traffic-reproducer %s (git %s)\n", TR_VERSION,
	    TR_GIT_REVISION);
	printf("libpcap: %s\n", pcap_lib_version());
	printf("libyaml: %s\n", yaml_get_version_string());
#if JANSSON_VERSION_HEX >= 0x020d00
	/* jansson_version_str() came with 2.13: the library loaded, not the headers. */
	printf("jansson: %s\n", jansson_version_str());
#else
	printf("jansson: %s (headers)\n", JANSSON_VERSION);
#endif
	printf("OpenSSL: %s\n", OpenSSL_version(OPENSSL_VERSION));
}

static const char usage_text[] =
"usage: traffic-reproducer -t CFG [-v|-d] [--no-sync] [--keep-open]\n"
"                          [--ask-for-input] [--stats-json FILE] [--strict]\n"
"                          [--pps N] [--mbps N] [--topspeed] [--duration S]\n"
"                          [--limit N] [--loop N] [--shard K/N]\n"
"                          [--start-at TIME]\n"
"       traffic-reproducer -t CFG -n [--strict]\n"
"       traffic-reproducer -p -t CFG             (pre-process the captures)\n"
"       traffic-reproducer --info PCAP... [-t CFG]\n"
"       traffic-reproducer --info -t CFG        (the config's pcap list)\n"
"       traffic-reproducer sink [options]     (built-in collector; sink -h)\n"
"       traffic-reproducer anonymize ...      (pseudonymize captures;\n"
"                                              anonymize -h)\n"
"       traffic-reproducer generate -t SPEC -o OUT.pcap [--expect]\n"
"                                             (traffic from a spec; generate -h)\n"
"\n"
"Replays the telemetry in pcap/pcapng captures (IPFIX, NetFlow v9/v5 and any\n"
"UDP payload) to a collector, from the configured source addresses, with the\n"
"capture's timing scaled by time_factor.\n"
"\n"
"options:\n"
"  -t, --cfg FILE       YAML config (the older Python tool's schema)\n"
"  -v, --verbose        log level INFO and a statistics table every 5 s\n"
"  -d, --debug          log level DEBUG (of -v and -d, the last one given\n"
"                       counts)\n"
"  -p, --pcap-proc      pre-process the captures: write traffic.pcap,\n"
"                       traffic-reproducer.yml and traffic-info.json into\n"
"                       pcap_processing.output_folder, then exit (or, with\n"
"                       exit: false, replay the result)\n"
"      --no-sync        start at once instead of waiting for the capture's\n"
"                       second of the minute (OR'ed with no_sync)\n"
"      --keep-open      after the last capture keep the sockets open until\n"
"                       SIGINT (OR'ed with keep_open)\n"
"      --ask-for-input  ask before each capture: 'y' plays it, anything\n"
"                       else skips it\n"
"      --stats-json FILE  write the final figures as JSON (its folder is\n"
"                       checked at start; replaced whole at the end)\n"
"      --strict         unknown config keys and a src_ip mapped twice are\n"
"                       errors, not warnings (as strict: true in the config)\n"
"      --pps N          send N packets per second (datagrams and TCP segments\n"
"                       with data, over all exporters) in capture order,\n"
"                       instead of the capture's timing (no minute sync)\n"
"      --mbps N         the same at N megabits of payload per second (UDP and\n"
"                       TCP payload bytes; with --pps, both limits hold)\n"
"      --topspeed       as fast as possible: time_factor 0\n"
"      --duration S     stop S seconds after the first packet (as at the end:\n"
"                       summary, BGP Cease, exit 0)\n"
"      --limit N        stop after N datagrams and TCP messages sent\n"
"      --loop N         play the whole capture list N times (0: until\n"
"                       stopped)\n"
"      --shard K/N      replay only the exporters of shard K of N (K from 1:\n"
"                       1/4 ... 4/4), chosen by a hash of each exporter's\n"
"                       captured address; the N shards together are the\n"
"                       whole run, on the capture's timeline\n"
"      --start-at TIME  start the timeline at that wall-clock time, RFC 3339\n"
"                       (2026-12-03T20:00:00Z) or Unix seconds (fractions\n"
"                       allowed), so processes on several machines start\n"
"                       together; minute sync counts from it\n"
"  -n, --check          load and validate the config, print it with every\n"
"                       default filled in, and exit\n"
"      --info           print a JSON summary of the captures to stdout and\n"
"                       exit: per exporter NetFlow/IPFIX versions, domains\n"
"                       and templates, BGP sessions (OPENs, messages,\n"
"                       prefixes per AFI/SAFI, NOTIFICATIONs), BMP sessions\n"
"                       (sysName, sysDescr, monitored peers), totals, time\n"
"                       span, and what was dropped and why.  With -t only\n"
"                       what the config's sections select counts; without,\n"
"                       packets are classified by content\n"
"      --version        print the version and exit\n"
"  -h, --help           this text\n"
"\n"
"config keys (see README.md for the full reference):\n"
"  pcap: path or list           repeat: {count: [..], pattern: round-robin|bulk}\n"
"  time_factor: 1 (2 = twice as slow, 0.01 = 100x faster, 0 = no waits)\n"
"  keep_open: false             no_sync: false\n"
"  loop_exporters: same|shift   loop_block: 0   (--loop's exporters: shift sends\n"
"                               each play from repro_ip + play x loop_block)\n"
"  reconnect: (keep_open)       TCP: reconnect sessions the collector closed\n"
"  tcp_stall_limit: 30          seconds a TCP session may have bytes queued that\n"
"                               its connection does not take; then it ends\n"
"  strict: false                true: unknown keys are errors (as --strict)\n"
"  optimize: {threading, preload, network: {so_sndbuf, so_rcvbuf}}\n"
"  network: {map: [{src_ip, repro_ip}] or {SRC_IP: REPRO_IP}, interface,\n"
"            spoof: none|freebind|raw}\n"
"  ipfix | bmp | bgp | udp_generic | tcp_generic:\n"
"    select: {ip: {src, dst}, udp|tcp: {sport, dport},\n"
"             ipfix_h: {version}, bmp_h: {type}, bgp_h: {type}}\n"
"    collector: {ip: address or hostname, port}\n"
"    open: {bgp_id, hold_time}   (bgp only: rewrite the replayed OPEN)\n"
"  pcap_processing: {initial_delay, inter_packet_delay, inter_protocol_delay,\n"
"                    output_folder, desired_tcp_payload_size, exit}\n"
"\n"
"exit codes: 0 done, 1 the run failed (e.g. a TCP collector refused or closed\n"
"a session, so messages were lost), 2 bad command line, config or capture path\n"
"(nothing sent), 3 a capture was damaged (replayed up to the damage), 130/143\n"
"stopped by SIGINT/SIGTERM (SIGHUP: as SIGTERM).  --info: 0 done, 2 a capture\n"
"cannot be read (nothing printed), 3 a capture is damaged (the JSON covers what\n"
"came before the damage and lists it under \"errors\").  -p: 0 written, 1\n"
"nothing kept (the summary says what was dropped), 2 bad config or capture\n"
"path, 3 a capture is damaged (what came before it is used).\n";

struct cli {
	const char	*cfg_path;
	const char	*stats_json;
	enum log_level	 level;
	bool		 pcap_proc, no_sync, keep_open, ask_for_input, check;
	bool		 info, strict, topspeed;
	double		 pps, mbps, duration;	/* 0: not given */
	uint64_t	 limit, loops;		/* loops: 1 unless --loop */
	struct shard	 shard;			/* n 0: not sharded */
	tr_ns		 start_at;		/* CLOCK_REALTIME; 0: not given */
	char	       **pcaps;		/* --info: the captures named on the command line */
	int		 n_pcaps;
};

/* The long name of an option, for messages. */
static const char *
option_name(const struct option *opts, int val)
{
	for (; opts->name != NULL; opts++)
		if (opts->val == val)
			return opts->name;
	return "?";
}

/* A rate or a duration: a finite number above 0 (fractions allowed: --duration 0.5). */
static int
parse_positive(const struct option *opts, int val, const char *arg,
    double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno != 0 || end == arg || *end != '\0' || !(v > 0) ||
	    v > 1e12) {
		log_errorx("--%s %s: give a number above 0 (see -h)",
		    option_name(opts, val), arg);
		return -1;
	}
	*out = v;
	return 0;
}

/* A count: a whole number, above 0 unless zero_ok (--loop 0: forever). */
static int
parse_count(const struct option *opts, int val, const char *arg,
    uint64_t *out, bool zero_ok)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || arg[0] == '-' ||
	    (v == 0 && !zero_ok)) {
		log_errorx("--%s %s: give a whole number%s (see -h)",
		    option_name(opts, val), arg, zero_ok ? "" : " above 0");
		return -1;
	}
	*out = v;
	return 0;
}

/*
 * --start-at: a time more than a second gone is a mistake (a stale
 * manifest, a wrong zone), not a start: the shards would not line up.
 */
static int
parse_start_at(const char *arg, tr_ns *out)
{
	tr_ns now = tr_wall_now();

	if (start_at_parse(arg, out) == -1) {
		log_errorx("--start-at %s: give an RFC 3339 UTC time "
		    "(2026-12-03T20:00:00Z) or Unix seconds (see -h)", arg);
		return -1;
	}
	if (*out < now - TR_NS_PER_SEC) {
		log_errorx("--start-at %s (%.3f) is %.3f s in the past (now "
		    "%.3f): give a time to come", arg, tr_ns_to_sec(*out),
		    tr_ns_to_sec(now - *out), tr_ns_to_sec(now));
		return -1;
	}
	return 0;
}

static int
parse_cli(int argc, char **argv, struct cli *cli)
{
	enum { OPT_NO_SYNC = 256, OPT_KEEP_OPEN, OPT_ASK, OPT_STATS_JSON,
	    OPT_VERSION, OPT_INFO, OPT_STRICT, OPT_LIST_CONFIG_KEYS, OPT_PPS,
	    OPT_MBPS, OPT_TOPSPEED, OPT_DURATION, OPT_LIMIT, OPT_LOOP,
	    OPT_SHARD, OPT_START_AT };
	static const struct option longopts[] = {
		{ "cfg", required_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "debug", no_argument, NULL, 'd' },
		{ "pcap-proc", no_argument, NULL, 'p' },
		{ "check", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ "no-sync", no_argument, NULL, OPT_NO_SYNC },
		{ "keep-open", no_argument, NULL, OPT_KEEP_OPEN },
		{ "ask-for-input", no_argument, NULL, OPT_ASK },
		{ "stats-json", required_argument, NULL, OPT_STATS_JSON },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "info", no_argument, NULL, OPT_INFO },
		{ "strict", no_argument, NULL, OPT_STRICT },
		{ "pps", required_argument, NULL, OPT_PPS },
		{ "mbps", required_argument, NULL, OPT_MBPS },
		{ "topspeed", no_argument, NULL, OPT_TOPSPEED },
		{ "duration", required_argument, NULL, OPT_DURATION },
		{ "limit", required_argument, NULL, OPT_LIMIT },
		{ "loop", required_argument, NULL, OPT_LOOP },
		{ "shard", required_argument, NULL, OPT_SHARD },
		{ "start-at", required_argument, NULL, OPT_START_AT },
		/* Hidden (not in -h): the man page's test compares its keys with it. */
		{ "list-config-keys", no_argument, NULL, OPT_LIST_CONFIG_KEYS },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	memset(cli, 0, sizeof(*cli));
	cli->level = LOG_LEVEL_WARNING;
	cli->loops = 1;
	while ((ch = getopt_long(argc, argv, "t:vdpnh", longopts, NULL)) != -1) {
		switch (ch) {
		case 't': cli->cfg_path = optarg; break;
		/* The older tool's argparse stores both into one level: the last one given counts. */
		case 'v': cli->level = LOG_LEVEL_INFO; break;
		case 'd': cli->level = LOG_LEVEL_DEBUG; break;
		case 'p': cli->pcap_proc = true; break;
		case 'n': cli->check = true; break;
		case OPT_NO_SYNC: cli->no_sync = true; break;
		case OPT_KEEP_OPEN: cli->keep_open = true; break;
		case OPT_ASK: cli->ask_for_input = true; break;
		case OPT_STATS_JSON: cli->stats_json = optarg; break;
		case OPT_INFO: cli->info = true; break;
		case OPT_STRICT: cli->strict = true; break;
		case OPT_TOPSPEED: cli->topspeed = true; break;
		case OPT_PPS:
		case OPT_MBPS:
		case OPT_DURATION:
			if (parse_positive(longopts, ch, optarg, ch == OPT_PPS ?
			    &cli->pps : ch == OPT_MBPS ? &cli->mbps :
			    &cli->duration) == -1)
				return -1;
			break;
		case OPT_LIMIT:
		case OPT_LOOP:
			if (parse_count(longopts, ch, optarg, ch == OPT_LIMIT ?
			    &cli->limit : &cli->loops, ch == OPT_LOOP) == -1)
				return -1;
			break;
		case OPT_SHARD:
			if (shard_parse(optarg, &cli->shard) == -1) {
				log_errorx("--shard %s: give K/N, shard K "
				    "(from 1) of N, 1 <= K <= N <= %u, e.g. "
				    "--shard 1/4 (see -h)", optarg, SHARD_MAX);
				return -1;
			}
			break;
		case OPT_START_AT:
			if (parse_start_at(optarg, &cli->start_at) == -1)
				return -1;
			break;
		case OPT_VERSION:
			print_version();
			exit(stdout_done("--version"));
		case OPT_LIST_CONFIG_KEYS:
			config_list_keys(stdout);
			exit(stdout_done("--list-config-keys"));
		case 'h':
			fputs(usage_text, stdout);
			exit(stdout_done("-h"));
		default:
			fputs(usage_text, stderr);
			return -1;
		}
	}
	if (cli->topspeed && (cli->pps > 0 || cli->mbps > 0)) {
		log_errorx("--topspeed sends as fast as possible, --pps and "
		    "--mbps at a rate: choose one (see -h)");
		return -1;
	}
	if (cli->info) {
		cli->pcaps = argv + optind;
		cli->n_pcaps = argc - optind;
		if (cli->n_pcaps == 0 && cli->cfg_path == NULL) {
			log_errorx("--info needs captures, a config (-t) whose "
			    "pcap list to read, or both (see -h)");
			return -1;
		}
		return 0;
	}
	if (optind < argc) {
		log_errorx("unexpected argument '%s' (see -h)", argv[optind]);
		return -1;
	}
	if (cli->cfg_path == NULL) {
		log_errorx("the config file is required: -t FILE (see -h)");
		return -1;
	}
	return 0;
}

static int
exit_code(enum replay_result result)
{
	switch (result) {
	case REPLAY_OK:
		return EXIT_OK;
	case REPLAY_DAMAGED:
		return EXIT_DAMAGED;
	case REPLAY_INCOMPLETE:
		return EXIT_RUNTIME;
	case REPLAY_SETUP_FAILED:
		return EXIT_USAGE;
	case REPLAY_STOPPED:
		return 128 + (stop_signal ? stop_signal : SIGINT);
	}
	return EXIT_RUNTIME;
}

/* The folder a path is in ("." for a bare name); buf holds the copy dirname() may change. */
static const char *
folder_of(const char *path, char *buf, size_t len)
{
	snprintf(buf, len, "%s", path);
	return dirname(buf);
}

/* Whether path names the same file as st (an input of the run), by device and inode. */
static bool
same_file(const struct stat *st, const char *path)
{
	struct stat other;

	return stat(path, &other) == 0 && other.st_dev == st->st_dev &&
	    other.st_ino == st->st_ino;
}

/*
 * --stats-json is written at the end of the run: a path that cannot take it
 * is checked for now, before anything is sent, rather than found out after
 * an hour of replay.  It must not be one of the run's inputs either (same
 * device and inode: another name, a link or ./ would fool a comparison of
 * names).  An existing file is left as it is until the end.
 */
static int
stats_json_check(const char *path, const struct config *cfg)
{
	char		 buf[PATH_MAX], *real = realpath(path, NULL);
	/* A link is written through (see stats_json_write): its target's folder counts. */
	const char	*dir = folder_of(real != NULL ? real : path, buf,
			    sizeof(buf));
	struct stat	 st;

	free(real);
	if (stat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode)) {
			log_errorx("--stats-json %s: is a folder; give a file "
			    "path", path);
			return -1;
		}
		if (same_file(&st, cfg->path)) {
			log_errorx("--stats-json %s is the config file %s: it "
			    "would be overwritten; choose another path", path,
			    cfg->path);
			return -1;
		}
		for (size_t i = 0; i < cfg->n_pcaps; i++) {
			if (same_file(&st, cfg->pcaps[i])) {
				log_errorx("--stats-json %s is the capture %s "
				    "(pcap[%zu]): it would be overwritten; "
				    "choose another path", path, cfg->pcaps[i],
				    i);
				return -1;
			}
		}
		/* A device or a pipe (/dev/stdout) is written in place. */
		if (!S_ISREG(st.st_mode)) {
			if (access(path, W_OK) == -1) {
				log_errorx("--stats-json %s: cannot write: %s",
				    path, strerror(errno));
				return -1;
			}
			return 0;
		}
	} else if (errno != ENOENT) {
		log_errorx("--stats-json %s: %s", path, strerror(errno));
		return -1;
	}
	if (stat(dir, &st) == -1 || !S_ISDIR(st.st_mode)) {
		log_errorx("--stats-json %s: the folder %s does not exist; "
		    "create it or choose another path", path, dir);
		return -1;
	}
	if (access(dir, W_OK | X_OK) == -1) {
		log_errorx("--stats-json %s: cannot write into the folder %s: "
		    "%s", path, dir, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * The figures go into a temporary file in the same folder, renamed over
 * the path once complete: a reader never sees half a file, and a file that
 * was there stays whole if the write fails.  A link is followed (the file it
 * names is replaced, not the link); a device or a pipe is written directly.
 */
static int
stats_json_write(const struct report *rep, const char *path, tr_ns now)
{
	char		 tmp[PATH_MAX], *real = realpath(path, NULL);
	const char	*target = real != NULL ? real : path;
	struct stat	 st;
	mode_t		 mask;
	int		 fd, rc, saved;

	if (stat(target, &st) == 0 && !S_ISREG(st.st_mode)) {
		rc = report_write_json(rep, target, now);
		free(real);
		return rc;
	}
	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", target) >=
	    (int)sizeof(tmp)) {
		free(real);
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = mkstemp(tmp)) == -1) {
		free(real);
		return -1;
	}
	/* mkstemp makes it 0600; the file gets the mode a plain create would give. */
	mask = umask(0);
	umask(mask);
	rc = fchmod(fd, 0666 & ~mask);
	if (close(fd) == -1)
		rc = -1;
	if (rc == 0 && report_write_json(rep, tmp, now) == 0 &&
	    rename(tmp, target) == 0) {
		free(real);
		return 0;
	}
	saved = errno;
	unlink(tmp);
	free(real);
	errno = saved;
	return -1;
}

/*
 * --info: read every capture, then print the summary.  Nothing reaches
 * stdout unless every capture could be opened, so a failure never leaves
 * half a document behind.
 */
static int
run_info(const struct cli *cli, const struct config *cfg)
{
	char *const *pcaps = cli->n_pcaps > 0 ? cli->pcaps : cfg->pcaps;
	size_t n = cli->n_pcaps > 0 ? (size_t)cli->n_pcaps : cfg->n_pcaps;
	struct info *inf = info_new(cfg);
	int code = EXIT_OK, rc;
	char err[1024];
	json_t *root;

	if (inf == NULL)
		fatalx(EXIT_RUNTIME, "--info: out of memory");
	for (size_t i = 0; i < n; i++) {
		if ((rc = info_add_capture(inf, pcaps[i], err, sizeof(err))) ==
		    -1) {
			code = errno == ENOMEM ? EXIT_RUNTIME : EXIT_USAGE;
			info_free(inf);
			log_errorx("%s", err);
			return code;
		}
		if (rc == 1)
			code = EXIT_DAMAGED;
	}
	if ((root = info_json(inf)) == NULL ||
	    json_dumpf(root, stdout, JSON_PRESERVE_ORDER | JSON_INDENT(2)) ==
	    -1 || fputc('\n', stdout) == EOF || fflush(stdout) == EOF) {
		log_warn("--info: cannot write the summary");
		code = EXIT_RUNTIME;
	}
	json_decref(root);
	info_free(inf);
	return code;
}

int
main(int argc, char **argv)
{
	struct replay_opts opts;
	enum replay_result result;
	struct report rep;
	struct config cfg;
	struct config_load_opts load_opts;
	struct cli cli;
	char err[1024];
	int code;

	if (argc > 1 && strcmp(argv[1], "sink") == 0) {
		install_signals(false);
		return sink_main(argc - 1, argv + 1);
	}
	if (argc > 1 && strcmp(argv[1], "anonymize") == 0) {
		install_signals(true);
		code = anon_main(argc - 1, argv + 1, &stop_requested);
		return stop_requested ? 128 + stop_signal : code;
	}
	if (argc > 1 && strcmp(argv[1], "generate") == 0) {
		install_signals(true);
		code = gen_main(argc - 1, argv + 1, &stop_requested);
		return stop_requested ? 128 + stop_signal : code;
	}
	if (parse_cli(argc, argv, &cli) == -1)
		return EXIT_USAGE;
	log_set_level(cli.level);

	if (cli.info && cli.cfg_path == NULL)
		return run_info(&cli, NULL);
	load_opts = (struct config_load_opts){ .strict = cli.strict };
	if (config_load(cli.cfg_path, &load_opts, &cfg, err, sizeof(err)) == -1)
		fatalx(EXIT_USAGE, "%s", err);
	/* -n checks it too: it tells whether the run would start. */
	if (cli.stats_json != NULL && !cli.info &&
	    stats_json_check(cli.stats_json, &cfg) == -1) {
		config_free(&cfg);
		return EXIT_USAGE;
	}
	if (cli.check) {
		config_print(stdout, &cfg);
		config_free(&cfg);
		return stdout_done("-n");
	}
	if (cli.info) {
		code = run_info(&cli, &cfg);
		config_free(&cfg);
		return code;
	}
	if (cli.pcap_proc) {
		char yml[4096];
		enum preproc_result pr;
		bool go_on = !cfg.pcap_processing.exit;

		/* -p cleans up on a closed terminal too: no temporaries left behind. */
		install_signals(true);
		pr = preproc_run(&cfg, yml, sizeof(yml), &stop_requested);

		config_free(&cfg);
		switch (pr) {
		case PREPROC_OK: code = EXIT_OK; break;
		case PREPROC_DAMAGED: code = EXIT_DAMAGED; break;
		case PREPROC_NOTHING: code = EXIT_RUNTIME; break;
		case PREPROC_BAD_INPUT: code = EXIT_USAGE; break;
		case PREPROC_STOPPED: code = 128 + stop_signal; break;
		default: code = EXIT_RUNTIME; break;
		}
		if (!go_on || (pr != PREPROC_OK && pr != PREPROC_DAMAGED))
			return code;
		/* exit: false: replay what was written (placeholders filled in or not). */
		if (config_load(yml, &load_opts, &cfg, err, sizeof(err)) == -1)
			fatalx(EXIT_USAGE, "pcap_processing.exit is false, but "
			    "the written config cannot be replayed as it is: "
			    "%s", err);
	}
	if (config_check_replay(&cfg, err, sizeof(err)) == -1) {
		config_free(&cfg);
		fatalx(EXIT_USAGE, "%s", err);
	}

	install_signals(true);
	if (cli.topspeed)
		cfg.time_factor = 0;
	if (cli.loops != 1)
		config_played_again(&cfg);
	opts = (struct replay_opts){
		.no_sync = cli.no_sync,
		.keep_open = cli.keep_open,
		.ask_for_input = cli.ask_for_input,
		.pps = cli.pps,
		.mbps = cli.mbps,
		.limit = cli.limit,
		.duration = (tr_ns)(cli.duration * (double)TR_NS_PER_SEC),
		.loops = cli.loops,
		.shard = cli.shard,
		.start_at = cli.start_at,
		.stop = &stop_requested,
	};
	report_init(&rep, &cfg, cli.level >= LOG_LEVEL_INFO);
	log_set_before_output(report_clear_bar, &rep);
	result = replay_run(&cfg, &opts, &rep);
	code = exit_code(result);
	/* The summary is for a run that started; a setup error already said what to fix. */
	if (result != REPLAY_SETUP_FAILED) {
		report_print_final(&rep, stderr, tr_mono_now());
		if (cli.stats_json != NULL && stats_json_write(&rep,
		    cli.stats_json, tr_mono_now()) == -1) {
			log_warn("cannot write --stats-json %s", cli.stats_json);
			code = code == EXIT_OK ? EXIT_RUNTIME : code;
		}
	}
	report_free(&rep);
	config_free(&cfg);
	return code;
}
