/* tr-pcapgen: writes deterministic test captures of IPFIX, NetFlow v9/v5, generic UDP, BMP and BGP. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "bgp_encode.h"
#include "bmp_encode.h"
#include "frame_build.h"
#include "grow.h"
#include "nf_encode.h"
#include "monotime.h"
#include "packet.h"
#include "pcapw.h"
#include "writer.h"

#define MAX_EXPORTERS	(1u << 20)	/* addresses; a stream or session per port and domain of each */
#define MAX_RECORDS	1000	/* keeps every message inside one UDP datagram / one BGP PDU */
#define NFV5_MAX_RECORDS NF_V5_MAX_RECORDS
#define MSG_CAP		65536
#define NOISE_EVERY	4	/* one noise frame after every this many messages */
#define BGP_KEEPALIVE_EVERY 10	/* UPDATEs between KEEPALIVE exchanges */
#define IPFIX_TEMPLATE_ID 256
#define OPTIONS_TEMPLATE_ID 257	/* --options-template: sampling options */
#define MAX_DOMAINS	16
#define BOOT_BEFORE_START 86400	/* v5/v9 exporters booted a day before the capture */

enum gen_proto {
	PROTO_IPFIX,
	PROTO_NFV9,
	PROTO_NFV5,
	PROTO_UDP,
	PROTO_BMP,
	PROTO_BGP,
	PROTO_COUNT,
};

static const char *const proto_names[PROTO_COUNT] = {
	[PROTO_IPFIX] = "ipfix",
	[PROTO_NFV9] = "nfv9",
	[PROTO_NFV5] = "nfv5",
	[PROTO_UDP] = "udp",
	[PROTO_BMP] = "bmp",
	[PROTO_BGP] = "bgp",
};

/* --time-fields: the IPFIX information elements carrying flow start/end. */
enum time_fields {
	TIME_SEC,	/* flowStartSeconds/flowEndSeconds (150/151), u32 */
	TIME_MSEC,	/* flowStart/EndMilliseconds (152/153), u64 ms since 1970 */
	TIME_USEC,	/* flowStart/EndMicroseconds (154/155), NTP 64-bit */
	TIME_NSEC,	/* flowStart/EndNanoseconds (156/157), NTP 64-bit */
	TIME_COUNT,
};

static const char *const time_field_names[TIME_COUNT] = {
	[TIME_SEC] = "sec",
	[TIME_MSEC] = "msec",
	[TIME_USEC] = "usec",
	[TIME_NSEC] = "nsec",
};

static const uint16_t proto_default_port[PROTO_COUNT] = {
	[PROTO_IPFIX] = 4739,
	[PROTO_NFV9] = 2055,
	[PROTO_NFV5] = 2055,
	[PROTO_UDP] = 9999,	/* no Wireshark dissector claims it */
	[PROTO_BMP] = 1790,
	[PROTO_BGP] = 179,
};

struct opts {
	const char	*out;
	const char	*expect;
	enum gen_proto	 proto;
	bool		 proto_set;
	uint64_t	 count;
	struct tr_addr	*exporters;
	size_t		 n_exporters, cap_exporters;
	uint32_t	 ports;		/* --ports: streams or sessions per exporter address */
	struct tr_addr	 coll4, coll6;	/* the collector for each exporter family */
	uint16_t	 dport;
	bool		 dport_set;
	uint16_t	 sport;
	uint64_t	 gap_us;
	uint64_t	 start;
	enum frame_link	 link;
	uint16_t	 vlan[FRAME_MAX_VLAN];
	size_t		 n_vlan;
	uint32_t	 mpls[FRAME_MAX_MPLS];
	size_t		 n_mpls;
	bool		 nanosec;
	uint32_t	 fragment;
	uint32_t	 segment;
	uint16_t	 hold_time;	/* BGP OPENs (both sides) */
	bool		 add_path;	/* BGP: the exporter's OPEN alone offers ADD-PATH */
	uint32_t	 restarts;	/* BGP: the collector ends the first session, then refuses this many */
	uint32_t	 records;
	bool		 skip_templates;
	uint64_t	 template_every;
	uint64_t	 first_template_after;	/* data messages before the first template */
	enum time_fields time_fields;
	bool		 options_template;
	uint32_t	 domains[MAX_DOMAINS];	/* --domain: streams per exporter */
	size_t		 n_domains;
	bool		 noise;
};

/* One exporting router: its addresses, counters and (for BMP/BGP) TCP state. */
struct exporter {
	size_t		 idx;
	struct tr_addr	 addr;
	struct tr_addr	 coll;
	char		 name[TR_ADDR_STRLEN];
	uint16_t	 sport;
	uint32_t	 domain;
	uint64_t	 share;		/* messages of --count that are this exporter's */
	uint64_t	 sent;		/* of those, sent so far */
	uint32_t	 seq;		/* IPFIX: data records; v9: packets; v5: flows */
	bool		 templated;	/* a template was sent: later records are not orphans */
	/* TCP */
	uint32_t	 snd_nxt;	/* exporter's next sequence number */
	uint32_t	 rcv_nxt;	/* collector's next sequence number */
	uint8_t		 last_byte;	/* what a keep-alive probe repeats */
	bool		 last_split;	/* the last message took several segments */
	bool		 established;
	int		 phase;
	uint32_t	 restarts_left;	/* BGP --restarts still to come */
	uint64_t	 prefixes;	/* announced so far (BMP statistics) */
};

/* The whole run: output files, the clock, scratch buffers. */
struct gen {
	const struct opts *o;
	struct pcapw	*pw;
	FILE		*expect;
	tr_ns		 ts;		/* capture time of the next frame */
	uint64_t	 frames;	/* frames written */
	uint64_t	 records;	/* flow records made, for varying their content */
	uint64_t	 messages;	/* messages made, for interleaving noise */
	unsigned	 noise_kind;
	uint8_t		*frame;		/* FRAME_MAX_LEN */
	uint8_t		*msg;		/* MSG_CAP */
	struct exporter	*exp;
	size_t		 n_exp;
	int		 errs;
};

static void
put_addr(struct writer *m, const struct tr_addr *a)
{
	if (a->family == AF_INET)
		put_bytes(m, &a->v4, 4);
	else
		put_bytes(m, a->v6.s6_addr, 16);
}

/* A message under construction: a put that overflows marks it bad, checked when it is sent. */
static struct writer
msg_start(struct gen *g)
{
	return wr_init(g->msg, MSG_CAP);
}

static uint32_t
secs_of(tr_ns ts)
{
	return (uint32_t)(ts / TR_NS_PER_SEC);
}

/* ---- output: frames, noise, expectations ---- */

static void
spec_init(const struct gen *g, struct frame_spec *s)
{
	const struct opts *o = g->o;

	memset(s, 0, sizeof(*s));
	s->link = o->link;
	memcpy(s->vlan, o->vlan, sizeof(s->vlan));
	s->n_vlan = o->n_vlan;
	memcpy(s->mpls, o->mpls, sizeof(s->mpls));
	s->n_mpls = o->n_mpls;
	/* Vary the IP id so that fragments of different datagrams never mix. */
	s->ip_id = (uint32_t)(g->frames + 1);
}

static void
write_frame(struct gen *g, ssize_t n)
{
	if (n < 0) {
		fprintf(stderr, "tr-pcapgen: cannot build frame %" PRIu64
		    ": %s\n", g->frames + 1, strerror(errno));
		g->errs++;
		return;
	}
	if (pcapw_write(g->pw, g->ts, g->frame, (uint32_t)n, (uint32_t)n) == -1)
		g->errs++;
	g->frames++;
	g->ts += (tr_ns)g->o->gap_us * TR_NS_PER_US;
}

/* One packet as one frame, or as IP fragments when --fragment asks for it. */
static void
emit(struct gen *g, const struct frame_spec *s)
{
	size_t n = 1;

	if (s->l4proto == FRAME_IPPROTO_UDP && g->o->fragment > 0)
		n = frame_frag_count(s, g->o->fragment);
	if (n == 1) {
		write_frame(g, frame_build(s, g->frame, FRAME_MAX_LEN));
		return;
	}
	for (size_t i = 0; i < n; i++)
		write_frame(g, frame_build_frag(s, g->o->fragment, i,
		    g->frame, FRAME_MAX_LEN));
}

static void
emit_udp(struct gen *g, const struct exporter *ex, uint16_t dport,
    const uint8_t *payload, size_t len)
{
	struct frame_spec s;

	spec_init(g, &s);
	s.src = ex->addr;
	s.dst = ex->coll;
	s.l4proto = FRAME_IPPROTO_UDP;
	s.sport = ex->sport;
	s.dport = dport;
	s.payload = payload;
	s.payload_len = len;
	emit(g, &s);
}

static void
noise_arp(struct gen *g, const struct exporter *ex)
{
	uint8_t body[28], mac[6];
	struct tr_addr spa = ex->addr, tpa = ex->coll;
	struct writer m = wr_init(body, sizeof(body));
	struct frame_spec s;

	if (spa.family != AF_INET) {	/* ARP is IPv4's; an IPv6 host still has some */
		spa = addr_v4(0xc00002fe);	/* 192.0.2.254 */
		tpa = addr_v4(0xc00002fd);
	}
	spec_init(g, &s);
	s.src = spa;
	s.dst = tpa;
	frame_mac(&ex->addr, mac);
	put_u16(&m, 1);			/* Ethernet */
	put_u16(&m, 0x0800);
	put_u8(&m, 6);
	put_u8(&m, 4);
	put_u16(&m, 1);			/* request */
	put_bytes(&m, mac, 6);
	put_addr(&m, &spa);
	memset(mac, 0, sizeof(mac));
	put_bytes(&m, mac, 6);
	put_addr(&m, &tpa);
	write_frame(g, frame_build_nonip(&s, 0x0806, body, wr_len(&m),
	    g->frame, FRAME_MAX_LEN));
}

static void
noise_icmp(struct gen *g, const struct exporter *ex)
{
	uint8_t body[24];
	struct writer m = wr_init(body, sizeof(body));
	struct frame_spec s;
	bool v4 = ex->addr.family == AF_INET;

	put_u8(&m, v4 ? 8 : 128);	/* echo request */
	put_u8(&m, 0);
	put_u16(&m, 0);			/* checksum: frame_build fills it */
	put_u16(&m, (uint16_t)ex->idx);
	put_u16(&m, (uint16_t)g->messages);
	while (wr_ok(&m) && wr_len(&m) < sizeof(body))
		put_u8(&m, (uint8_t)wr_len(&m));
	spec_init(g, &s);
	s.src = ex->addr;
	s.dst = ex->coll;
	s.l4proto = v4 ? FRAME_IPPROTO_ICMP : FRAME_IPPROTO_ICMPV6;
	s.payload = body;
	s.payload_len = wr_len(&m);
	emit(g, &s);
}

static void
noise_udp(struct gen *g, const struct exporter *ex)
{
	static const char text[] = "<14>tr-pcapgen: unselected UDP noise";

	emit_udp(g, ex, (uint16_t)(g->o->dport + 1), (const uint8_t *)text,
	    sizeof(text) - 1);
}

static void tcp_keepalive(struct gen *, struct exporter *);

/* A keep-alive probe on an unrelated TCP connection (port 22). */
static void
noise_tcp(struct gen *g, struct exporter *ex)
{
	struct frame_spec s;
	uint8_t stale = 0;

	if (ex->established) {
		tcp_keepalive(g, ex);
		return;
	}
	spec_init(g, &s);
	s.src = ex->addr;
	s.dst = ex->coll;
	s.l4proto = FRAME_IPPROTO_TCP;
	s.sport = (uint16_t)(ex->sport + 1);
	s.dport = 22;
	s.seq = 0x10000000u + (uint32_t)g->messages - 1;
	s.ack = 0x20000000u;
	s.tcp_flags = TR_TCP_ACK;
	s.payload = &stale;
	s.payload_len = 1;
	emit(g, &s);
}

/* Called after every message: interleave one noise frame now and then. */
static void
after_message(struct gen *g, struct exporter *ex)
{
	g->messages++;
	if (!g->o->noise || g->messages % NOISE_EVERY != 0)
		return;
	switch (g->noise_kind++ % 4) {
	case 0:
		if (g->o->link == FRAME_LINK_RAW || g->o->link == FRAME_LINK_NULL)
			noise_icmp(g, ex);	/* these links cannot carry ARP */
		else
			noise_arp(g, ex);
		break;
	case 1:
		noise_icmp(g, ex);
		break;
	case 2:
		noise_udp(g, ex);
		break;
	default:
		noise_tcp(g, ex);
		break;
	}
}

/* frame: the one carrying the message's last byte. */
static void
expect_message(struct gen *g, const struct exporter *ex, int type, size_t len,
    uint64_t frame)
{
	if (g->expect == NULL)
		return;
	fprintf(g->expect, "{\"exporter\":\"%s\",\"type\":%d,\"len\":%zu,"
	    "\"frame\":%" PRIu64 "}\n", ex->name, type, len, frame);
}

/* ---- flow records: deterministic content from a running counter ---- */

struct flow {
	struct tr_addr	src, dst;
	uint16_t	sport, dport;
	uint8_t		proto;
	uint64_t	packets, bytes;
	uint32_t	start, end;	/* Unix seconds: start_ms, end_ms rounded down */
	uint64_t	start_ms, end_ms;	/* Unix milliseconds */
};

/*
 * Record r of a message exported at now.  With subsec (the IPFIX millisecond,
 * microsecond and nanosecond time fields) the times carry milliseconds, the
 * duration too, and the end is still no later than now.
 */
static void
flow_make(uint64_t r, int family, uint32_t now, bool subsec, struct flow *f)
{
	static const uint16_t dports[] = { 80, 443, 53, 123, 22, 8080 };
	/* +1 keeps host parts off the all-zeros address. */
	uint32_t a = 1 + (uint32_t)(r % 0x7ffffe);
	uint32_t b = 1 + (uint32_t)((r * 97) % 0x7ffffe);

	memset(f, 0, sizeof(*f));
	if (family == AF_INET) {
		f->src = addr_v4(0x0a000000u | a);		/* 10.0.0.0/9 */
		f->dst = addr_v4(0x0a800000u | b);		/* 10.128.0.0/9 */
	} else {
		/* 2001:db8:10::/64 and 2001:db8:20::/64 */
		f->src.family = f->dst.family = AF_INET6;
		f->src.v6.s6_addr[0] = f->dst.v6.s6_addr[0] = 0x20;
		f->src.v6.s6_addr[1] = f->dst.v6.s6_addr[1] = 0x01;
		f->src.v6.s6_addr[2] = f->dst.v6.s6_addr[2] = 0x0d;
		f->src.v6.s6_addr[3] = f->dst.v6.s6_addr[3] = 0xb8;
		f->src.v6.s6_addr[5] = 0x10;
		f->dst.v6.s6_addr[5] = 0x20;
		for (int i = 0; i < 4; i++) {
			f->src.v6.s6_addr[15 - i] = (uint8_t)(a >> (8 * i));
			f->dst.v6.s6_addr[15 - i] = (uint8_t)(b >> (8 * i));
		}
	}
	f->sport = (uint16_t)(1024 + (r * 13) % 64000);
	f->dport = dports[r % (sizeof(dports) / sizeof(dports[0]))];
	f->proto = f->dport == 53 || f->dport == 123 ? 17 : 6;
	f->packets = 1 + r % 100;
	f->bytes = f->packets * (64 + r % 1400);
	f->end = now - (uint32_t)(r % 5);
	f->start = f->end - (uint32_t)(r % 60);
	f->start_ms = (uint64_t)f->start * 1000;
	f->end_ms = (uint64_t)f->end * 1000;
	if (subsec) {
		f->end_ms -= (r * 53) % 1000;
		f->start_ms = f->end_ms - (uint64_t)(f->end - f->start) * 1000 -
		    (r * 37) % 1000;
		f->start = (uint32_t)(f->start_ms / 1000);
		f->end = (uint32_t)(f->end_ms / 1000);
	}
}

static void
expect_flow(struct gen *g, const struct exporter *ex, int version,
    const struct flow *f)
{
	char src[TR_ADDR_STRLEN], dst[TR_ADDR_STRLEN];

	if (g->expect == NULL)
		return;
	fprintf(g->expect, "{\"exporter\":\"%s\",\"version\":%d,\"domain\":%"
	    PRIu32 ",\"src_ip\":\"%s\",\"dst_ip\":\"%s\",\"src_port\":%u,"
	    "\"dst_port\":%u,\"proto\":%u,\"packets\":%" PRIu64 ",\"bytes\":%"
	    PRIu64 ",\"start\":%" PRIu32 ",\"end\":%" PRIu32 ",\"start_ms\":%"
	    PRIu64 ",\"end_ms\":%" PRIu64 ",\"frame\":%" PRIu64 "%s}\n",
	    ex->name, version, ex->domain,
	    addr_format(&f->src, src, sizeof(src)),
	    addr_format(&f->dst, dst, sizeof(dst)), f->sport, f->dport,
	    f->proto, f->packets, f->bytes, f->start, f->end, f->start_ms,
	    f->end_ms, g->frames, ex->templated || version == 5 ? "" :
	    ",\"orphan\":true");
}

/* Flow times with milliseconds: only the IPFIX time fields finer than seconds carry them. */
static bool
subsec(const struct gen *g)
{
	return g->o->proto == PROTO_IPFIX && g->o->time_fields != TIME_SEC;
}

/* Expectation lines for the records of a message just written, regenerated from their numbers. */
static void
expect_flows(struct gen *g, const struct exporter *ex, int version,
    uint64_t first, uint32_t n, int family, uint32_t now)
{
	struct flow f;

	for (uint32_t i = 0; i < n; i++) {
		flow_make(first + i, family, now, subsec(g), &f);
		expect_flow(g, ex, version, &f);
	}
}

/*
 * Templates go before data message --first-template-after (0: the first) of
 * an exporter, then again every --template-every data messages.
 */
static bool
template_due(const struct gen *g, const struct exporter *ex)
{
	const struct opts *o = g->o;
	uint64_t first = o->first_template_after;

	if (o->skip_templates || ex->sent < first)
		return false;
	return ex->sent == first || (o->template_every > 0 &&
	    (ex->sent - first) % o->template_every == 0);
}

/* ---- IPFIX (RFC 7011) ---- */

/* Information element ids and lengths of template 256, per address family. */
#define field nf_field

static size_t
ipfix_fields(int family, enum time_fields tf, struct field *f)
{
	bool v4 = family == AF_INET;
	size_t n = 0;

	f[n++] = (struct field){ v4 ? 8 : 27, v4 ? 4 : 16 };	/* sourceIPvXAddress */
	f[n++] = (struct field){ v4 ? 12 : 28, v4 ? 4 : 16 };	/* destinationIPvXAddress */
	f[n++] = (struct field){ 7, 2 };	/* sourceTransportPort */
	f[n++] = (struct field){ 11, 2 };	/* destinationTransportPort */
	f[n++] = (struct field){ 4, 1 };	/* protocolIdentifier */
	f[n++] = (struct field){ 2, 8 };	/* packetDeltaCount */
	f[n++] = (struct field){ 1, 8 };	/* octetDeltaCount */
	if (tf == TIME_SEC) {
		f[n++] = (struct field){ 150, 4 };	/* flowStartSeconds */
		f[n++] = (struct field){ 151, 4 };	/* flowEndSeconds */
	} else {
		/* 152/153 milliseconds, 154/155 microseconds, 156/157 nanoseconds */
		uint16_t id = (uint16_t)(152 + 2 * (tf - TIME_MSEC));

		f[n++] = (struct field){ id, 8 };	/* flowStart... */
		f[n++] = (struct field){ (uint16_t)(id + 1), 8 };	/* flowEnd... */
	}
	return n;
}

/* A flow time in the element size of --time-fields (nf_encode.c). */
static void
ipfix_put_time(struct writer *m, enum time_fields tf, uint64_t ms)
{
	static const uint16_t ids[TIME_COUNT] = {
		[TIME_SEC] = 150, [TIME_MSEC] = 152, [TIME_USEC] = 154,
		[TIME_NSEC] = 156,
	};

	nf_put_ipfix_time(m, ids[tf], ms);
}

static void
ipfix_header(struct writer *m, const struct exporter *ex, uint32_t now)
{
	nf_ipfix_header(m, now, ex->seq, ex->domain);
}

static void
ipfix_template(struct gen *g, struct exporter *ex)
{
	struct writer m = msg_start(g);
	struct field f[9];
	size_t n = ipfix_fields(ex->addr.family, g->o->time_fields, f);

	ipfix_header(&m, ex, secs_of(g->ts));
	nf_template_set(&m, 10, IPFIX_TEMPLATE_ID, f, n);
	if (g->o->options_template) {
		/* Sampling options, scoped to the observation domain (RFC 7011 3.4.2.2). */
		static const struct nf_field scope[] = { { 149, 4 } };
		static const struct nf_field opt[] = { { 34, 4 }, { 35, 1 } };

		nf_options_template_set(&m, 10, OPTIONS_TEMPLATE_ID, scope, 1,
		    opt, 2);
	}
	nf_ipfix_finish(&m);
	g->errs += !wr_ok(&m);
	ex->templated = true;
	emit_udp(g, ex, g->o->dport, m.p, wr_len(&m));
	after_message(g, ex);
}

/* The options record of --options-template: sampling 1 in 1, so no counter changes. */
static void
ipfix_options_data(struct gen *g, struct exporter *ex)
{
	struct writer m = msg_start(g);
	size_t set;

	ipfix_header(&m, ex, secs_of(g->ts));
	set = nf_set_begin(&m, OPTIONS_TEMPLATE_ID);
	put_u32(&m, ex->domain);
	put_u32(&m, 1);			/* samplingInterval */
	put_u8(&m, 1);			/* samplingAlgorithm: deterministic */
	nf_set_end(&m, 10, set);
	nf_ipfix_finish(&m);
	g->errs += !wr_ok(&m);
	ex->seq++;			/* an options record is a data record */
	emit_udp(g, ex, g->o->dport, m.p, wr_len(&m));
	after_message(g, ex);
}

static void
ipfix_data(struct gen *g, struct exporter *ex)
{
	struct writer m = msg_start(g);
	uint32_t now = secs_of(g->ts), n = g->o->records;
	uint64_t first = g->records;
	size_t set_off;
	struct flow f;

	ipfix_header(&m, ex, now);
	set_off = nf_set_begin(&m, IPFIX_TEMPLATE_ID);
	for (uint32_t i = 0; i < n; i++) {
		flow_make(first + i, ex->addr.family, now, subsec(g), &f);
		nf_put_addr(&m, &f.src);
		nf_put_addr(&m, &f.dst);
		put_u16(&m, f.sport);
		put_u16(&m, f.dport);
		put_u8(&m, f.proto);
		put_u64(&m, f.packets);
		put_u64(&m, f.bytes);
		ipfix_put_time(&m, g->o->time_fields, f.start_ms);
		ipfix_put_time(&m, g->o->time_fields, f.end_ms);
	}
	nf_set_end(&m, 10, set_off);
	nf_ipfix_finish(&m);
	g->errs += !wr_ok(&m);
	g->records += n;
	ex->seq += n;			/* IPFIX counts data records */
	emit_udp(g, ex, g->o->dport, m.p, wr_len(&m));
	expect_flows(g, ex, 10, first, n, ex->addr.family, now);
	after_message(g, ex);
}

/* ---- NetFlow v9 (RFC 3954) ---- */

static uint32_t
boot_secs(const struct opts *o)
{
	return o->start > BOOT_BEFORE_START ?
	    (uint32_t)(o->start - BOOT_BEFORE_START) : 0;
}

static uint32_t
uptime_ms(const struct opts *o, uint32_t secs)
{
	uint32_t boot = boot_secs(o);

	return secs > boot ? (secs - boot) * 1000u : 0;
}

static size_t
nfv9_fields(int family, struct field *f)
{
	bool v4 = family == AF_INET;
	size_t n = 0;

	f[n++] = (struct field){ 1, 8 };	/* IN_BYTES */
	f[n++] = (struct field){ 2, 8 };	/* IN_PKTS */
	f[n++] = (struct field){ 4, 1 };	/* PROTOCOL */
	f[n++] = (struct field){ 7, 2 };	/* L4_SRC_PORT */
	f[n++] = (struct field){ v4 ? 8 : 27, v4 ? 4 : 16 };	/* IPVX_SRC_ADDR */
	f[n++] = (struct field){ 11, 2 };	/* L4_DST_PORT */
	f[n++] = (struct field){ v4 ? 12 : 28, v4 ? 4 : 16 };	/* IPVX_DST_ADDR */
	f[n++] = (struct field){ 21, 4 };	/* LAST_SWITCHED */
	f[n++] = (struct field){ 22, 4 };	/* FIRST_SWITCHED */
	return n;
}

/*
 * sysUptime is derived from unix_secs (whole seconds) so that a collector
 * turning FIRST/LAST_SWITCHED back into wall-clock time gets exactly the
 * seconds written into the expectation file.
 */
static void
nfv9_header(struct writer *m, const struct gen *g, const struct exporter *ex,
    uint16_t count, uint32_t now)
{
	nf_v9_header(m, count, uptime_ms(g->o, now), now, ex->seq, ex->domain);
}

static void
nfv9_template(struct gen *g, struct exporter *ex)
{
	struct writer m = msg_start(g);
	struct field f[9];
	size_t n = nfv9_fields(ex->addr.family, f);

	nfv9_header(&m, g, ex, g->o->options_template ? 2 : 1, secs_of(g->ts));
	nf_template_set(&m, 9, IPFIX_TEMPLATE_ID, f, n);
	if (g->o->options_template) {
		/* Sampling options scoped to the system (RFC 3954 6.1), padded to 32 bits. */
		static const struct nf_field scope[] = { { 1, 4 } };
		static const struct nf_field opt[] = { { 34, 4 }, { 35, 1 } };

		nf_options_template_set(&m, 9, OPTIONS_TEMPLATE_ID, scope, 1,
		    opt, 2);
	}
	g->errs += !wr_ok(&m);
	ex->seq++;			/* v9 counts export packets */
	ex->templated = true;
	emit_udp(g, ex, g->o->dport, m.p, wr_len(&m));
	after_message(g, ex);
}

/* The options record of --options-template: sampling 1 in 1, so no counter changes. */
static void
nfv9_options_data(struct gen *g, struct exporter *ex)
{
	struct writer m = msg_start(g);
	size_t set;

	nfv9_header(&m, g, ex, 1, secs_of(g->ts));
	set = nf_set_begin(&m, OPTIONS_TEMPLATE_ID);
	put_u32(&m, ex->domain);	/* scope: the system, by its source id */
	put_u32(&m, 1);			/* SAMPLING_INTERVAL */
	put_u8(&m, 1);			/* SAMPLING_ALGORITHM: deterministic */
	nf_set_end(&m, 9, set);		/* padded to 32 bits */
	g->errs += !wr_ok(&m);
	ex->seq++;
	emit_udp(g, ex, g->o->dport, m.p, wr_len(&m));
	after_message(g, ex);
}

static void
nfv9_data(struct gen *g, struct exporter *ex)
{
	struct writer m = msg_start(g);
	uint32_t now = secs_of(g->ts), n = g->o->records;
	uint64_t first = g->records;
	size_t set_off;
	struct flow f;

	nfv9_header(&m, g, ex, (uint16_t)n, now);
	set_off = nf_set_begin(&m, IPFIX_TEMPLATE_ID);
	for (uint32_t i = 0; i < n; i++) {
		flow_make(first + i, ex->addr.family, now, false, &f);
		put_u64(&m, f.bytes);
		put_u64(&m, f.packets);
		put_u8(&m, f.proto);
		put_u16(&m, f.sport);
		nf_put_addr(&m, &f.src);
		put_u16(&m, f.dport);
		nf_put_addr(&m, &f.dst);
		put_u32(&m, uptime_ms(g->o, f.end));
		put_u32(&m, uptime_ms(g->o, f.start));
	}
	nf_set_end(&m, 9, set_off);	/* RFC 3954 pads a FlowSet to 32 bits */
	g->errs += !wr_ok(&m);
	g->records += n;
	ex->seq++;
	emit_udp(g, ex, g->o->dport, m.p, wr_len(&m));
	expect_flows(g, ex, 9, first, n, ex->addr.family, now);
	after_message(g, ex);
}

/* ---- NetFlow v5 ---- */

static void
nfv5_data(struct gen *g, struct exporter *ex)
{
	struct writer m = msg_start(g);
	uint32_t now = secs_of(g->ts), n = g->o->records;
	uint64_t first = g->records;
	uint32_t up_ms;
	struct flow f;

	/* Unlike v9, v5 has nanoseconds, so sysUptime keeps its milliseconds. */
	up_ms = (uint32_t)((g->ts - (tr_ns)boot_secs(g->o) * TR_NS_PER_SEC) /
	    TR_NS_PER_MS);
	nf_v5_header(&m, &(struct nf_v5_header){
		.count = (uint16_t)n, .uptime_ms = up_ms, .unix_secs = now,
		.unix_nsecs = (uint32_t)(g->ts % TR_NS_PER_SEC),
		.seq = ex->seq,
		.engine_type = (uint8_t)(ex->domain >> 8),
		.engine_id = (uint8_t)ex->domain,
	});
	for (uint32_t i = 0; i < n; i++) {
		flow_make(first + i, AF_INET, now, false, &f);
		nf_v5_record(&m, &(struct nf_v5_record){
			.src = ntohl(f.src.v4.s_addr),
			.dst = ntohl(f.dst.v4.s_addr),
			.input = 1, .output = 2,
			.packets = (uint32_t)f.packets,
			.octets = (uint32_t)f.bytes,
			.first_ms = uptime_ms(g->o, f.start),
			.last_ms = uptime_ms(g->o, f.end),
			.sport = f.sport, .dport = f.dport,
			.tcp_flags = f.proto == 6 ? 0x18 : 0,	/* PSH ACK */
			.proto = f.proto,
			.src_mask = 9, .dst_mask = 9,
		});
	}
	g->errs += !wr_ok(&m);
	g->records += n;
	ex->seq += n;			/* v5 counts flows */
	emit_udp(g, ex, g->o->dport, m.p, wr_len(&m));
	expect_flows(g, ex, 5, first, n, AF_INET, now);
	after_message(g, ex);
}

/* ---- generic UDP ---- */

static void
udp_datagram(struct gen *g, struct exporter *ex)
{
	struct writer m = msg_start(g);
	uint64_t i = g->messages;
	size_t len = 16 + (size_t)((i * 97) % 1185), hdr = 16;
	uint8_t *fill;

	/* A header a receiver can check order with, then a fixed pattern. */
	put_u32(&m, (uint32_t)ex->sent);
	put_u32(&m, (uint32_t)ex->idx);
	put_u64(&m, i);
	/* Filled in place: this loop writes most of a benchmark capture's bytes. */
	fill = wr_reserve(&m, len - hdr);
	for (size_t j = hdr; fill != NULL && j < len; j++)
		fill[j - hdr] = (uint8_t)(i + j);
	g->errs += !wr_ok(&m);
	emit_udp(g, ex, g->o->dport, m.p, wr_len(&m));
	if (g->expect != NULL)
		fprintf(g->expect, "{\"exporter\":\"%s\",\"len\":%zu,"
		    "\"frame\":%" PRIu64 "}\n", ex->name, wr_len(&m), g->frames);
	after_message(g, ex);
}

static void
run_udp_protocols(struct gen *g)
{
	const struct opts *o = g->o;

	for (uint64_t i = 0; i < o->count; i++) {
		struct exporter *ex = &g->exp[i % g->n_exp];

		switch (o->proto) {
		case PROTO_IPFIX:
			if (template_due(g, ex)) {
				ipfix_template(g, ex);
				if (o->options_template)
					ipfix_options_data(g, ex);
			}
			ipfix_data(g, ex);
			break;
		case PROTO_NFV9:
			if (template_due(g, ex)) {
				nfv9_template(g, ex);
				if (o->options_template)
					nfv9_options_data(g, ex);
			}
			nfv9_data(g, ex);
			break;
		case PROTO_NFV5:
			nfv5_data(g, ex);
			break;
		default:
			udp_datagram(g, ex);
			break;
		}
		ex->sent++;
	}
}

/* ---- TCP sessions ---- */

/* One segment; the sender's sequence number advances by what it carries. */
static void
tcp_segment(struct gen *g, struct exporter *ex, bool from_exporter,
    uint8_t flags, const uint8_t *data, size_t len)
{
	struct frame_tcp c = {
		.a = ex->addr, .b = ex->coll,
		.aport = ex->sport, .bport = g->o->dport,
		.a_nxt = ex->snd_nxt, .b_nxt = ex->rcv_nxt,
	};
	struct frame_spec s;

	spec_init(g, &s);
	frame_tcp_segment(&c, from_exporter, flags, data, len, &s);
	emit(g, &s);
	ex->snd_nxt = c.a_nxt;
	ex->rcv_nxt = c.b_nxt;
	if (from_exporter && len > 0)
		ex->last_byte = data[len - 1];
}

/*
 * A message in segments of at most --segment bytes, then the peer's ACK.
 * Returns the number of the frame that carried the last byte.
 */
static uint64_t
tcp_send(struct gen *g, struct exporter *ex, bool from_exporter,
    const uint8_t *data, size_t len)
{
	size_t seg = g->o->segment > 0 ? g->o->segment : len;
	uint64_t last;

	ex->last_split = from_exporter ? len > seg : ex->last_split;
	for (size_t off = 0; off < len; off += seg) {
		size_t n = len - off < seg ? len - off : seg;

		tcp_segment(g, ex, from_exporter, TR_TCP_PSH | TR_TCP_ACK,
		    data + off, n);
	}
	last = g->frames;
	tcp_segment(g, ex, !from_exporter, TR_TCP_ACK, NULL, 0);
	return last;
}

static void
tcp_handshake(struct gen *g, struct exporter *ex)
{
	/* Fixed initial sequence numbers keep the output deterministic. */
	ex->snd_nxt = 1000000u * (uint32_t)(ex->idx + 1);
	ex->rcv_nxt = 2000000000u + 1000u * (uint32_t)ex->idx;
	tcp_segment(g, ex, true, TR_TCP_SYN, NULL, 0);
	tcp_segment(g, ex, false, TR_TCP_SYN | TR_TCP_ACK, NULL, 0);
	tcp_segment(g, ex, true, TR_TCP_ACK, NULL, 0);
	ex->established = true;
}

static void
tcp_close(struct gen *g, struct exporter *ex)
{
	tcp_segment(g, ex, true, TR_TCP_FIN | TR_TCP_ACK, NULL, 0);
	tcp_segment(g, ex, false, TR_TCP_FIN | TR_TCP_ACK, NULL, 0);
	tcp_segment(g, ex, true, TR_TCP_ACK, NULL, 0);
	ex->established = false;
}

/*
 * A keep-alive probe (seq = snd_nxt - 1) repeating the last byte already
 * sent, as Windows does; the peer ACKs it.  After a message that spanned
 * several segments the probe is empty, as Linux sends it, because Wireshark
 * reports a stale byte there as a reassembly error and our captures must
 * decode cleanly.
 */
static void
tcp_keepalive(struct gen *g, struct exporter *ex)
{
	uint8_t stale = ex->last_byte;
	size_t n = ex->last_split ? 0 : 1;

	ex->snd_nxt--;
	tcp_segment(g, ex, true, TR_TCP_ACK, &stale, n);
	ex->snd_nxt += 1 - (uint32_t)n;
	tcp_segment(g, ex, false, TR_TCP_ACK, NULL, 0);
}

/* ---- BGP (RFC 4271) ---- */

static uint32_t
exporter_as(const struct exporter *ex)
{
	return 65001u + (uint32_t)(ex->idx % 500);
}

/* A BGP identifier: the IPv4 address itself, or one made up for an IPv6 host. */
static struct tr_addr
bgp_id(const struct tr_addr *a, size_t idx)
{
	if (a->family == AF_INET)
		return *a;
	return addr_v4(0xc6120000u + (uint32_t)idx + 1);	/* 198.18.0.0/15 */
}

/*
 * OPEN with the MP IPv4 unicast and 4-byte AS capabilities, and with
 * add_path ADD-PATH send/receive for IPv4 unicast (RFC 7911).
 */
static void
bgp_open(struct writer *m, uint32_t as, uint16_t hold_time,
    const struct tr_addr *id, bool add_path)
{
	struct bgp_enc_open o = {
		.as = as, .hold_time = hold_time, .id = id, .ipv4 = true,
		.add_path = add_path,
	};

	bgp_enc_open(m, &o);
}

/* A NOTIFICATION: Cease (6), administrative reset (4), as gobgpd sends when it resets a peer. */
static void
bgp_cease(struct writer *m)
{
	bgp_enc_notification(m, 6, 4);
}

/*
 * An UPDATE announcing `n` /24s out of 100.64.0.0/10 (numbered from
 * `first`, wrapping) with a 4-byte AS_PATH, as both OPENs agreed.
 */
static void
bgp_update(struct writer *m, uint32_t peer_as, const struct tr_addr *nexthop,
    uint64_t first, uint32_t n)
{
	uint32_t path[2] = { peer_as, 65500u + (uint32_t)(first % 16) };
	struct bgp_enc_update u;

	bgp_enc_update_begin(&u, m);
	bgp_enc_update_attrs(&u);
	bgp_enc_origin(m, 0);		/* IGP */
	bgp_enc_as_path(m, path, 2);
	bgp_enc_next_hop(m, nexthop);
	bgp_enc_med(m, (uint32_t)(first % 1000));
	bgp_enc_update_nlri(&u);
	for (uint32_t i = 0; i < n; i++) {
		uint64_t p = (first + i) % 16384;
		uint8_t net[3] = { 100, (uint8_t)(64 + (p >> 8)), (uint8_t)p };

		bgp_enc_prefix(m, net, 24);
	}
	bgp_enc_update_end(&u);
}

static void
bgp_exporter_says(struct gen *g, struct exporter *ex, struct writer *m,
    int type)
{
	uint64_t frame;

	g->errs += !wr_ok(m);
	frame = tcp_send(g, ex, true, m->p, wr_len(m));
	expect_message(g, ex, type, wr_len(m), frame);
	after_message(g, ex);
}

/* The exporter's OPEN, the collector's OPEN and KEEPALIVE, the exporter's KEEPALIVE. */
static void
bgp_open_exchange(struct gen *g, struct exporter *ex)
{
	struct writer m = msg_start(g);
	struct tr_addr id = bgp_id(&ex->addr, ex->idx);
	struct tr_addr cid = bgp_id(&ex->coll, 0);

	bgp_open(&m, exporter_as(ex), g->o->hold_time, &id, g->o->add_path);
	bgp_exporter_says(g, ex, &m, BGP_ENC_OPEN);
	m = msg_start(g);
	bgp_open(&m, 64496, g->o->hold_time, &cid, false);
	bgp_enc_keepalive(&m);
	g->errs += !wr_ok(&m);
	tcp_send(g, ex, false, m.p, wr_len(&m));
	m = msg_start(g);
	bgp_enc_keepalive(&m);
	bgp_exporter_says(g, ex, &m, BGP_ENC_KEEPALIVE);
}

/*
 * --restarts, as bird against gobgpd does it: the collector ends the
 * session (NOTIFICATION, then its FIN; the router sends no FIN), refuses
 * the router's next connections right after their OPEN (FIN, then RST),
 * and then takes a session in which the router announces its table again.
 * Each connection comes from a new source port.
 */
static void
bgp_restarts(struct gen *g, struct exporter *ex)
{
	struct writer m = msg_start(g);
	struct tr_addr id = bgp_id(&ex->addr, ex->idx);

	bgp_cease(&m);
	g->errs += !wr_ok(&m);
	tcp_send(g, ex, false, m.p, wr_len(&m));
	tcp_segment(g, ex, false, TR_TCP_FIN | TR_TCP_ACK, NULL, 0);
	tcp_segment(g, ex, true, TR_TCP_ACK, NULL, 0);
	for (; ex->restarts_left > 0; ex->restarts_left--) {
		ex->sport += 1000;
		tcp_handshake(g, ex);
		m = msg_start(g);
		bgp_open(&m, exporter_as(ex), g->o->hold_time, &id,
		    g->o->add_path);
		bgp_exporter_says(g, ex, &m, BGP_ENC_OPEN);
		tcp_segment(g, ex, false, TR_TCP_FIN | TR_TCP_ACK, NULL, 0);
		tcp_segment(g, ex, true, TR_TCP_ACK, NULL, 0);
		tcp_segment(g, ex, false, TR_TCP_RST, NULL, 0);
	}
	ex->sport += 1000;
	tcp_handshake(g, ex);
	bgp_open_exchange(g, ex);
	ex->sent = 0;
}

/* One step of a BGP session; false once the session has nothing more to send. */
static bool
bgp_step(struct gen *g, struct exporter *ex)
{
	struct writer m = msg_start(g);
	struct tr_addr id = bgp_id(&ex->addr, ex->idx);
	/* With restarts, each exporter numbers its own prefixes, so the last session repeats the first's. */
	uint64_t first = g->o->restarts > 0 ?
	    (ex->idx * ex->share + ex->sent) * g->o->records : g->records;

	if (ex->phase == 0) {
		tcp_handshake(g, ex);
		bgp_open_exchange(g, ex);
		ex->restarts_left = g->o->restarts;
		ex->phase = 1;
		return ex->sent < ex->share;
	}
	if (ex->sent >= ex->share && ex->restarts_left > 0) {
		bgp_restarts(g, ex);
		return ex->sent < ex->share;
	}
	if (ex->sent >= ex->share)
		return false;
	bgp_update(&m, exporter_as(ex), &id, first, g->o->records);
	g->records += g->o->records;
	bgp_exporter_says(g, ex, &m, BGP_ENC_UPDATE);
	ex->sent++;
	if (ex->sent % BGP_KEEPALIVE_EVERY == 0) {
		m = msg_start(g);
		bgp_enc_keepalive(&m);
		bgp_exporter_says(g, ex, &m, BGP_ENC_KEEPALIVE);
		m = msg_start(g);
		bgp_enc_keepalive(&m);
		tcp_send(g, ex, false, m.p, wr_len(&m));
	}
	return ex->sent < ex->share || ex->restarts_left > 0;
}

/* ---- BMP (RFC 7854) ---- */

#define BMP_ROUTER_AS		64512

/* The one monitored peer of an exporter. */
static struct tr_addr
bmp_peer(const struct exporter *ex)
{
	return addr_v4(0xcb007100u + (uint32_t)(ex->idx % 254) + 1);	/* 203.0.113.0/24 */
}

/* Per-peer header: global instance peer, IPv4, 4-byte AS_PATHs. */
static struct bmp_enc_peer
bmp_peer_of(const struct gen *g, const struct exporter *ex)
{
	struct bmp_enc_peer p = {
		.type = BMP_ENC_PEER_GLOBAL,
		.addr = bmp_peer(ex),
		.as = exporter_as(ex),
		.bgp_id = bmp_peer(ex),
		.ts_sec = secs_of(g->ts),
		.ts_usec = (uint32_t)(g->ts % TR_NS_PER_SEC / TR_NS_PER_US),
	};

	return p;
}

static void
bmp_initiation(struct writer *m, const struct exporter *ex)
{
	char name[32];

	snprintf(name, sizeof(name), "router-%zu", ex->idx + 1);
	bmp_enc_initiation(m, "tr-pcapgen synthetic router", name);
}

static void
bmp_peer_up(struct writer *m, const struct gen *g, const struct exporter *ex)
{
	struct tr_addr local = addr_v4(0xc6336400u + 254);	/* 198.51.100.254 */
	struct tr_addr rid = bgp_id(&ex->addr, ex->idx);
	struct tr_addr peer = bmp_peer(ex);
	struct bmp_enc_peer p = bmp_peer_of(g, ex);
	size_t start = bmp_enc_peer_up_begin(m, &p, &local, 179,
	    (uint16_t)(40000 + ex->idx % 20000));

	bgp_open(m, BMP_ROUTER_AS, 90, &rid, false);		/* sent OPEN */
	bgp_open(m, exporter_as(ex), 90, &peer, false);	/* received OPEN */
	bmp_enc_finish(m, start);
}

static void
bmp_route_monitoring(struct writer *m, struct gen *g, struct exporter *ex)
{
	struct tr_addr peer = bmp_peer(ex);
	struct bmp_enc_peer p = bmp_peer_of(g, ex);
	size_t start = bmp_enc_route_monitoring_begin(m, &p);

	bgp_update(m, exporter_as(ex), &peer, g->records, g->o->records);
	g->records += g->o->records;
	ex->prefixes += g->o->records;
	bmp_enc_finish(m, start);
}

static void
bmp_statistics(struct writer *m, const struct gen *g,
    const struct exporter *ex)
{
	struct bmp_enc_peer p = bmp_peer_of(g, ex);
	struct bmp_enc_stat st[2] = {
		{ BMP_ENC_STAT_REJECTED, 4, 0 },
		{ BMP_ENC_STAT_ADJ_RIB_IN, 8, ex->prefixes },
	};

	bmp_enc_statistics(m, &p, st, 2);
}

static void
bmp_peer_down(struct writer *m, const struct gen *g,
    const struct exporter *ex)
{
	struct bmp_enc_peer p = bmp_peer_of(g, ex);

	bmp_enc_peer_down(m, &p, 4);	/* remote closed, no data */
}

static void
bmp_termination(struct writer *m)
{
	bmp_enc_termination(m, "tr-pcapgen: end of capture", 0);
}

enum bmp_phase {
	BMP_PHASE_INIT,
	BMP_PHASE_PEER_UP,
	BMP_PHASE_ROUTES,
	BMP_PHASE_STATS,
	BMP_PHASE_PEER_DOWN,
	BMP_PHASE_TERM,
	BMP_PHASE_DONE,
};

/* One BMP message of a session per call; false once it is closed. */
static bool
bmp_step(struct gen *g, struct exporter *ex)
{
	struct writer m = msg_start(g);
	uint64_t frame;
	int type;

	switch (ex->phase) {
	case BMP_PHASE_INIT:
		tcp_handshake(g, ex);
		bmp_initiation(&m, ex);
		type = BMP_ENC_INITIATION;
		ex->phase = BMP_PHASE_PEER_UP;
		break;
	case BMP_PHASE_PEER_UP:
		bmp_peer_up(&m, g, ex);
		type = BMP_ENC_PEER_UP;
		ex->phase = ex->share > 0 ? BMP_PHASE_ROUTES : BMP_PHASE_STATS;
		break;
	case BMP_PHASE_ROUTES:
		bmp_route_monitoring(&m, g, ex);
		type = BMP_ENC_ROUTE_MONITORING;
		if (++ex->sent >= ex->share)
			ex->phase = BMP_PHASE_STATS;
		break;
	case BMP_PHASE_STATS:
		bmp_statistics(&m, g, ex);
		type = BMP_ENC_STATISTICS;
		ex->phase = BMP_PHASE_PEER_DOWN;
		break;
	case BMP_PHASE_PEER_DOWN:
		bmp_peer_down(&m, g, ex);
		type = BMP_ENC_PEER_DOWN;
		ex->phase = BMP_PHASE_TERM;
		break;
	case BMP_PHASE_TERM:
		bmp_termination(&m);
		type = BMP_ENC_TERMINATION;
		ex->phase = BMP_PHASE_DONE;
		break;
	default:
		return false;
	}
	g->errs += !wr_ok(&m);
	frame = tcp_send(g, ex, true, m.p, wr_len(&m));
	expect_message(g, ex, type, wr_len(&m), frame);
	if (ex->phase == BMP_PHASE_DONE)
		tcp_close(g, ex);
	after_message(g, ex);
	return ex->phase != BMP_PHASE_DONE;
}

/* Sessions advance in turn, one message each, until all are done. */
static void
run_tcp_protocols(struct gen *g)
{
	bool busy = true;

	while (busy) {
		busy = false;
		for (size_t i = 0; i < g->n_exp; i++) {
			struct exporter *ex = &g->exp[i];
			bool more;

			if (ex->phase < 0)
				continue;
			more = g->o->proto == PROTO_BMP ? bmp_step(g, ex) :
			    bgp_step(g, ex);
			if (more)
				busy = true;
			else
				ex->phase = -1;
		}
	}
}

/* ---- command line ---- */

static void
usage(FILE *f)
{
	fprintf(f,
"usage: tr-pcapgen --out FILE --proto ipfix|nfv9|nfv5|udp|bmp|bgp [options]\n"
"\n"
"Writes a deterministic capture (same options, same bytes) for tests, demos\n"
"and benchmarks.  Output is streamed: any --count runs in constant memory.\n"
"\n"
"  -o, --out FILE          capture to write (classic pcap)\n"
"  -p, --proto P           ipfix, nfv9, nfv5, udp (generic payloads), bmp, bgp\n"
"  -c, --count N           flow/UDP: datagrams (round-robin over exporters);\n"
"                          bmp: route monitoring messages; bgp: UPDATEs (10)\n"
"  -e, --exporter ADDR     exporter address, IPv4 or IPv6; repeatable\n"
"                          (192.0.2.1); exporter i uses source port SPORT+i\n"
"      --ports N           each exporter address sends N streams (bmp/bgp:\n"
"                          N sessions) from its own source ports: exporter\n"
"                          i's k-th from SPORT+i*N+k (1); 10,000 BMP\n"
"                          sessions fit on 40 addresses with --ports 250\n"
"  -C, --collector ADDR    collector address, one per address family\n"
"                          (198.51.100.1, 2001:db8:ffff::1)\n"
"  -d, --dport N           collector port (ipfix 4739, nfv9/nfv5 2055,\n"
"                          udp 9999, bmp 1790, bgp 179)\n"
"  -s, --sport N           first exporter's source port (50000)\n"
"  -g, --gap-us N          capture-time gap between frames in us (1000)\n"
"  -t, --start SEC         capture start, Unix seconds (1700000000)\n"
"  -l, --link L            en10mb, sll, sll2, raw, null (en10mb)\n"
"      --vlan ID           802.1Q tag; repeat to stack (outermost first)\n"
"      --mpls LABEL        MPLS label; repeat to stack (outermost first)\n"
"      --nanosec           nanosecond timestamps (default microsecond)\n"
"      --fragment N        IP-fragment UDP datagrams to at most N payload\n"
"                          bytes per fragment (a multiple of 8)\n"
"      --segment N         cut TCP messages into segments of at most N bytes\n"
"      --hold-time N       BGP: the hold time both OPENs offer (90)\n"
"      --add-path          BGP: the exporter's OPEN also offers ADD-PATH\n"
"                          (IPv4 unicast, send/receive), the collector's\n"
"                          does not: not negotiated, UPDATEs carry no path ids\n"
"      --restarts N        BGP: after its UPDATEs, the collector ends the\n"
"                          session (NOTIFICATION, its FIN; the exporter sends\n"
"                          no FIN), refuses N new connections right after\n"
"                          the exporter's OPEN (FIN, RST), then takes one in\n"
"                          which the exporter announces the same prefixes\n"
"                          again; each from a source port 1000 higher\n"
"  -r, --records N         flow records per data set / prefixes per UPDATE (5)\n"
"      --skip-templates    IPFIX/v9: never send templates\n"
"      --template-every N  IPFIX/v9: resend templates every N data messages\n"
"                          of an exporter (default: only before the first)\n"
"      --first-template-after N\n"
"                          IPFIX/v9: the capture starts after the templates:\n"
"                          an exporter's first N data messages come before\n"
"                          any template, which goes before data message N\n"
"                          (counting from 0) and, with --template-every E,\n"
"                          again before messages N+E, N+2E, ... (0)\n"
"      --options-template  IPFIX/v9: templates also define options template\n"
"                          257 (sampling: scope observationDomainId (IPFIX)\n"
"                          or System (v9), samplingInterval 34,\n"
"                          samplingAlgorithm 35), and an options data\n"
"                          message (interval 1) follows each template message\n"
"      --time-fields T     IPFIX flow times: sec (flowStart/EndSeconds\n"
"                          150/151, u32), msec (152/153, u64 ms since 1970),\n"
"                          usec (154/155) or nsec (156/157), both NTP 64-bit\n"
"                          (seconds since 1900, 32-bit fraction rounded up);\n"
"                          all but sec give flow times a millisecond part\n"
"                          (sec)\n"
"      --domain ID         IPFIX observation domain / v9 source id / v5\n"
"                          engine type*256+id; repeatable: each exporter then\n"
"                          sends one stream per domain (own sequence numbers\n"
"                          and templates, same source port), round-robin\n"
"                          (default: exporter i has domain i+1)\n"
"      --noise             interleave unselected frames: ARP, ICMP, UDP to\n"
"                          DPORT+1, TCP keep-alive (in the session for bmp/bgp)\n"
"      --expect FILE       JSON lines of what was generated: one per flow\n"
"                          record (frame = the frame completing its datagram;\n"
"                          start/end Unix seconds, start_ms/end_ms\n"
"                          milliseconds; \"orphan\":true when no template of\n"
"                          its exporter and domain came before it),\n"
"                          per BMP/BGP message sent by an exporter, or per UDP\n"
"                          datagram\n"
"  -h, --help              this text\n");
}

enum {
	OPT_VLAN = 256,
	OPT_MPLS,
	OPT_NANOSEC,
	OPT_FRAGMENT,
	OPT_SEGMENT,
	OPT_HOLD_TIME,
	OPT_ADD_PATH,
	OPT_RESTARTS,
	OPT_SKIP_TEMPLATES,
	OPT_TEMPLATE_EVERY,
	OPT_NOISE,
	OPT_EXPECT,
	OPT_FIRST_TEMPLATE_AFTER,
	OPT_OPTIONS_TEMPLATE,
	OPT_TIME_FIELDS,
	OPT_DOMAIN,
	OPT_PORTS,
};

static const struct option long_opts[] = {
	{ "out", required_argument, NULL, 'o' },
	{ "proto", required_argument, NULL, 'p' },
	{ "count", required_argument, NULL, 'c' },
	{ "exporter", required_argument, NULL, 'e' },
	{ "collector", required_argument, NULL, 'C' },
	{ "dport", required_argument, NULL, 'd' },
	{ "sport", required_argument, NULL, 's' },
	{ "gap-us", required_argument, NULL, 'g' },
	{ "start", required_argument, NULL, 't' },
	{ "link", required_argument, NULL, 'l' },
	{ "vlan", required_argument, NULL, OPT_VLAN },
	{ "mpls", required_argument, NULL, OPT_MPLS },
	{ "nanosec", no_argument, NULL, OPT_NANOSEC },
	{ "fragment", required_argument, NULL, OPT_FRAGMENT },
	{ "segment", required_argument, NULL, OPT_SEGMENT },
	{ "hold-time", required_argument, NULL, OPT_HOLD_TIME },
	{ "add-path", no_argument, NULL, OPT_ADD_PATH },
	{ "restarts", required_argument, NULL, OPT_RESTARTS },
	{ "records", required_argument, NULL, 'r' },
	{ "skip-templates", no_argument, NULL, OPT_SKIP_TEMPLATES },
	{ "template-every", required_argument, NULL, OPT_TEMPLATE_EVERY },
	{ "noise", no_argument, NULL, OPT_NOISE },
	{ "expect", required_argument, NULL, OPT_EXPECT },
	{ "first-template-after", required_argument, NULL,
	    OPT_FIRST_TEMPLATE_AFTER },
	{ "options-template", no_argument, NULL, OPT_OPTIONS_TEMPLATE },
	{ "time-fields", required_argument, NULL, OPT_TIME_FIELDS },
	{ "domain", required_argument, NULL, OPT_DOMAIN },
	{ "ports", required_argument, NULL, OPT_PORTS },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int
parse_num(const char *opt, const char *text, uint64_t min, uint64_t max,
    uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || text[0] == '-' ||
	    v < min || v > max) {
		fprintf(stderr, "tr-pcapgen: --%s: '%s' is not a number from %"
		    PRIu64 " to %" PRIu64 "\n", opt, text, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

static int
parse_proto(const char *text, enum gen_proto *out)
{
	for (int i = 0; i < PROTO_COUNT; i++) {
		if (strcmp(text, proto_names[i]) == 0) {
			*out = (enum gen_proto)i;
			return 0;
		}
	}
	fprintf(stderr, "tr-pcapgen: --proto: '%s' is not one of ipfix, nfv9, "
	    "nfv5, udp, bmp, bgp\n", text);
	return -1;
}

static int
parse_addr(const char *opt, const char *text, struct tr_addr *out)
{
	if (addr_parse(text, out) == -1) {
		fprintf(stderr, "tr-pcapgen: --%s: '%s' is not an IPv4 or IPv6 "
		    "address\n", opt, text);
		return -1;
	}
	return 0;
}

static void
opts_defaults(struct opts *o)
{
	memset(o, 0, sizeof(*o));
	o->count = 10;
	o->sport = 50000;
	o->gap_us = 1000;
	o->start = 1700000000;
	o->link = FRAME_LINK_EN10MB;
	o->records = 5;
	o->hold_time = 90;
	o->ports = 1;
	addr_parse("198.51.100.1", &o->coll4);
	addr_parse("2001:db8:ffff::1", &o->coll6);
}

/* One option; 0, or -1 after saying what is wrong. */
static int
parse_opt(struct opts *o, int c, const char *arg)
{
	uint64_t v;
	struct tr_addr a;

	switch (c) {
	case 'o':
		o->out = arg;
		return 0;
	case 'p':
		o->proto_set = true;
		return parse_proto(arg, &o->proto);
	case 'c':
		return parse_num("count", arg, 0, UINT32_MAX * 16ULL, &o->count);
	case 'e':
		if (grow_array(&o->exporters, &o->cap_exporters,
		    sizeof(*o->exporters), o->n_exporters + 1,
		    MAX_EXPORTERS) == -1) {
			fprintf(stderr, "tr-pcapgen: at most %u exporters\n",
			    MAX_EXPORTERS);
			return -1;
		}
		return parse_addr("exporter", arg,
		    &o->exporters[o->n_exporters++]);
	case 'C':
		if (parse_addr("collector", arg, &a) == -1)
			return -1;
		if (a.family == AF_INET)
			o->coll4 = a;
		else
			o->coll6 = a;
		return 0;
	case 'd':
		if (parse_num("dport", arg, 1, 65535, &v) == -1)
			return -1;
		o->dport = (uint16_t)v;
		o->dport_set = true;
		return 0;
	case 's':
		if (parse_num("sport", arg, 1, 65535, &v) == -1)
			return -1;
		o->sport = (uint16_t)v;
		return 0;
	case 'g':
		return parse_num("gap-us", arg, 0, 3600ULL * 1000000, &o->gap_us);
	case 't':
		return parse_num("start", arg, 0, UINT32_MAX - 86400ULL * 365,
		    &o->start);
	case 'l':
		if (frame_link_parse(arg, &o->link) == -1) {
			fprintf(stderr, "tr-pcapgen: --link: '%s' is not one of "
			    "en10mb, sll, sll2, raw, null\n", arg);
			return -1;
		}
		return 0;
	case OPT_VLAN:
		if (o->n_vlan == FRAME_MAX_VLAN) {
			fprintf(stderr, "tr-pcapgen: at most %d --vlan\n",
			    FRAME_MAX_VLAN);
			return -1;
		}
		if (parse_num("vlan", arg, 0, 4095, &v) == -1)
			return -1;
		o->vlan[o->n_vlan++] = (uint16_t)v;
		return 0;
	case OPT_MPLS:
		if (o->n_mpls == FRAME_MAX_MPLS) {
			fprintf(stderr, "tr-pcapgen: at most %d --mpls\n",
			    FRAME_MAX_MPLS);
			return -1;
		}
		if (parse_num("mpls", arg, 0, 0xfffff, &v) == -1)
			return -1;
		o->mpls[o->n_mpls++] = (uint32_t)v;
		return 0;
	case OPT_NANOSEC:
		o->nanosec = true;
		return 0;
	case OPT_FRAGMENT:
		if (parse_num("fragment", arg, 8, 65528, &v) == -1)
			return -1;
		if (v % 8 != 0) {
			fprintf(stderr, "tr-pcapgen: --fragment: %s is not a "
			    "multiple of 8 (IP fragment offsets count 8-byte "
			    "units)\n", arg);
			return -1;
		}
		o->fragment = (uint32_t)v;
		return 0;
	case OPT_SEGMENT:
		if (parse_num("segment", arg, 1, 65000, &v) == -1)
			return -1;
		o->segment = (uint32_t)v;
		return 0;
	case OPT_HOLD_TIME:
		/* RFC 4271: 0, or at least 3 seconds. */
		if (parse_num("hold-time", arg, 0, 65535, &v) == -1)
			return -1;
		if (v == 1 || v == 2) {
			fprintf(stderr, "tr-pcapgen: --hold-time is 0 or at "
			    "least 3 (RFC 4271)\n");
			return -1;
		}
		o->hold_time = (uint16_t)v;
		return 0;
	case OPT_ADD_PATH:
		o->add_path = true;
		return 0;
	case OPT_RESTARTS:
		if (parse_num("restarts", arg, 1, 50, &v) == -1)
			return -1;
		o->restarts = (uint32_t)v;
		return 0;
	case 'r':
		if (parse_num("records", arg, 1, MAX_RECORDS, &v) == -1)
			return -1;
		o->records = (uint32_t)v;
		return 0;
	case OPT_SKIP_TEMPLATES:
		o->skip_templates = true;
		return 0;
	case OPT_TEMPLATE_EVERY:
		return parse_num("template-every", arg, 1, UINT32_MAX,
		    &o->template_every);
	case OPT_NOISE:
		o->noise = true;
		return 0;
	case OPT_EXPECT:
		o->expect = arg;
		return 0;
	case OPT_FIRST_TEMPLATE_AFTER:
		return parse_num("first-template-after", arg, 0, UINT32_MAX,
		    &o->first_template_after);
	case OPT_OPTIONS_TEMPLATE:
		o->options_template = true;
		return 0;
	case OPT_TIME_FIELDS:
		for (int i = 0; i < TIME_COUNT; i++) {
			if (strcmp(arg, time_field_names[i]) == 0) {
				o->time_fields = (enum time_fields)i;
				return 0;
			}
		}
		fprintf(stderr, "tr-pcapgen: --time-fields: '%s' is not one of "
		    "sec, msec, usec, nsec\n", arg);
		return -1;
	case OPT_DOMAIN:
		if (o->n_domains == MAX_DOMAINS) {
			fprintf(stderr, "tr-pcapgen: at most %d --domain\n",
			    MAX_DOMAINS);
			return -1;
		}
		if (parse_num("domain", arg, 0, UINT32_MAX, &v) == -1)
			return -1;
		o->domains[o->n_domains++] = (uint32_t)v;
		return 0;
	case OPT_PORTS:
		if (parse_num("ports", arg, 1, 65535, &v) == -1)
			return -1;
		o->ports = (uint32_t)v;
		return 0;
	default:
		return -1;
	}
}

/* Checks across options, after all are read. */
static int
opts_check(struct opts *o)
{
	if (o->out == NULL || !o->proto_set) {
		fprintf(stderr, "tr-pcapgen: --out and --proto are required\n");
		return -1;
	}
	if ((o->link == FRAME_LINK_RAW || o->link == FRAME_LINK_NULL) &&
	    (o->n_vlan > 0 || o->n_mpls > 0)) {
		fprintf(stderr, "tr-pcapgen: --link %s carries no VLAN or MPLS "
		    "headers; use en10mb, sll or sll2\n",
		    frame_link_names[o->link]);
		return -1;
	}
	if (o->proto == PROTO_NFV5 && o->records > NFV5_MAX_RECORDS) {
		fprintf(stderr, "tr-pcapgen: --records: NetFlow v5 carries at "
		    "most %d records per datagram\n", NFV5_MAX_RECORDS);
		return -1;
	}
	if ((o->first_template_after > 0 || o->options_template) &&
	    o->proto != PROTO_IPFIX && o->proto != PROTO_NFV9) {
		fprintf(stderr, "tr-pcapgen: --first-template-after and "
		    "--options-template are for ipfix and nfv9\n");
		return -1;
	}
	if (o->time_fields != TIME_SEC && o->proto != PROTO_IPFIX) {
		fprintf(stderr, "tr-pcapgen: --time-fields is for ipfix\n");
		return -1;
	}
	if (o->n_domains > 0 && o->proto != PROTO_IPFIX &&
	    o->proto != PROTO_NFV9 && o->proto != PROTO_NFV5) {
		fprintf(stderr, "tr-pcapgen: --domain is for ipfix, nfv9 and "
		    "nfv5\n");
		return -1;
	}
	for (size_t i = 0; i < o->n_domains; i++) {
		if (o->proto == PROTO_NFV5 && o->domains[i] > 0xffff) {
			fprintf(stderr, "tr-pcapgen: --domain: NetFlow v5 has 16 "
			    "bits for it (engine type and id)\n");
			return -1;
		}
	}
	if (o->ports > 1 && o->restarts > 0) {
		fprintf(stderr, "tr-pcapgen: --restarts moves a session 1000 "
		    "ports up, onto another of --ports: use one of them\n");
		return -1;
	}
	if (o->n_exporters == 0) {
		if (grow_array(&o->exporters, &o->cap_exporters,
		    sizeof(*o->exporters), 1, MAX_EXPORTERS) == -1) {
			perror("tr-pcapgen");
			return -1;
		}
		addr_parse("192.0.2.1", &o->exporters[0]);
		o->n_exporters = 1;
	}
	if (!o->dport_set)
		o->dport = proto_default_port[o->proto];
	return 0;
}

static int
parse_args(int argc, char **argv, struct opts *o)
{
	int c;

	opts_defaults(o);
	while ((c = getopt_long(argc, argv, "o:p:c:e:C:d:s:g:t:l:r:h",
	    long_opts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			exit(0);
		}
		if (c == '?' || parse_opt(o, c, optarg) == -1)
			return -1;
	}
	if (optind < argc) {
		fprintf(stderr, "tr-pcapgen: unexpected argument '%s'\n",
		    argv[optind]);
		return -1;
	}
	return opts_check(o);
}

/* ---- run ---- */

static int
gen_open(struct gen *g, const struct opts *o)
{
	char err[512];

	memset(g, 0, sizeof(*g));
	g->o = o;
	g->ts = (tr_ns)o->start * TR_NS_PER_SEC;
	/* Each exporter address sends one stream per port (--ports) and per domain (--domain). */
	g->n_exp = o->n_exporters * o->ports * (o->n_domains > 0 ? o->n_domains :
	    1);
	g->frame = malloc(FRAME_MAX_LEN);
	g->msg = malloc(MSG_CAP);
	g->exp = calloc(g->n_exp, sizeof(*g->exp));
	if (g->frame == NULL || g->msg == NULL || g->exp == NULL) {
		perror("tr-pcapgen");
		return -1;
	}
	for (size_t i = 0; i < g->n_exp; i++) {
		struct exporter *ex = &g->exp[i];
		size_t per_port = o->n_domains > 0 ? o->n_domains : 1;
		size_t a = i / (per_port * o->ports);
		size_t port = a * o->ports + i / per_port % o->ports;

		ex->idx = i;
		ex->addr = o->exporters[a];
		ex->coll = ex->addr.family == AF_INET ? o->coll4 : o->coll6;
		addr_format(&ex->addr, ex->name, sizeof(ex->name));
		/* Consecutive ports, wrapping past 65535 to 1 (port 0 is not a port). */
		ex->sport = (uint16_t)(1 + (o->sport - 1 + port) % 65535);
		/* v5 has only an 8-bit engine id to tell exporters' streams apart. */
		if (o->n_domains > 0)
			ex->domain = o->domains[i % o->n_domains];
		else
			ex->domain = (uint32_t)(o->proto == PROTO_NFV5 ?
			    (i + 1) & 0xff : i + 1);
		ex->share = o->count / g->n_exp + (i < o->count % g->n_exp);
	}
	if ((g->pw = pcapw_open(o->out, frame_link_dlt(o->link), o->nanosec,
	    err, sizeof(err))) == NULL) {
		fprintf(stderr, "tr-pcapgen: %s\n", err);
		return -1;
	}
	if (o->expect != NULL && (g->expect = fopen(o->expect, "w")) == NULL) {
		fprintf(stderr, "tr-pcapgen: %s: %s\n", o->expect,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* Close everything; -1 if anything went wrong along the way. */
static int
gen_close(struct gen *g)
{
	int rc = g->errs ? -1 : 0;

	if (g->pw != NULL && pcapw_close(g->pw) == -1) {
		fprintf(stderr, "tr-pcapgen: %s: %s\n", g->o->out,
		    strerror(errno));
		rc = -1;
	}
	if (g->expect != NULL) {
		if (ferror(g->expect) | fclose(g->expect)) {
			fprintf(stderr, "tr-pcapgen: %s: write failed\n",
			    g->o->expect);
			rc = -1;
		}
	}
	free(g->frame);
	free(g->msg);
	free(g->exp);
	return rc;
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct gen g;
	int rc;

	if (parse_args(argc, argv, &o) == -1) {
		fprintf(stderr, "try 'tr-pcapgen --help'\n");
		free(o.exporters);
		return 2;
	}
	if (gen_open(&g, &o) == -1) {
		gen_close(&g);
		free(o.exporters);
		return 1;
	}
	if (o.proto == PROTO_BMP || o.proto == PROTO_BGP)
		run_tcp_protocols(&g);
	else
		run_udp_protocols(&g);
	rc = gen_close(&g);
	free(o.exporters);
	if (rc == -1) {
		fprintf(stderr, "tr-pcapgen: %s is incomplete\n", o.out);
		return 1;
	}
	return 0;
}
