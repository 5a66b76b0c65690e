/* The anonymize subcommand's command line: make a key, rewrite captures, or reverse pseudonyms. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "addr.h"
#include "anon_addr.h"
#include "anon_cli.h"
#include "anon_key.h"
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
"       traffic-reproducer anonymize --key-file KEY [-t CFG] IN... -o OUT.pcap\n"
"       traffic-reproducer anonymize --key-file KEY --reverse ADDR...\n"
"\n"
"Pseudonymizes captures so that they can leave the building: IPv4 and IPv6\n"
"addresses by Crypto-PAn (prefix-preserving: addresses that share a k-bit\n"
"prefix share one after), MAC addresses by a keyed hash.  One key gives the\n"
"same output for the same input, on every machine.\n"
"\n"
"Rewritten now: the MAC addresses of Ethernet and Linux cooked headers, the\n"
"source and destination of every frame's IP header (fragments too, and the\n"
"header an ICMP error quotes), with the IPv4 header, UDP, TCP, ICMP and\n"
"ICMPv6 checksums made right; inside whole UDP datagrams, the address\n"
"fields of NetFlow v5, v9 and IPFIX records (recognized by content, or\n"
"by -t's sections); in TCP, BMP and BGP messages (reassembled, rewritten\n"
"and written back into the very segments: inputs must be files).  NOT\n"
"yet: IP fragments' payloads, sFlow.\n"
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

/* 0, 1 when -h was asked for (help printed), -1 after a message. */
static int
parse(int argc, char **argv, struct anon_cli *cli)
{
	enum { OPT_NEW_KEY = 256, OPT_REVERSE, OPT_AS_NUMBERS };
	static const struct option longopts[] = {
		{ "new-key", required_argument, NULL, OPT_NEW_KEY },
		{ "key-file", required_argument, NULL, 'k' },
		{ "output", required_argument, NULL, 'o' },
		{ "config", required_argument, NULL, 't' },
		{ "reverse", no_argument, NULL, OPT_REVERSE },
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
		    cli->cfg_path != NULL || cli->reverse || cli->nargs > 0 ? usage_error("--new-key "
		    "takes no other option or argument") : 0;
	if (cli->key_file == NULL)
		return usage_error("no key: give --key-file KEY (make one with "
		    "--new-key KEY)");
	if (cli->reverse)
		return cli->output != NULL || cli->cfg_path != NULL ||
		    cli->nargs == 0 ? usage_error("--reverse takes pseudonyms "
		    "(addresses) as its arguments and no -o or -t") : 0;
	if (cli->nargs == 0)
		return usage_error("no input capture");
	if (cli->output == NULL)
		return usage_error("no output: give -o OUT.pcap");
	return 0;
}

static int
reverse(struct anon_addr *a, char *const *args, int n)
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
	if (t->over_connections + t->over_patches + t->fragmented_segments != 0)
		fprintf(stderr, "anonymize: warning: left as captured: %llu "
		    "TCP segments past the cap on connections, %llu messages "
		    "past the cap on patch memory, %llu segments in IP "
		    "fragments\n", (unsigned long long)t->over_connections,
		    (unsigned long long)t->over_patches,
		    (unsigned long long)t->fragmented_segments);
	if (ps->counts.no_layout != 0)
		fprintf(stderr, "anonymize: warning: %llu NetFlow v9/IPFIX "
		    "data sets came before their template (or past the cap "
		    "on templates): left as captured\n",
		    (unsigned long long)ps->counts.no_layout);
	if (st->udp_kept != 0)
		fprintf(stderr, "anonymize: warning: %llu UDP payloads left "
		    "as captured: IP fragments or datagrams the capture cut "
		    "short\n", (unsigned long long)st->udp_kept);
	if (ps->over_exporters != 0)
		fprintf(stderr, "anonymize: warning: %llu datagrams left as "
		    "captured: past the cap on exporters\n",
		    (unsigned long long)ps->over_exporters);
	fprintf(stderr, "anonymize: not rewritten yet: addresses inside "
	    "sFlow messages are as captured\n");
}

static int
rewrite(struct anon_addr *a, struct anon_as *as, struct anon_text *text,
    const struct anon_cli *cli, volatile sig_atomic_t *stop)
{
	struct anon_frame_stats st = { 0 };
	struct anon_payload_stats ps = { 0 };
	struct config cfg;
	enum anon_pcap_result rc;
	char err[1024];

	if (cli->cfg_path != NULL && config_load(cli->cfg_path, NULL, &cfg,
	    err, sizeof(err)) == -1) {
		log_errorx("anonymize: %s", err);
		return ANON_EXIT_USAGE;
	}
	rc = anon_pcap_run(a, as, text, (const char *const *)cli->args,
	    (size_t)cli->nargs, cli->output, cli->cfg_path ? &cfg : NULL, stop,
	    &st, &ps, err, sizeof(err));
	if (cli->cfg_path != NULL)
		config_free(&cfg);
	switch (rc) {
	case ANON_PCAP_OK:
		break;
	case ANON_PCAP_BAD_INPUT:
		log_errorx("anonymize: %s", err);
		return ANON_EXIT_USAGE;
	case ANON_PCAP_FAILED:
		log_errorx("anonymize: %s; nothing written", err);
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
	rc = cli.reverse ? reverse(a, cli.args, cli.nargs) :
	    rewrite(a, as, text, &cli, stop);
	anon_addr_free(a);
	anon_text_free(text);
	anon_as_free(as);
	return rc;
}
