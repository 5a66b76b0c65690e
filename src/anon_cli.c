/* The anonymize subcommand's command line: make a key, rewrite captures, or reverse pseudonyms. */
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

#include "addr.h"
#include "anon_addr.h"
#include "anon_cli.h"
#include "anon_key.h"
#include "anon_map.h"
#include "anon_pcap.h"
#include "config.h"
#include "log.h"

/* As the replay's: 0 done, 1 the run failed, 2 bad command line, key or capture path. */
enum {
	ANON_EXIT_OK = 0,
	ANON_EXIT_RUNTIME = 1,
	ANON_EXIT_USAGE = 2,
};

static const char anon_usage[] =
"usage: traffic-reproducer anonymize --new-key KEY\n"
"       traffic-reproducer anonymize --key-file KEY [-t CFG] [--preserve RANGES]\n"
"                                    [--map-out MAP.json] IN... -o OUT.pcap\n"
"       traffic-reproducer anonymize --key-file KEY [--preserve RANGES] --reverse ADDR...\n"
"\n"
"Pseudonymizes captures so that they can leave the building: IPv4 and IPv6\n"
"addresses by Crypto-PAn (prefix-preserving: addresses that share a k-bit\n"
"prefix share one after), MAC addresses by a keyed hash.  One key gives the\n"
"same output for the same input, on every machine.\n"
"\n"
"Rewritten now: the MAC addresses of Ethernet and Linux cooked headers, the\n"
"source and destination of every frame's IP header (fragments too, and the\n"
"header an ICMP error quotes), with the IPv4 header, UDP, TCP, ICMP and\n"
"ICMPv6 checksums made right; inside UDP datagrams (fragmented ones put\n"
"together, rewritten and split back into their fragments), the address\n"
"fields of NetFlow v5, v9 and IPFIX records (recognized by content, or\n"
"by -t's sections), and of sFlow v5 datagrams (agent, sampled packet headers,\n"
"sampled IPv4/IPv6, next hops, NAT); in TCP, BMP and BGP messages\n"
"(reassembled, rewritten and written back into the very segments: inputs\n"
"must be files).  NOT yet: TCP segments in IP fragments.\n"
"\n"
"options:\n"
"      --new-key KEY    write a new key (32 random bytes, mode 0600) to KEY;\n"
"                       an existing file is never overwritten\n"
"  -k, --key-file KEY   the key (keep it: it reverses every pseudonym)\n"
"  -o, --output FILE    the anonymized capture (classic pcap, ns timestamps):\n"
"                       every frame of the inputs, in the order given\n"
"  -t, --config CFG     UDP datagrams and TCP sessions are the protocols'\n"
"                       whose sections of CFG select them (select, NAME_h),\n"
"                       as the replay takes them; without -t, by their\n"
"                       content, as --info does\n"
"      --preserve RANGES  keep the addresses of these ranges as they are\n"
"                       (comma-separated, any of: private (10/8, 172.16/12,\n"
"                       192.168/16, 100.64/10, fc00::/7), loopback (127/8,\n"
"                       ::1), multicast (224/4, ff00::/8), documentation\n"
"                       (192.0.2/24, 198.51.100/24, 203.0.113/24,\n"
"                       2001:db8::/32), link-local (169.254/16, fe80::/10));\n"
"                       default: none\n"
"      --map-out MAP    also write MAP (JSON, mode 0600): every address and\n"
"                       MAC seen, with its pseudonym, sorted.  It reveals the\n"
"                       originals: for the key holder only\n"
"      --as-numbers keep|map  BGP/BMP AS numbers: as they are (the default),\n"
"                       or a keyed permutation within the public and\n"
"                       private 16- and 32-bit ranges (reserved ones kept)\n"
"      --reverse        the arguments are pseudonyms: print each one's\n"
"                       original address, one per line\n"
"  -h, --help           this text\n"
"\n"
"exit: 0 done, 1 the run failed (nothing written), 2 bad command line, key\n"
"or input path.\n";

struct anon_cli {
	const char	*new_key;
	const char	*key_file;
	const char	*output;
	const char	*cfg_path;	/* -t: datagrams classified by its sections */
	const char	*map_out;	/* --map-out: the pairs seen, NULL: none */
	unsigned	 preserve;	/* --preserve: anon_preserve bits */
	bool		 reverse;
	bool		 map_as;	/* --as-numbers map */
	char *const	*args;		/* inputs, or pseudonyms with --reverse */
	int		 nargs;
};

static int
usage_error(const char *what)
{
	log_errorx("anonymize: %s (traffic-reproducer anonymize -h)", what);
	return -1;
}

/*
 * A path as one name for comparing: its folder resolved (symbolic links,
 * "..") and its last component; NULL when the folder does not resolve.
 */
static char *
canonical(const char *path)
{
	char *d = strdup(path), *b = strdup(path), *out = NULL;
	char real[PATH_MAX];

	if (d != NULL && b != NULL && realpath(dirname(d), real) != NULL &&
	    asprintf(&out, "%s/%s", real, basename(b)) == -1)
		out = NULL;
	free(d);
	free(b);
	return out;
}

/* Whether two paths name one file: the same inode when both exist, else the same resolved name. */
static bool
same_file(const char *x, const char *y)
{
	struct stat sx, sy;
	char *cx, *cy;
	bool same;

	if (stat(x, &sx) == 0 && stat(y, &sy) == 0)
		return sx.st_dev == sy.st_dev && sx.st_ino == sy.st_ino;
	cx = canonical(x);
	cy = canonical(y);
	same = cx != NULL && cy != NULL ? strcmp(cx, cy) == 0 :
	    strcmp(x, y) == 0;
	free(cx);
	free(cy);
	return same;
}

/* The map must not overwrite a capture: it would put the originals where the pseudonyms go. */
static int
map_out_check(const struct anon_cli *cli)
{
	if (cli->map_out == NULL)
		return 0;
	if (same_file(cli->map_out, cli->output))
		return usage_error("--map-out names the output capture");
	for (int i = 0; i < cli->nargs; i++)
		if (same_file(cli->map_out, cli->args[i]))
			return usage_error("--map-out names an input capture");
	return 0;
}

/* 0, 1 when -h was asked for (help printed), -1 after a message. */
static int
parse(int argc, char **argv, struct anon_cli *cli)
{
	enum { OPT_NEW_KEY = 256, OPT_REVERSE, OPT_PRESERVE, OPT_MAP_OUT,
	    OPT_AS_NUMBERS };
	static const struct option longopts[] = {
		{ "new-key", required_argument, NULL, OPT_NEW_KEY },
		{ "key-file", required_argument, NULL, 'k' },
		{ "output", required_argument, NULL, 'o' },
		{ "config", required_argument, NULL, 't' },
		{ "reverse", no_argument, NULL, OPT_REVERSE },
		{ "preserve", required_argument, NULL, OPT_PRESERVE },
		{ "map-out", required_argument, NULL, OPT_MAP_OUT },
		{ "as-numbers", required_argument, NULL, OPT_AS_NUMBERS },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	memset(cli, 0, sizeof(*cli));
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":k:o:t:h", longopts, NULL)) != -1) {
		switch (ch) {
		case OPT_NEW_KEY:
			cli->new_key = optarg;
			break;
		case 'k':
			cli->key_file = optarg;
			break;
		case 'o':
			cli->output = optarg;
			break;
		case 't':
			cli->cfg_path = optarg;
			break;
		case OPT_REVERSE:
			cli->reverse = true;
			break;
		case OPT_PRESERVE:
			if (anon_preserve_parse(optarg, &cli->preserve) == -1)
				return usage_error("--preserve takes a list of "
				    "private, loopback, multicast, documentation, "
				    "link-local (comma-separated)");
			break;
		case OPT_MAP_OUT:
			cli->map_out = optarg;
			break;
		case OPT_AS_NUMBERS:
			if (strcmp(optarg, "keep") != 0 &&
			    strcmp(optarg, "map") != 0)
				return usage_error("--as-numbers is keep or map");
			cli->map_as = strcmp(optarg, "map") == 0;
			break;
		case 'h':
			fputs(anon_usage, stdout);
			return 1;
		case ':':
			return usage_error("an option needs a value");
		default:
			return usage_error("unknown option");
		}
	}
	cli->args = argv + optind;
	cli->nargs = argc - optind;
	if (cli->new_key != NULL)
		return cli->key_file != NULL || cli->output != NULL ||
		    cli->cfg_path != NULL || cli->reverse || cli->nargs > 0 ||
		    cli->preserve != 0 || cli->map_out != NULL || cli->map_as ?
		    usage_error("--new-key "
		    "takes no other option or argument") : 0;
	if (cli->key_file == NULL)
		return usage_error("no key: give --key-file KEY (make one with "
		    "--new-key KEY)");
	if (cli->reverse)
		return cli->output != NULL || cli->cfg_path != NULL ||
		    cli->map_out != NULL || cli->nargs == 0 ?
		    usage_error("--reverse takes pseudonyms (addresses) as its "
		    "arguments and no -o, -t or --map-out") : 0;
	if (cli->nargs == 0)
		return usage_error("no input capture");
	if (cli->output == NULL)
		return usage_error("no output: give -o OUT.pcap");
	return map_out_check(cli);
}

/*
 * With --preserve, an address in a kept range is printed as itself: it
 * may be an original kept as it was, or the pseudonym of the address
 * printed in the note (only the map can tell).
 */
static int
reverse(struct anon_addr *a, unsigned preserve, char *const *args, int n)
{
	int code = ANON_EXIT_OK;

	for (int i = 0; i < n; i++) {
		struct tr_addr in, orig;
		char buf[TR_ADDR_STRLEN];

		if (addr_parse(args[i], &in) == -1) {
			log_errorx("anonymize --reverse: %s: not an IPv4 or "
			    "IPv6 address", args[i]);
			code = ANON_EXIT_USAGE;
			continue;
		}
		if (anon_addr_unmap(a, &in, &orig) == -1) {
			log_errorx("anonymize --reverse: libcrypto failed");
			return ANON_EXIT_RUNTIME;
		}
		if (preserve != 0 && anon_addr_preserved(preserve,
		    in.family == AF_INET ? (const uint8_t *)&in.v4 :
		    in.v6.s6_addr, in.family == AF_INET ? 4 : 16)) {
			log_warnx("anonymize --reverse: %s is in a preserved "
			    "range: printed as itself, but it may also be the "
			    "pseudonym of %s (the map of the run tells)",
			    args[i], addr_format(&orig, buf, sizeof(buf)));
			orig = in;
		}
		printf("%s\n", addr_format(&orig, buf, sizeof(buf)));
	}
	if (fflush(stdout) == EOF || ferror(stdout)) {
		log_errorx("anonymize --reverse: cannot write to stdout");
		return ANON_EXIT_RUNTIME;
	}
	return code;
}

/* The payloads' line: per protocol with a rewriter, and what stayed as captured. */
static void
payload_summary(const struct anon_payload_stats *ps,
    const struct anon_frame_stats *st)
{
	const struct anon_tcp_stats *t = &ps->tcp;

	for (int id = 0; id < SECTION_COUNT; id++) {
		bool tcp = protocols[id]->l4proto == TR_IPPROTO_TCP;

		if (protocols[id]->anon != NULL)
			fprintf(stderr, "anonymize: %s: %llu %s "
			    "rewritten, %llu malformed (rewritten up to "
			    "where they contradict themselves)\n",
			    protocols[id]->what, (unsigned long long)(tcp ?
			    t->rewritten[id] : ps->rewritten[id]),
			    tcp ? "messages" : "datagrams",
			    (unsigned long long)(tcp ? t->malformed[id] :
			    ps->malformed[id]));
	}
	if (t->skipped_bytes + t->unfinished_bytes != 0)
		fprintf(stderr, "anonymize: warning: TCP bytes left as "
		    "captured: %llu framed as no message (a stream that "
		    "starts mid-message, or bytes around a gap), %llu of "
		    "messages the capture cut short (%llu bytes of sequence "
		    "space were never captured)\n",
		    (unsigned long long)t->skipped_bytes,
		    (unsigned long long)t->unfinished_bytes,
		    (unsigned long long)t->gap_bytes);
	if (t->over_connections + t->fragmented_segments != 0)
		fprintf(stderr, "anonymize: warning: left as captured: %llu "
		    "TCP segments past the cap on connections, %llu segments "
		    "in IP fragments\n",
		    (unsigned long long)t->over_connections,
		    (unsigned long long)t->fragmented_segments);
	if (ps->counts.no_layout != 0)
		fprintf(stderr, "anonymize: warning: %llu NetFlow v9/IPFIX "
		    "data sets came before their template (or past the cap "
		    "on templates): left as captured\n",
		    (unsigned long long)ps->counts.no_layout);
	if (st->udp_kept != 0)
		fprintf(stderr, "anonymize: warning: %llu UDP payloads left "
		    "as captured: datagrams (or fragments) the capture cut "
		    "short\n", (unsigned long long)st->udp_kept);
	if (ps->frag.datagrams != 0)
		fprintf(stderr, "anonymize: %llu fragmented UDP datagrams "
		    "rewritten whole (%llu fragments)\n",
		    (unsigned long long)ps->frag.datagrams,
		    (unsigned long long)ps->frag.fragments);
	if (ps->frag.given_up != 0)
		fprintf(stderr, "anonymize: warning: %llu UDP fragments "
		    "kept their payload (headers anonymized): their "
		    "datagram never completed, or overlapped itself, or "
		    "%llu datagrams went past the bounds on what is held\n",
		    (unsigned long long)ps->frag.given_up,
		    (unsigned long long)ps->frag.over_bounds);
	if (ps->over_exporters != 0)
		fprintf(stderr, "anonymize: warning: %llu datagrams left as "
		    "captured: past the cap on exporters\n",
		    (unsigned long long)ps->over_exporters);
}

static int
rewrite(struct anon_addr *a, struct anon_as *as, struct anon_text *text,
    const struct anon_cli *cli, volatile sig_atomic_t *stop)
{
	struct anon_frame_stats st = { 0 };
	struct anon_payload_stats ps = { 0 };
	struct anon_map *map = NULL;
	struct config cfg;
	enum anon_pcap_result rc;
	char err[1024];

	if (cli->cfg_path != NULL && config_load(cli->cfg_path, NULL, &cfg,
	    err, sizeof(err)) == -1) {
		log_errorx("anonymize: %s", err);
		return ANON_EXIT_USAGE;
	}
	if (cli->map_out != NULL) {
		if ((map = anon_map_new()) == NULL) {
			log_errorx("anonymize: out of memory");
			if (cli->cfg_path != NULL)
				config_free(&cfg);
			return ANON_EXIT_RUNTIME;
		}
		anon_addr_on_seen(a, anon_map_add, map);
	}
	rc = anon_pcap_run(a, as, text, (const char *const *)cli->args,
	    (size_t)cli->nargs, cli->output, cli->cfg_path ? &cfg : NULL, stop,
	    &st, &ps, err, sizeof(err));
	if (cli->cfg_path != NULL)
		config_free(&cfg);
	anon_addr_on_seen(a, NULL, NULL);
	switch (rc) {
	case ANON_PCAP_OK:
		break;
	case ANON_PCAP_BAD_INPUT:
		log_errorx("anonymize: %s", err);
		anon_map_free(map);
		return ANON_EXIT_USAGE;
	case ANON_PCAP_FAILED:
		log_errorx("anonymize: %s; nothing written", err);
		anon_map_free(map);
		return ANON_EXIT_RUNTIME;
	}
	fprintf(stderr, "anonymize: %llu frames into %s: %llu IP headers "
	    "and %llu ARP bodies (%llu addresses cut short by the capture), "
	    "checksums: %llu computed, %llu adjusted\n",
	    (unsigned long long)st.frames, cli->output,
	    (unsigned long long)st.ip_headers, (unsigned long long)st.arp,
	    (unsigned long long)st.cut_addresses,
	    (unsigned long long)st.l4_recomputed,
	    (unsigned long long)st.l4_adjusted);
	payload_summary(&ps, &st);
	if (map != NULL) {
		int wrc = anon_map_write(map, cli->map_out, cli->preserve, err,
		    sizeof(err));

		anon_map_free(map);
		if (wrc == -1) {
			log_errorx("anonymize: %s (the capture is written, "
			    "its map is not)", err);
			return ANON_EXIT_RUNTIME;
		}
		fprintf(stderr, "anonymize: map of the addresses seen in %s "
		    "(for the key holder only: it reveals them)\n",
		    cli->map_out);
	}
	return ANON_EXIT_OK;
}

int
anon_main(int argc, char **argv, volatile sig_atomic_t *stop)
{
	struct anon_cli cli;
	struct anon_addr *a;
	struct anon_as *as = NULL;
	struct anon_text *text;
	uint8_t key[ANON_KEY_LEN];
	char err[1024];
	int rc;

	if ((rc = parse(argc, argv, &cli)) != 0)
		return rc == 1 ? ANON_EXIT_OK : ANON_EXIT_USAGE;
	if (cli.new_key != NULL) {
		if (anon_key_create(cli.new_key, err, sizeof(err)) == -1) {
			log_errorx("anonymize: %s", err);
			return ANON_EXIT_USAGE;
		}
		return ANON_EXIT_OK;
	}
	if (anon_key_load(cli.key_file, key, err, sizeof(err)) == -1) {
		log_errorx("anonymize: %s", err);
		return ANON_EXIT_USAGE;
	}
	a = anon_addr_new(key);
	text = anon_text_new(key);
	if (cli.map_as)
		as = anon_as_new(key);
	OPENSSL_cleanse(key, sizeof(key));
	if (a == NULL || text == NULL || (cli.map_as && as == NULL)) {
		log_errorx("anonymize: cannot set up the key (libcrypto)");
		anon_addr_free(a);
		anon_text_free(text);
		anon_as_free(as);
		return ANON_EXIT_RUNTIME;
	}
	anon_addr_preserve(a, cli.preserve);
	rc = cli.reverse ? reverse(a, cli.preserve, cli.args, cli.nargs) :
	    rewrite(a, as, text, &cli, stop);
	anon_addr_free(a);
	anon_text_free(text);
	anon_as_free(as);
	return rc;
}
