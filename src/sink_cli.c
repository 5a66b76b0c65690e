/* The built-in sink's command line. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "log.h"
#include "sink_model.h"

/* What the sink makes of each protocol: NetFlow/IPFIX its own decoding, the rest from the protocol table. */
static void
sink_usage_protocols(FILE *out)
{
	fprintf(out, "  udp  NetFlow v5/v9 and IPFIX exports: headers, sequence "
	    "numbers\n");
	for (int id = 0; id < SECTION_COUNT; id++)
		if (protocols[id]->count != NULL)
			fprintf(out, "  udp  %s, recognised by their content: "
			    "counted as --info counts them\n",
			    protocols[id]->what);
	for (int id = 0; id < SECTION_COUNT; id++) {
		const struct proto *p = protocols[id];

		if (p->framing == NULL)
			continue;
		fprintf(out, "  tcp  %s: messages framed and counted by type",
		    p->what);
		if (p->session != NULL && p->session->collector_answers)
			fprintf(out, ", its %s answered",
			    p->session->opening_name);
		fputc('\n', out);
	}
	fprintf(out, "  other datagrams and streams: bytes counted\n");
}

static void
sink_usage(FILE *out, bool full)
{
	fprintf(out,
"usage: traffic-reproducer sink [--listen ADDR] [--udp PORT]... [--tcp PORT]...\n"
"           [--json] [--dump FILE] [--ready FILE] [--duration SEC]\n"
"           [--idle SEC] [--bgp-as N] [--bgp-bare]\n");
	if (!full) {
		fprintf(out, "(traffic-reproducer sink --help for more)\n");
		return;
	}
	fprintf(out,
"\n"
"A receiving collector for tests and demos.  Counts UDP datagrams and TCP\n"
"messages per exporter, and prints a summary when it stops: on SIGINT or\n"
"SIGTERM, after --duration, or --idle.  What it decodes:\n"
"\n");
	sink_usage_protocols(out);
	fprintf(out,
"\n"
"  --listen ADDR   address to listen on (default ::, which takes IPv4 too)\n"
"  --udp PORT      receive UDP on PORT, 0 for any free port (repeatable)\n"
"  --tcp PORT      accept TCP on PORT, 0 for any free port (repeatable)\n"
"  --json          print the summary as JSON instead of a table\n"
"  --dump FILE     write each datagram and message as a line:\n"
"                  udp|tcp EXPORTER_ADDR EXPORTER_PORT LOCAL_PORT HEX\n"
"  --ready FILE    once listening, write \"udp PORT\" / \"tcp PORT\" lines\n"
"                  (the ports really bound, in option order) to FILE\n"
"  --duration SEC  stop after SEC seconds\n"
"  --idle SEC      stop after SEC seconds without data, once data came\n"
"  --bgp-as N      own AS number in BGP answers (default %d)\n"
"  --bgp-bare      answer OPENs with no capability (an old speaker)\n"
"  -h, --help      show this help\n", SINK_DEFAULT_BGP_AS);
}

static int
parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	if (*s == '\0' || *s == '-')
		return -1;
	*out = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || *out > max)
		return -1;
	return 0;
}

static int
parse_seconds(const char *s, tr_ns *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	/* Positive and below ~290 years, so nanoseconds fit in int64. */
	if (errno != 0 || *end != '\0' || end == s || !(v > 0) || v > 9e9)
		return -1;
	*out = tr_ns_from_sec(v);
	return 0;
}

static int
add_port(struct sink_opts *o, bool tcp, const char *arg)
{
	unsigned long port;

	if (parse_ulong(arg, UINT16_MAX, &port) == -1) {
		log_errorx("sink: --%s %s: not a port number",
		    tcp ? "tcp" : "udp", arg);
		return -1;
	}
	if (o->nports == SINK_MAX_LISTENERS) {
		log_errorx("sink: at most %d --udp/--tcp options",
		    SINK_MAX_LISTENERS);
		return -1;
	}
	o->ports[o->nports].tcp = tcp;
	o->ports[o->nports].port = (uint16_t)port;
	o->nports++;
	return 0;
}

enum {
	OPT_LISTEN = 256,
	OPT_UDP,
	OPT_TCP,
	OPT_JSON,
	OPT_DUMP,
	OPT_READY,
	OPT_DURATION,
	OPT_IDLE,
	OPT_BGP_AS,
	OPT_BGP_BARE,
};

static int
parse_one(struct sink_opts *o, int ch, const char *arg)
{
	unsigned long as;

	switch (ch) {
	case OPT_LISTEN:
		if (addr_parse(arg, &o->listen) == -1) {
			log_errorx("sink: --listen %s: not an IP address", arg);
			return -1;
		}
		o->listen_set = true;
		return 0;
	case OPT_UDP:
	case OPT_TCP:
		return add_port(o, ch == OPT_TCP, arg);
	case OPT_JSON:
		o->json = true;
		return 0;
	case OPT_DUMP:
		o->dump_path = arg;
		return 0;
	case OPT_READY:
		o->ready_path = arg;
		return 0;
	case OPT_DURATION:
	case OPT_IDLE:
		if (parse_seconds(arg, ch == OPT_IDLE ? &o->idle :
		    &o->duration) == -1) {
			log_errorx("sink: --%s %s: not a positive number of "
			    "seconds", ch == OPT_IDLE ? "idle" : "duration",
			    arg);
			return -1;
		}
		return 0;
	case OPT_BGP_BARE:
		o->bgp_bare = true;
		return 0;
	case OPT_BGP_AS:
		if (parse_ulong(arg, UINT32_MAX, &as) == -1 || as == 0) {
			log_errorx("sink: --bgp-as %s: not an AS number", arg);
			return -1;
		}
		o->bgp_as = (uint32_t)as;
		return 0;
	default:
		return -1;
	}
}

/* 0 to run, 1 when help was asked for, -1 on a usage error. */
int
sink_parse_args(int argc, char **argv, struct sink_opts *o)
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, OPT_LISTEN },
		{ "udp", required_argument, NULL, OPT_UDP },
		{ "tcp", required_argument, NULL, OPT_TCP },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "dump", required_argument, NULL, OPT_DUMP },
		{ "ready", required_argument, NULL, OPT_READY },
		{ "duration", required_argument, NULL, OPT_DURATION },
		{ "idle", required_argument, NULL, OPT_IDLE },
		{ "bgp-as", required_argument, NULL, OPT_BGP_AS },
		{ "bgp-bare", no_argument, NULL, OPT_BGP_BARE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	memset(o, 0, sizeof(*o));
	(void)addr_parse("::", &o->listen);
	o->bgp_as = SINK_DEFAULT_BGP_AS;
	/* main may have run getopt already: 0 makes glibc start afresh. */
	optind = 0;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (ch == 'h') {
			sink_usage(stdout, true);
			return 1;
		}
		if (ch == '?' || parse_one(o, ch, optarg) == -1)
			goto usage;
	}
	if (optind < argc) {
		log_errorx("sink: unexpected argument %s", argv[optind]);
		goto usage;
	}
	if (o->nports == 0) {
		log_errorx("sink: give at least one --udp or --tcp port");
		goto usage;
	}
	return 0;
usage:
	sink_usage(stderr, false);
	return -1;
}
