/* Frame builders: link header, VLAN/MPLS, IPv4/IPv6 (+ fragments), UDP/TCP/ICMP with checksums. */
#include <errno.h>
#include <string.h>

#include <pcap/dlt.h>

#include "frame_build.h"
#include "packet.h"
#include "writer.h"

const char *const frame_link_names[FRAME_LINK_COUNT] = {
	[FRAME_LINK_EN10MB] = "en10mb",
	[FRAME_LINK_SLL] = "sll",
	[FRAME_LINK_SLL2] = "sll2",
	[FRAME_LINK_RAW] = "raw",
	[FRAME_LINK_NULL] = "null",
};

#define ETHERTYPE_IPV4		0x0800
#define ETHERTYPE_IPV6		0x86dd
#define ETHERTYPE_VLAN		0x8100
#define ETHERTYPE_MPLS		0x8847
#define ARPHRD_ETHER_VAL	1
/* BSD loopback family for IPv6: macOS's value, where most such captures come from. */
#define NULL_AF_INET		2
#define NULL_AF_INET6		30
#define IPV6_NH_FRAGMENT	44

#define UDP_HDR_LEN	8
#define TCP_HDR_LEN	20
#define IPV4_HDR_LEN	20
#define IPV6_HDR_LEN	40
#define IPV6_FRAG_LEN	8
#define IP_MAXPACKET_LEN 65535

int
frame_link_dlt(enum frame_link link)
{
	switch (link) {
	case FRAME_LINK_EN10MB:
		return DLT_EN10MB;
	case FRAME_LINK_SLL:
		return DLT_LINUX_SLL;
	case FRAME_LINK_SLL2:
		return DLT_LINUX_SLL2;
	case FRAME_LINK_RAW:
		return DLT_RAW;
	case FRAME_LINK_NULL:
	default:
		return DLT_NULL;
	}
}

int
frame_link_parse(const char *name, enum frame_link *out)
{
	for (int i = 0; i < FRAME_LINK_COUNT; i++) {
		if (strcmp(name, frame_link_names[i]) == 0) {
			*out = (enum frame_link)i;
			return 0;
		}
	}
	errno = EINVAL;
	return -1;
}

void
frame_mac(const struct tr_addr *a, uint8_t mac[6])
{
	const uint8_t *tail = a->family == AF_INET ?
	    (const uint8_t *)&a->v4 : &a->v6.s6_addr[12];

	mac[0] = 0x02;		/* locally administered, unicast */
	mac[1] = 0x00;
	memcpy(mac + 2, tail, 4);
}

/* One's complement sum of n bytes, big-endian 16-bit words; n odd pads a zero. */
static uint32_t
sum_bytes(uint32_t sum, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += be16_load(p + i);
	if (i < n)
		sum += (uint32_t)p[i] << 8;
	/* 32 K words of 0xffff stay below 2^31, so folding once per call is enough. */
	return (sum & 0xffff) + (sum >> 16);
}

static uint16_t
sum_finish(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint16_t
frame_cksum(const void *p, size_t n)
{
	return sum_finish(sum_bytes(0, p, n));
}

uint32_t
frame_cksum_add(uint32_t sum, const void *p, size_t n)
{
	return sum_bytes(sum, p, n);
}

uint16_t
frame_cksum_finish(uint32_t sum)
{
	return sum_finish(sum);
}

static bool
link_has_ethertype(enum frame_link link)
{
	return link == FRAME_LINK_EN10MB || link == FRAME_LINK_SLL ||
	    link == FRAME_LINK_SLL2;
}

/* The link header, announcing `next` (an ethertype) as what follows it. */
static void
put_link(struct writer *w, const struct frame_spec *s, uint16_t next,
    bool broadcast)
{
	uint8_t src[6], dst[6];
	uint32_t family;

	frame_mac(&s->src, src);
	if (broadcast)
		memset(dst, 0xff, sizeof(dst));
	else
		frame_mac(&s->dst, dst);
	switch (s->link) {
	case FRAME_LINK_EN10MB:
		put_bytes(w, dst, 6);
		put_bytes(w, src, 6);
		put_u16(w, next);
		break;
	case FRAME_LINK_SLL:
		put_u16(w, broadcast ? 1 : 0);	/* to us / broadcast */
		put_u16(w, ARPHRD_ETHER_VAL);
		put_u16(w, 6);
		put_bytes(w, src, 6);
		put_zero(w, 2);
		put_u16(w, next);
		break;
	case FRAME_LINK_SLL2:
		put_u16(w, next);
		put_zero(w, 2);
		put_u32(w, 1);			/* interface index */
		put_u16(w, ARPHRD_ETHER_VAL);
		put_u8(w, broadcast ? 1 : 0);
		put_u8(w, 6);
		put_bytes(w, src, 6);
		put_zero(w, 2);
		break;
	case FRAME_LINK_NULL:
		/* The family is in the capturing host's byte order. */
		family = next == ETHERTYPE_IPV6 ? NULL_AF_INET6 : NULL_AF_INET;
		put_bytes(w, &family, sizeof(family));
		break;
	case FRAME_LINK_RAW:
	default:
		break;
	}
}

/* Link header, VLAN tags and (for IP only) MPLS labels in front of `inner`. */
static void
put_l2(struct writer *w, const struct frame_spec *s, uint16_t inner, bool ip)
{
	size_t n_mpls = ip ? s->n_mpls : 0;
	uint16_t next;

	next = n_mpls > 0 ? ETHERTYPE_MPLS : inner;
	put_link(w, s, s->n_vlan > 0 ? ETHERTYPE_VLAN : next, !ip);
	for (size_t i = 0; i < s->n_vlan; i++) {
		put_u16(w, s->vlan[i] & 0x0fff);	/* PCP 0, DEI 0 */
		put_u16(w, i + 1 < s->n_vlan ? ETHERTYPE_VLAN : next);
	}
	for (size_t i = 0; i < n_mpls; i++) {
		uint32_t bos = i + 1 == n_mpls ? 0x100 : 0;

		put_u32(w, (s->mpls[i] & 0xfffff) << 12 | bos | 64);
	}
}

static int
check_spec(const struct frame_spec *s)
{
	if ((unsigned)s->link >= FRAME_LINK_COUNT ||
	    s->n_vlan > FRAME_MAX_VLAN || s->n_mpls > FRAME_MAX_MPLS)
		return -1;
	if (!link_has_ethertype(s->link) && (s->n_vlan > 0 || s->n_mpls > 0))
		return -1;
	if (s->src.family != s->dst.family ||
	    (s->src.family != AF_INET && s->src.family != AF_INET6))
		return -1;
	switch (s->l4proto) {
	case FRAME_IPPROTO_UDP:
	case FRAME_IPPROTO_TCP:
		return 0;
	case FRAME_IPPROTO_ICMP:
		return s->src.family == AF_INET && s->payload_len >= 4 ? 0 : -1;
	case FRAME_IPPROTO_ICMPV6:
		return s->src.family == AF_INET6 && s->payload_len >= 4 ? 0 : -1;
	default:
		return -1;
	}
}

static size_t
l4_hdr_len(const struct frame_spec *s)
{
	switch (s->l4proto) {
	case FRAME_IPPROTO_UDP:
		return UDP_HDR_LEN;
	case FRAME_IPPROTO_TCP:
		return TCP_HDR_LEN;
	default:
		return 0;	/* ICMP: the payload is the whole message */
	}
}

/* Sum of the IPv4 or IPv6 pseudo-header for an upper layer of l4len bytes. */
static uint32_t
sum_pseudo(const struct frame_spec *s, size_t l4len)
{
	uint8_t tail[8];
	uint32_t sum;

	if (s->src.family == AF_INET) {
		sum = sum_bytes(0, (const uint8_t *)&s->src.v4, 4);
		sum = sum_bytes(sum, (const uint8_t *)&s->dst.v4, 4);
		tail[0] = 0;
		tail[1] = s->l4proto;
		be16_store(tail + 2, (uint16_t)l4len);
		return sum_bytes(sum, tail, 4);
	}
	sum = sum_bytes(0, s->src.v6.s6_addr, 16);
	sum = sum_bytes(sum, s->dst.v6.s6_addr, 16);
	be32_store(tail, (uint32_t)l4len);
	tail[4] = tail[5] = tail[6] = 0;
	tail[7] = s->l4proto;
	return sum_bytes(sum, tail, 8);
}

/* The UDP or TCP header, checksum over the whole datagram included. */
static size_t
make_l4_hdr(const struct frame_spec *s, uint8_t hdr[TCP_HDR_LEN])
{
	size_t hlen = l4_hdr_len(s), l4len = hlen + s->payload_len;
	/* The header fits by construction: no failure to check. */
	struct writer w = wr_init(hdr, TCP_HDR_LEN);
	uint16_t ck;
	size_t ckoff;

	if (hlen == 0)
		return 0;
	put_u16(&w, s->sport);
	put_u16(&w, s->dport);
	if (s->l4proto == FRAME_IPPROTO_UDP) {
		put_u16(&w, (uint16_t)l4len);
		put_u16(&w, 0);
		ckoff = 6;
	} else {
		put_u32(&w, s->seq);
		put_u32(&w, s->ack);
		put_u8(&w, (TCP_HDR_LEN / 4) << 4);
		put_u8(&w, s->tcp_flags);
		put_u16(&w, s->window != 0 ? s->window : 65535);
		put_u32(&w, 0);			/* checksum, urgent pointer */
		ckoff = 16;
	}
	ck = sum_finish(sum_bytes(sum_bytes(sum_pseudo(s, l4len), hdr, hlen),
	    s->payload, s->payload_len));
	/* UDP sends 0 for "no checksum", so a computed 0 goes out as 0xffff. */
	if (ck == 0 && s->l4proto == FRAME_IPPROTO_UDP)
		ck = 0xffff;
	patch_u16(&w, ckoff, ck);
	return hlen;
}

static void
put_ipv4(struct writer *w, const struct frame_spec *s, size_t len, size_t off,
    bool frag, bool more)
{
	size_t start = wr_len(w);
	uint16_t fl = frag ? (uint16_t)(off / 8 | (more ? 0x2000 : 0)) : 0;

	put_u8(w, 0x45);
	put_u8(w, 0);
	put_u16(w, (uint16_t)(IPV4_HDR_LEN + len));
	put_u16(w, (uint16_t)s->ip_id);
	put_u16(w, fl);
	put_u8(w, s->ttl != 0 ? s->ttl : 64);
	put_u8(w, s->l4proto);
	put_u16(w, 0);
	put_bytes(w, &s->src.v4, 4);
	put_bytes(w, &s->dst.v4, 4);
	if (wr_ok(w))		/* the checksum is over the header's bytes */
		patch_u16(w, start + 10,
		    frame_cksum(w->p + start, IPV4_HDR_LEN));
}

static void
put_ipv6(struct writer *w, const struct frame_spec *s, size_t len, size_t off,
    bool frag, bool more)
{
	put_u32(w, 0x60000000);		/* version, class 0, flow 0 */
	put_u16(w, (uint16_t)(len + (frag ? IPV6_FRAG_LEN : 0)));
	put_u8(w, frag ? IPV6_NH_FRAGMENT : s->l4proto);
	put_u8(w, s->ttl != 0 ? s->ttl : 64);
	put_bytes(w, s->src.v6.s6_addr, 16);
	put_bytes(w, s->dst.v6.s6_addr, 16);
	if (frag) {
		put_u8(w, s->l4proto);
		put_u8(w, 0);
		put_u16(w, (uint16_t)(off | (more ? 1 : 0)));
		put_u32(w, s->ip_id);
	}
}

/* ICMP messages carry their own checksum (ICMPv6's over a pseudo-header too). */
static void
fix_icmp(const struct frame_spec *s, uint8_t *msg)
{
	uint32_t sum = 0;
	uint16_t ck;

	be16_store(msg + 2, 0);
	if (s->l4proto == FRAME_IPPROTO_ICMPV6)
		sum = sum_pseudo(s, s->payload_len);
	ck = sum_finish(sum_bytes(sum, msg, s->payload_len));
	be16_store(msg + 2, ck);
}

/*
 * Build bytes [off, off + len) of the upper-layer datagram (header and
 * payload) into one frame; frag says whether that slice is an IP fragment.
 */
static ssize_t
build(const struct frame_spec *s, size_t off, size_t len, bool frag,
    bool more, uint8_t *buf, size_t cap)
{
	struct writer w = wr_init(buf, cap);
	uint8_t hdr[TCP_HDR_LEN];
	size_t hlen, pstart, pend;
	bool v4 = s->src.family == AF_INET;

	hlen = make_l4_hdr(s, hdr);
	put_l2(&w, s, v4 ? ETHERTYPE_IPV4 : ETHERTYPE_IPV6, true);
	if (v4)
		put_ipv4(&w, s, len, off, frag, more);
	else
		put_ipv6(&w, s, len, off, frag, more);
	if (off < hlen)
		put_bytes(&w, hdr + off, hlen - off);
	pstart = off > hlen ? off - hlen : 0;
	pend = off + len - hlen;
	put_bytes(&w, s->payload + pstart, pend - pstart);
	if (!wr_ok(&w)) {
		errno = ENOSPC;
		return -1;
	}
	if (s->l4proto == FRAME_IPPROTO_ICMP ||
	    s->l4proto == FRAME_IPPROTO_ICMPV6)
		fix_icmp(s, buf + wr_len(&w) - s->payload_len);
	return (ssize_t)wr_len(&w);
}

ssize_t
frame_build(const struct frame_spec *s, uint8_t *buf, size_t cap)
{
	size_t l4len;

	if (check_spec(s) == -1) {
		errno = EINVAL;
		return -1;
	}
	l4len = l4_hdr_len(s) + s->payload_len;
	if (l4len + (s->src.family == AF_INET ? IPV4_HDR_LEN : 0) >
	    IP_MAXPACKET_LEN) {
		errno = EMSGSIZE;
		return -1;
	}
	return build(s, 0, l4len, false, false, buf, cap);
}

size_t
frame_frag_count(const struct frame_spec *s, size_t max_payload)
{
	size_t l4len = l4_hdr_len(s) + s->payload_len;

	if (max_payload < 8 || l4len <= max_payload)
		return 1;
	max_payload &= ~(size_t)7;
	return (l4len + max_payload - 1) / max_payload;
}

ssize_t
frame_build_frag(const struct frame_spec *s, size_t max_payload,
    size_t index, uint8_t *buf, size_t cap)
{
	size_t n = frame_frag_count(s, max_payload), l4len, off, len;

	if (n == 1 && index == 0)
		return frame_build(s, buf, cap);
	if (check_spec(s) == -1 || s->l4proto != FRAME_IPPROTO_UDP ||
	    max_payload % 8 != 0 || index >= n) {
		errno = EINVAL;
		return -1;
	}
	l4len = UDP_HDR_LEN + s->payload_len;
	if (l4len > IP_MAXPACKET_LEN - IPV4_HDR_LEN) {
		errno = EMSGSIZE;
		return -1;
	}
	off = index * max_payload;
	len = l4len - off < max_payload ? l4len - off : max_payload;
	return build(s, off, len, true, index + 1 < n, buf, cap);
}

ssize_t
frame_build_nonip(const struct frame_spec *s, uint16_t ethertype,
    const uint8_t *body, size_t body_len, uint8_t *buf, size_t cap)
{
	struct writer w = wr_init(buf, cap);

	if ((unsigned)s->link >= FRAME_LINK_COUNT ||
	    !link_has_ethertype(s->link) || s->n_vlan > FRAME_MAX_VLAN) {
		errno = EINVAL;
		return -1;
	}
	put_l2(&w, s, ethertype, false);
	put_bytes(&w, body, body_len);
	if (!wr_ok(&w)) {
		errno = ENOSPC;
		return -1;
	}
	return (ssize_t)wr_len(&w);
}

void
frame_tcp_segment(struct frame_tcp *c, bool from_a, uint8_t flags,
    const uint8_t *data, size_t len, struct frame_spec *s)
{
	uint32_t *snd = from_a ? &c->a_nxt : &c->b_nxt;

	s->l4proto = FRAME_IPPROTO_TCP;
	s->src = from_a ? c->a : c->b;
	s->dst = from_a ? c->b : c->a;
	s->sport = from_a ? c->aport : c->bport;
	s->dport = from_a ? c->bport : c->aport;
	s->seq = *snd;
	s->ack = (flags & TR_TCP_ACK) ? (from_a ? c->b_nxt : c->a_nxt) : 0;
	s->tcp_flags = flags;
	s->payload = data;
	s->payload_len = len;
	*snd += (uint32_t)len +
	    ((flags & (TR_TCP_SYN | TR_TCP_FIN)) ? 1 : 0);
}
