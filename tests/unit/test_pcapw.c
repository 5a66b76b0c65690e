/* Round trip: frames built by frame.c, written by pcapw, read back by libpcap, checked independently. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <pcap/pcap.h>

#include "addr.h"
#include "frame_build.h"
#include "packet.h"
#include "pcapw.h"

#define TS_BASE	(INT64_C(1700000000) * TR_NS_PER_SEC + 123456789)

/* A frame as written, kept to compare with what libpcap reads back. */
struct written {
	uint8_t		*bytes;
	uint32_t	 len;
	tr_ns		 ts;
};

struct roundtrip {
	char		 path[64];
	struct written	 w[64];
	size_t		 n;
};

/* ---- an independent decoder and checksum, so frame.c is not checked against itself ---- */

static uint16_t
ref_cksum(uint32_t acc, const uint8_t *p, size_t n)
{
	uint64_t sum = acc;

	for (size_t i = 0; i < n; i++)
		sum += (i % 2 == 0) ? (uint64_t)p[i] << 8 : p[i];
	while (sum > 0xffff)
		sum = (sum >> 16) + (sum & 0xffff);
	return (uint16_t)sum;
}

static uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* What the test decoder found in one frame. */
struct decoded {
	int		 family;
	const uint8_t	*ip;		/* IP header */
	size_t		 iphlen;	/* with the IPv6 fragment header */
	uint8_t		 proto;
	bool		 frag;
	size_t		 frag_off;	/* bytes */
	bool		 more;
	const uint8_t	*l4;		/* upper-layer bytes (or a fragment of them) */
	size_t		 l4len;
	size_t		 n_vlan, n_mpls;
	uint16_t	 vlan[8];
	uint32_t	 mpls[8];
};

static void
decode(enum frame_link link, const uint8_t *f, size_t len, struct decoded *d)
{
	size_t off = 0;
	uint16_t et = 0;
	uint32_t fam;

	memset(d, 0, sizeof(*d));
	switch (link) {
	case FRAME_LINK_EN10MB:
		et = rd16(f + 12);
		off = 14;
		break;
	case FRAME_LINK_SLL:
		assert_int_equal(rd16(f + 4), 6);
		et = rd16(f + 14);
		off = 16;
		break;
	case FRAME_LINK_SLL2:
		et = rd16(f);
		off = 20;
		break;
	case FRAME_LINK_NULL:
		memcpy(&fam, f, 4);
		assert_true(fam == 2 || fam == 24 || fam == 28 || fam == 30);
		et = fam == 2 ? 0x0800 : 0x86dd;
		off = 4;
		break;
	default:
		et = (f[0] >> 4) == 4 ? 0x0800 : 0x86dd;
		break;
	}
	while (et == 0x8100) {
		d->vlan[d->n_vlan++] = rd16(f + off) & 0x0fff;
		et = rd16(f + off + 2);
		off += 4;
	}
	if (et == 0x8847) {
		for (;;) {
			uint32_t lse = (uint32_t)rd16(f + off) << 16 |
			    rd16(f + off + 2);

			d->mpls[d->n_mpls++] = lse >> 12;
			off += 4;
			if (lse & 0x100)
				break;
		}
		et = (f[off] >> 4) == 4 ? 0x0800 : 0x86dd;
	}
	d->ip = f + off;
	if (et == 0x0800) {
		size_t hl = (size_t)(f[off] & 0x0f) * 4;
		uint16_t fl = rd16(f + off + 6);

		assert_int_equal(f[off] >> 4, 4);
		assert_int_equal(rd16(f + off + 2), len - off);
		d->family = AF_INET;
		d->iphlen = hl;
		d->proto = f[off + 9];
		d->frag = (fl & 0x3fff) != 0;
		d->more = (fl & 0x2000) != 0;
		d->frag_off = (size_t)(fl & 0x1fff) * 8;
	} else {
		assert_int_equal(et, 0x86dd);
		assert_int_equal(f[off] >> 4, 6);
		assert_int_equal(rd16(f + off + 4), len - off - 40);
		d->family = AF_INET6;
		d->iphlen = 40;
		d->proto = f[off + 6];
		if (d->proto == 44) {
			uint16_t fo = rd16(f + off + 42);

			d->proto = f[off + 40];
			d->frag = true;
			d->more = fo & 1;
			d->frag_off = fo & 0xfff8;
			d->iphlen += 8;
		}
	}
	d->l4 = d->ip + d->iphlen;
	d->l4len = len - off - d->iphlen;
}

/* The upper-layer checksum over its pseudo-header: 0xffff when correct. */
static uint16_t
l4_sum(const struct decoded *d, const uint8_t *l4, size_t l4len)
{
	uint8_t ph[40];
	size_t phlen;

	memset(ph, 0, sizeof(ph));
	if (d->family == AF_INET) {
		memcpy(ph, d->ip + 12, 8);
		ph[9] = d->proto;
		ph[10] = (uint8_t)(l4len >> 8);
		ph[11] = (uint8_t)l4len;
		phlen = 12;
	} else {
		memcpy(ph, d->ip + 8, 32);
		ph[34] = (uint8_t)(l4len >> 8);
		ph[35] = (uint8_t)l4len;
		ph[39] = d->proto;
		phlen = 40;
	}
	return ref_cksum(ref_cksum(0, ph, phlen), l4, l4len);
}

static void
check_ipv4_header(const struct decoded *d)
{
	if (d->family == AF_INET)
		assert_int_equal(ref_cksum(0, d->ip, d->iphlen), 0xffff);
}

/* ---- write and read back ---- */

static void
rt_init(struct roundtrip *rt)
{
	int fd;

	memset(rt, 0, sizeof(*rt));
	snprintf(rt->path, sizeof(rt->path), "/tmp/test_pcapw.XXXXXX");
	fd = mkstemp(rt->path);
	assert_true(fd >= 0);
	close(fd);
}

static void
rt_add(struct roundtrip *rt, const uint8_t *frame, ssize_t len, tr_ns ts)
{
	assert_true(len > 0);
	assert_true(rt->n < sizeof(rt->w) / sizeof(rt->w[0]));
	rt->w[rt->n].bytes = malloc((size_t)len);
	assert_non_null(rt->w[rt->n].bytes);
	memcpy(rt->w[rt->n].bytes, frame, (size_t)len);
	rt->w[rt->n].len = (uint32_t)len;
	rt->w[rt->n].ts = ts;
	rt->n++;
}

static void
rt_write(struct roundtrip *rt, int dlt, bool nanosec)
{
	char err[256];
	struct pcapw *w = pcapw_open(rt->path, dlt, nanosec, err, sizeof(err));

	assert_non_null(w);
	for (size_t i = 0; i < rt->n; i++)
		assert_int_equal(pcapw_write(w, rt->w[i].ts, rt->w[i].bytes,
		    rt->w[i].len, rt->w[i].len), 0);
	assert_int_equal(pcapw_count(w), rt->n);
	assert_int_equal(pcapw_close(w), 0);
}

/*
 * Read the file back at the precision it was written with and compare
 * every byte and timestamp; return the frames read.
 */
static size_t
rt_read(struct roundtrip *rt, int dlt, bool nanosec)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	pcap_t *p;
	size_t i = 0;
	int rc;

	p = pcap_open_offline_with_tstamp_precision(rt->path, nanosec ?
	    PCAP_TSTAMP_PRECISION_NANO : PCAP_TSTAMP_PRECISION_MICRO, err);
	assert_non_null(p);
	assert_int_equal(pcap_datalink(p), dlt);
	while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
		tr_ns want = rt->w[i].ts, got;

		assert_true(i < rt->n);
		assert_int_equal(h->caplen, rt->w[i].len);
		assert_int_equal(h->len, rt->w[i].len);
		assert_memory_equal(data, rt->w[i].bytes, h->caplen);
		got = (tr_ns)h->ts.tv_sec * TR_NS_PER_SEC + (nanosec ?
		    h->ts.tv_usec : (tr_ns)h->ts.tv_usec * TR_NS_PER_US);
		if (!nanosec)
			want -= want % TR_NS_PER_US;
		assert_int_equal(got, want);
		i++;
	}
	assert_int_equal(rc, PCAP_ERROR_BREAK);
	pcap_close(p);
	return i;
}

static void
rt_free(struct roundtrip *rt)
{
	for (size_t i = 0; i < rt->n; i++)
		free(rt->w[i].bytes);
	unlink(rt->path);
}

/* ---- the table of frames ---- */

struct frame_case {
	const char	*name;
	enum frame_link	 link;
	size_t		 n_vlan;
	size_t		 n_mpls;
	const char	*src, *dst;
	uint8_t		 proto;
	size_t		 payload_len;
	size_t		 frag;		/* max fragment payload, 0: whole */
};

static const struct frame_case cases[] = {
	{ "en10mb v4 udp", FRAME_LINK_EN10MB, 0, 0, "192.0.2.1", "198.51.100.1", FRAME_IPPROTO_UDP, 100, 0 },
	{ "en10mb v6 tcp", FRAME_LINK_EN10MB, 0, 0, "2001:db8::1", "2001:db8::2", FRAME_IPPROTO_TCP, 301, 0 },
	{ "en10mb qinq mpls v4 tcp", FRAME_LINK_EN10MB, 2, 2, "10.0.0.1", "10.0.0.2", FRAME_IPPROTO_TCP, 0, 0 },
	{ "en10mb vlan v6 udp odd", FRAME_LINK_EN10MB, 1, 0, "2001:db8::1", "2001:db8::2", FRAME_IPPROTO_UDP, 1, 0 },
	{ "sll v4 udp", FRAME_LINK_SLL, 0, 0, "192.0.2.1", "198.51.100.1", FRAME_IPPROTO_UDP, 1400, 0 },
	{ "sll mpls v6 tcp", FRAME_LINK_SLL, 0, 3, "2001:db8::1", "2001:db8::2", FRAME_IPPROTO_TCP, 50, 0 },
	{ "sll2 vlan v4 tcp", FRAME_LINK_SLL2, 1, 0, "192.0.2.1", "198.51.100.1", FRAME_IPPROTO_TCP, 77, 0 },
	{ "sll2 v6 udp", FRAME_LINK_SLL2, 0, 1, "2001:db8::1", "2001:db8::2", FRAME_IPPROTO_UDP, 200, 0 },
	{ "raw v4 udp", FRAME_LINK_RAW, 0, 0, "192.0.2.1", "198.51.100.1", FRAME_IPPROTO_UDP, 65507, 0 },
	{ "raw v6 tcp", FRAME_LINK_RAW, 0, 0, "2001:db8::1", "2001:db8::2", FRAME_IPPROTO_TCP, 9, 0 },
	{ "null v4 tcp", FRAME_LINK_NULL, 0, 0, "192.0.2.1", "198.51.100.1", FRAME_IPPROTO_TCP, 500, 0 },
	{ "null v6 udp", FRAME_LINK_NULL, 0, 0, "2001:db8::1", "2001:db8::2", FRAME_IPPROTO_UDP, 64, 0 },
	{ "v4 icmp", FRAME_LINK_EN10MB, 0, 0, "192.0.2.1", "198.51.100.1", FRAME_IPPROTO_ICMP, 24, 0 },
	{ "v6 icmpv6", FRAME_LINK_SLL, 0, 0, "2001:db8::1", "2001:db8::2", FRAME_IPPROTO_ICMPV6, 24, 0 },
	{ "en10mb v4 udp frags", FRAME_LINK_EN10MB, 1, 1, "192.0.2.1", "198.51.100.1", FRAME_IPPROTO_UDP, 1000, 64 },
	{ "raw v6 udp frags", FRAME_LINK_RAW, 0, 0, "2001:db8::1", "2001:db8::2", FRAME_IPPROTO_UDP, 333, 104 },
	{ "sll2 v4 udp frag last 8", FRAME_LINK_SLL2, 0, 0, "192.0.2.1", "198.51.100.1", FRAME_IPPROTO_UDP, 16, 8 },
	{ "null v6 udp fits", FRAME_LINK_NULL, 0, 0, "2001:db8::1", "2001:db8::2", FRAME_IPPROTO_UDP, 50, 512 },
};

static void
spec_for(const struct frame_case *c, struct frame_spec *s, uint8_t *payload)
{
	memset(s, 0, sizeof(*s));
	s->link = c->link;
	s->n_vlan = c->n_vlan;
	for (size_t i = 0; i < c->n_vlan; i++)
		s->vlan[i] = (uint16_t)(100 + i);
	s->n_mpls = c->n_mpls;
	for (size_t i = 0; i < c->n_mpls; i++)
		s->mpls[i] = (uint32_t)(16 + 1000 * i);
	assert_int_equal(addr_parse(c->src, &s->src), 0);
	assert_int_equal(addr_parse(c->dst, &s->dst), 0);
	s->l4proto = c->proto;
	s->sport = 50000;
	s->dport = 4739;
	s->seq = 0xfffffff0u;
	s->ack = 12345;
	s->tcp_flags = TR_TCP_PSH | TR_TCP_ACK;
	s->ip_id = 0x1234;
	for (size_t i = 0; i < c->payload_len; i++)
		payload[i] = (uint8_t)(i * 7 + 0xf0);	/* 0xff bytes exercise carries */
	if (c->proto == FRAME_IPPROTO_ICMP || c->proto == FRAME_IPPROTO_ICMPV6)
		payload[0] = c->proto == FRAME_IPPROTO_ICMP ? 8 : 128;
	s->payload = payload;
	s->payload_len = c->payload_len;
}

/* Check one decoded frame of a case; fragments are collected into dgram. */
static void
check_frame(const struct frame_case *c, const struct frame_spec *s,
    const struct decoded *d, uint8_t *dgram, size_t *dgram_len)
{
	assert_int_equal(d->family, s->src.family);
	assert_int_equal(d->proto, c->proto);
	assert_int_equal(d->n_vlan, c->n_vlan);
	assert_int_equal(d->n_mpls, c->n_mpls);
	for (size_t i = 0; i < d->n_vlan; i++)
		assert_int_equal(d->vlan[i], s->vlan[i]);
	for (size_t i = 0; i < d->n_mpls; i++)
		assert_int_equal(d->mpls[i], s->mpls[i]);
	check_ipv4_header(d);
	if (d->frag) {
		assert_true(d->l4len <= c->frag);
		if (d->more)
			assert_int_equal(d->l4len % 8, 0);
		memcpy(dgram + d->frag_off, d->l4, d->l4len);
		if (d->frag_off + d->l4len > *dgram_len)
			*dgram_len = d->frag_off + d->l4len;
	} else {
		memcpy(dgram, d->l4, d->l4len);
		*dgram_len = d->l4len;
	}
}

/* The reassembled upper layer: checksum, ports, lengths and payload. */
static void
check_datagram(const struct frame_case *c, const struct frame_spec *s,
    const struct decoded *d, const uint8_t *dgram, size_t len)
{
	size_t hlen = c->proto == FRAME_IPPROTO_UDP ? 8 :
	    c->proto == FRAME_IPPROTO_TCP ? 20 : 0;

	assert_int_equal(len, hlen + c->payload_len);
	/* ICMP for IPv4 is the one upper layer without a pseudo-header. */
	if (c->proto == FRAME_IPPROTO_ICMP)
		assert_int_equal(ref_cksum(0, dgram, len), 0xffff);
	else
		assert_int_equal(l4_sum(d, dgram, len), 0xffff);
	if (hlen > 0) {
		assert_int_equal(rd16(dgram), s->sport);
		assert_int_equal(rd16(dgram + 2), s->dport);
	}
	if (c->proto == FRAME_IPPROTO_UDP)
		assert_int_equal(rd16(dgram + 4), len);
	if (c->proto == FRAME_IPPROTO_TCP) {
		assert_int_equal((uint32_t)rd16(dgram + 4) << 16 | rd16(dgram + 6),
		    s->seq);
		assert_int_equal(dgram[13], s->tcp_flags);
	}
	if (c->proto == FRAME_IPPROTO_ICMP || c->proto == FRAME_IPPROTO_ICMPV6)
		assert_memory_equal(dgram + 4, s->payload + 4, len - 4);
	else if (c->payload_len > 0)
		assert_memory_equal(dgram + hlen, s->payload, c->payload_len);
}

static void
run_case(const struct frame_case *c, bool nanosec)
{
	static uint8_t payload[65536], frame[FRAME_MAX_LEN], dgram[65536];
	struct roundtrip rt;
	struct frame_spec s;
	struct decoded d;
	size_t n, dgram_len = 0;
	int dlt = frame_link_dlt(c->link);

	spec_for(c, &s, payload);
	rt_init(&rt);
	n = c->frag > 0 ? frame_frag_count(&s, c->frag) : 1;
	for (size_t i = 0; i < n; i++) {
		ssize_t len = c->frag > 0 ?
		    frame_build_frag(&s, c->frag, i, frame, sizeof(frame)) :
		    frame_build(&s, frame, sizeof(frame));

		/* Timestamps with every nanosecond digit set. */
		rt_add(&rt, frame, len, TS_BASE + (tr_ns)i * 1001);
	}
	rt_write(&rt, dlt, nanosec);
	assert_int_equal(rt_read(&rt, dlt, nanosec), n);
	for (size_t i = 0; i < n; i++) {
		decode(c->link, rt.w[i].bytes, rt.w[i].len, &d);
		if (n > 1)
			assert_true(d.frag);
		check_frame(c, &s, &d, dgram, &dgram_len);
	}
	check_datagram(c, &s, &d, dgram, dgram_len);
	rt_free(&rt);
}

static void
test_table_micro(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("case: %s\n", cases[i].name);
		run_case(&cases[i], false);
	}
}

static void
test_table_nano(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i], true);
}

static void
test_frag_counts(void **state)
{
	struct frame_spec s;
	uint8_t payload[1000];

	(void)state;
	spec_for(&cases[0], &s, payload);
	s.payload_len = 1000;			/* 1008 bytes of UDP */
	assert_int_equal(frame_frag_count(&s, 2000), 1);
	assert_int_equal(frame_frag_count(&s, 1008), 1);
	assert_int_equal(frame_frag_count(&s, 1000), 2);
	assert_int_equal(frame_frag_count(&s, 8), 126);
	/* Not a multiple of 8, or past the last fragment. */
	assert_int_equal(frame_build_frag(&s, 100, 0, payload, 0), -1);
	assert_int_equal(frame_build_frag(&s, 1000, 2, payload, sizeof(payload)), -1);
	assert_int_equal(errno, EINVAL);
}

static void
test_frame_errors(void **state)
{
	static uint8_t buf[FRAME_MAX_LEN];
	static uint8_t big[70000];
	struct frame_spec s;
	uint8_t payload[100];

	(void)state;
	spec_for(&cases[0], &s, payload);
	assert_int_equal(frame_build(&s, buf, 20), -1);
	assert_int_equal(errno, ENOSPC);
	s.link = FRAME_LINK_RAW;
	s.n_vlan = 1;
	assert_int_equal(frame_build(&s, buf, sizeof(buf)), -1);
	assert_int_equal(errno, EINVAL);
	s.n_vlan = 0;
	assert_int_equal(addr_parse("2001:db8::1", &s.dst), 0);
	assert_int_equal(frame_build(&s, buf, sizeof(buf)), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(addr_parse("10.0.0.1", &s.dst), 0);
	s.payload = big;
	s.payload_len = 65508;			/* one byte more than IPv4 can carry */
	assert_int_equal(frame_build(&s, buf, sizeof(buf)), -1);
	assert_int_equal(errno, EMSGSIZE);
	s.payload_len = 65507;
	assert_int_equal(frame_build(&s, buf, sizeof(buf)), 20 + 8 + 65507);
	/* Non-IP frames need a link with an ethertype. */
	assert_int_equal(frame_build_nonip(&s, 0x0806, payload, 28, buf,
	    sizeof(buf)), -1);
	s.link = FRAME_LINK_EN10MB;
	assert_int_equal(frame_build_nonip(&s, 0x0806, payload, 28, buf,
	    sizeof(buf)), 14 + 28);
	assert_int_equal(rd16(buf + 12), 0x0806);
	assert_memory_equal(buf, "\xff\xff\xff\xff\xff\xff", 6);
}

static void
test_link_names(void **state)
{
	enum frame_link l;

	(void)state;
	for (int i = 0; i < FRAME_LINK_COUNT; i++) {
		assert_int_equal(frame_link_parse(frame_link_names[i], &l), 0);
		assert_int_equal(l, i);
	}
	assert_int_equal(frame_link_parse("ppp", &l), -1);
	assert_int_equal(frame_link_dlt(FRAME_LINK_EN10MB), DLT_EN10MB);
	assert_int_equal(frame_link_dlt(FRAME_LINK_RAW), DLT_RAW);
}

/* A bad write is remembered: pcapw_close() reports it even if the caller ignored it. */
static void
test_write_errors(void **state)
{
	struct roundtrip rt;
	char err[256];
	uint8_t frame[64] = { 0 };
	struct pcapw *w;

	(void)state;
	rt_init(&rt);
	w = pcapw_open(rt.path, DLT_RAW, false, err, sizeof(err));
	assert_non_null(w);
	assert_int_equal(pcapw_write(w, TS_BASE, frame, 64, 32), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(pcapw_write(w, -1, frame, 10, 10), -1);
	assert_int_equal(pcapw_write(w, TS_BASE, frame, 20, 20), 0);
	assert_int_equal(pcapw_close(w), -1);
	assert_int_equal(errno, EINVAL);
	rt_free(&rt);

	w = pcapw_open("/nonexistent-dir/x.pcap", DLT_EN10MB, true, err,
	    sizeof(err));
	assert_null(w);
	assert_int_equal(errno, ENOENT);
	assert_non_null(strstr(err, "/nonexistent-dir/x.pcap"));
}

/* A full disk: /dev/full accepts the open and fails the writes. */
static void
test_disk_full(void **state)
{
	char err[256];
	uint8_t frame[1500] = { 0 };
	struct pcapw *w;

	(void)state;
	if (access("/dev/full", W_OK) != 0)
		skip();
	w = pcapw_open("/dev/full", DLT_EN10MB, false, err, sizeof(err));
	if (w == NULL)	/* the header itself may already fail to flush */
		return;
	for (int i = 0; i < 1000; i++)
		(void)pcapw_write(w, TS_BASE, frame, sizeof(frame),
		    sizeof(frame));
	assert_int_equal(pcapw_close(w), -1);
	assert_int_equal(errno, ENOSPC);
}

/* Truncated frames keep their original length. */
static void
test_caplen(void **state)
{
	struct roundtrip rt;
	char err[256], perr[PCAP_ERRBUF_SIZE];
	uint8_t frame[100];
	struct pcap_pkthdr *h;
	const u_char *data;
	struct pcapw *w;
	pcap_t *p;

	(void)state;
	for (size_t i = 0; i < sizeof(frame); i++)
		frame[i] = (uint8_t)i;
	rt_init(&rt);
	w = pcapw_open(rt.path, DLT_EN10MB, true, err, sizeof(err));
	assert_non_null(w);
	assert_int_equal(pcapw_write(w, 5, frame, 60, 1514), 0);
	assert_int_equal(pcapw_close(w), 0);
	p = pcap_open_offline_with_tstamp_precision(rt.path,
	    PCAP_TSTAMP_PRECISION_NANO, perr);
	assert_non_null(p);
	assert_int_equal(pcap_next_ex(p, &h, &data), 1);
	assert_int_equal(h->caplen, 60);
	assert_int_equal(h->len, 1514);
	assert_int_equal(h->ts.tv_sec, 0);
	assert_int_equal(h->ts.tv_usec, 5);
	assert_memory_equal(data, frame, 60);
	pcap_close(p);
	rt_free(&rt);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_micro),
		cmocka_unit_test(test_table_nano),
		cmocka_unit_test(test_frag_counts),
		cmocka_unit_test(test_frame_errors),
		cmocka_unit_test(test_link_names),
		cmocka_unit_test(test_write_errors),
		cmocka_unit_test(test_disk_full),
		cmocka_unit_test(test_caplen),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
