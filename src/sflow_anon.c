/*
 * sFlow v5 datagrams pseudonymized in place: the agent address, and in
 * flow samples (compact, expanded) and discard samples, the records that
 * hold addresses: the sampled packet header (its MACs and IP header,
 * through anon_frame, as a captured frame's), sampled Ethernet, IPv4 and
 * IPv6, the extended router, gateway and MPLS next hops, NAT addresses and
 * the IPv4/IPv6 tunnel records.  Counter samples hold no address: left as
 * they are.  Stateless: nothing in a datagram depends on another.
 */
#include <stdbool.h>
#include <string.h>

#include <pcap/pcap.h>

#include "anon_frame.h"
#include "sflow.h"
#include "sflow_anon.h"
#include "source.h"
#include "writer.h"

#define ADDR_UNKNOWN	0
#define ADDR_IPV4	1
#define ADDR_IPV6	2

/* Flow record formats (enterprise 0) that hold addresses. */
enum {
	REC_SAMPLED_HEADER = 1,
	REC_SAMPLED_ETHERNET = 2,
	REC_SAMPLED_IPV4 = 3,
	REC_SAMPLED_IPV6 = 4,
	REC_EXT_ROUTER = 1002,
	REC_EXT_GATEWAY = 1003,
	REC_EXT_MPLS = 1006,
	REC_EXT_NAT = 1007,
	REC_EXT_IPV4_TUNNEL_EGRESS = 1023,
	REC_EXT_IPV4_TUNNEL_INGRESS = 1024,
	REC_EXT_IPV6_TUNNEL_EGRESS = 1025,
	REC_EXT_IPV6_TUNNEL_INGRESS = 1026,
};

/* The sampled header's protocol (sFlow's header_protocol). */
enum {
	HDR_ETHERNET = 1,
	HDR_IPV4 = 11,
	HDR_IPV6 = 12,
	HDR_MPLS = 13,
};

#define MAX_TAGS	8	/* VLAN tags or MPLS labels walked before giving up */

/* One datagram being rewritten: what it maps with, and whether it contradicted itself somewhere. */
struct walk {
	const struct anon_rewriter	*rw;
	bool				 malformed;
	bool				 failed;	/* libcrypto: the run stops */
};

static void
map(struct walk *w, uint8_t *p, size_t len)
{
	if (!w->failed && anon_addr_map_bytes(w->rw->addr, p, p, len) == -1)
		w->failed = true;
}

/*
 * An sFlow address (type, then 4 or 16 bytes) at the start of p (left
 * bytes): mapped; its length into *used, 0 when it does not fit or has an
 * unknown type (malformed).
 */
static void
map_address(struct walk *w, uint8_t *p, size_t left, size_t *used)
{
	uint32_t type;
	size_t alen;

	*used = 0;
	if (left < 4) {
		w->malformed = true;
		return;
	}
	type = be32_load(p);
	alen = type == ADDR_IPV4 ? 4 : type == ADDR_IPV6 ? 16 : 0;
	if ((type != ADDR_UNKNOWN && alen == 0) || left - 4 < alen) {
		w->malformed = true;
		return;
	}
	if (alen != 0)
		map(w, p + 4, alen);
	*used = 4 + alen;
}

/* Where an Ethernet frame's IP header or ARP body starts, past VLAN tags and MPLS labels. */
static void
ethernet_l3(const uint8_t *f, size_t len, size_t *l3, size_t *arp)
{
	size_t off = 12;
	uint16_t type = 0;

	*l3 = *arp = SOURCE_NO_L3;
	for (int tags = 0; tags <= MAX_TAGS; tags++) {
		if (off + 2 > len)
			return;
		type = be16_load(f + off);
		off += 2;
		if (type != 0x8100 && type != 0x88a8 && type != 0x9100)
			break;
		off += 2;	/* the tag's TCI; the next type follows */
	}
	switch (type) {
	case 0x0800:
	case 0x86dd:
		*l3 = off;
		break;
	case 0x0806:
		*arp = off;
		break;
	case 0x8847:
	case 0x8848:	/* labels up to the bottom of the stack, then IP by its version */
		for (int labels = 0; labels < MAX_TAGS && off + 4 <= len;
		    labels++) {
			off += 4;
			if (f[off - 2] & 1) {
				*l3 = off;
				break;
			}
		}
		break;
	default:
		break;
	}
}

/*
 * Where the transport's payload starts in the IP packet at ip (len bytes):
 * past the UDP or TCP header; ICMP and ICMPv6 keep their bodies (the
 * datagram an error quotes is rewritten by anon_frame); for anything else
 * (IPv6 extension headers, tunnels, routing protocols), right after the IP
 * header.  len when nothing of it is held.
 */
static size_t
payload_offset(const uint8_t *ip, size_t len)
{
	size_t hlen;
	uint8_t proto;

	if (len < 1)
		return len;
	if (ip[0] >> 4 == 4) {
		hlen = (size_t)(ip[0] & 0x0f) * 4;
		if (len < 20)
			return len;
		if (hlen < 20)		/* a header length that lies: the minimum's worth kept */
			hlen = 20;
		proto = ip[9];
		if (be16_load(ip + 6) & 0x1fff)	/* a later fragment: all payload */
			return hlen < len ? hlen : len;
	} else if (ip[0] >> 4 == 6) {
		hlen = 40;
		if (len < hlen)
			return len;
		proto = ip[6];
	} else {
		return 0;	/* not IP: nothing known to keep */
	}
	switch (proto) {
	case 1:		/* ICMP */
	case 58:	/* ICMPv6 */
		return len;
	case 17:	/* UDP */
		return hlen + 8 < len ? hlen + 8 : len;
	case 6:		/* TCP: its data offset */
		if (hlen + 13 > len)
			return len;
		hlen += (size_t)(ip[hlen + 12] >> 4) * 4;
		return hlen < len ? hlen : len;
	default:
		return hlen < len ? hlen : len;
	}
}

/*
 * A sampled packet header of hlen bytes (the capture's, usually cut): its
 * transport payload zeroed (what a flow collector reads, addresses, ports,
 * protocol, flags and lengths, is all in the headers; the payload is user
 * data and other protocols' addresses: BGP NLRI, NetFlow records, DNS),
 * then its link and IP addresses and checksums, as anon_frame does for a
 * frame (a whole datagram's checksum summed over the zeros).  A header of
 * a protocol whose addresses cannot be found is zeroed whole: its bytes
 * would otherwise leave as they are.
 */
static void
rewrite_header(struct walk *w, uint32_t protocol, uint8_t *h, size_t hlen)
{
	struct anon_frame_stats st = { 0 };
	struct anon_frame_at at = { .l3_offset = SOURCE_NO_L3,
	    .arp_offset = SOURCE_NO_L3 };
	int linktype = DLT_RAW;

	switch (protocol) {
	case HDR_ETHERNET:
		linktype = DLT_EN10MB;
		ethernet_l3(h, hlen, &at.l3_offset, &at.arp_offset);
		break;
	case HDR_IPV4:
	case HDR_IPV6:
		at.l3_offset = 0;
		break;
	case HDR_MPLS:
		for (int labels = 0; labels < MAX_TAGS &&
		    (size_t)(labels + 1) * 4 <= hlen; labels++)
			if (h[labels * 4 + 2] & 1) {
				at.l3_offset = (size_t)(labels + 1) * 4;
				break;
			}
		break;
	default:
		memset(h, 0, hlen);
		return;
	}
	if (at.l3_offset < hlen) {
		size_t off = at.l3_offset + payload_offset(h + at.l3_offset,
		    hlen - at.l3_offset);

		memset(h + off, 0, hlen - off);
	}
	if (!w->failed && anon_frame(w->rw->addr, linktype, h, (uint32_t)hlen,
	    &at, &st) == -1)
		w->failed = true;
}

/* sampled_header: protocol, frame length, stripped, header length, then the header (padded to 4). */
static void
sampled_header(struct walk *w, uint8_t *r, size_t len)
{
	uint32_t hlen;

	if (len < 16) {
		w->malformed = true;
		return;
	}
	hlen = be32_load(r + 12);
	if (hlen > len - 16) {	/* what the record holds of it still goes */
		w->malformed = true;
		hlen = (uint32_t)(len - 16);
	}
	rewrite_header(w, be32_load(r), r + 16, hlen);
}

/* A record of fixed layout: addresses of alen bytes at the offsets given, within need bytes. */
static void
fixed(struct walk *w, uint8_t *r, size_t len, size_t need, size_t alen,
    size_t first, size_t second)
{
	if (len < need) {
		w->malformed = true;
		return;
	}
	if (alen == 6) {
		if (!w->failed && (anon_mac_map(w->rw->addr, r + first,
		    r + first) == -1 || anon_mac_map(w->rw->addr, r + second,
		    r + second) == -1))
			w->failed = true;
		return;
	}
	map(w, r + first, alen);
	map(w, r + second, alen);
}

static void
flow_record(struct walk *w, uint32_t format, uint8_t *r, size_t len)
{
	size_t used;

	if (SFLOW_ENTERPRISE(format) != 0)
		return;
	switch (SFLOW_FORMAT(format)) {
	case REC_SAMPLED_HEADER:
		sampled_header(w, r, len);
		break;
	case REC_SAMPLED_ETHERNET:	/* length, src and dst MAC (each padded to 8), type */
		fixed(w, r, len, 24, 6, 4, 12);
		break;
	case REC_SAMPLED_IPV4:		/* length, protocol, src, dst, ports, flags, tos */
	case REC_EXT_IPV4_TUNNEL_EGRESS:
	case REC_EXT_IPV4_TUNNEL_INGRESS:
		fixed(w, r, len, 32, 4, 8, 12);
		break;
	case REC_SAMPLED_IPV6:		/* length, protocol, src, dst, ports, flags, priority */
	case REC_EXT_IPV6_TUNNEL_EGRESS:
	case REC_EXT_IPV6_TUNNEL_INGRESS:
		fixed(w, r, len, 56, 16, 8, 24);
		break;
	case REC_EXT_ROUTER:		/* next hop first; then masks */
	case REC_EXT_GATEWAY:		/* next hop first; AS numbers are not addresses */
	case REC_EXT_MPLS:		/* next hop first; then label stacks */
		map_address(w, r, len, &used);
		break;
	case REC_EXT_NAT:		/* source, destination */
		map_address(w, r, len, &used);
		if (used != 0)
			map_address(w, r + used, len - used, &used);
		break;
	default:	/* extended_switch and the others: no address */
		break;
	}
}

/* The records of a flow or discard sample, each within its own length. */
static void
flow_records(struct walk *w, uint8_t *d, size_t len,
    const struct sflow_sample *s)
{
	struct sflow_iter it;
	struct sflow_record r;
	int rc = 0;

	sflow_records_begin(d, len, s, &it);
	while (!w->failed && (rc = sflow_record_next(&it, &r)) == 1)
		flow_record(w, r.format, d + r.offset + 8, r.length);
	if (!w->failed && rc == -1)
		w->malformed = true;
}

static enum anon_msg_result
rewrite_datagram(void *state, const struct anon_rewriter *rw,
    struct anon_msg *m)
{
	struct walk w = { .rw = rw };
	struct sflow_header h;
	struct sflow_iter it;
	struct sflow_sample s;
	int rc = 0;

	(void)state;
	if (sflow_samples_begin(m->data, m->len, &it, &h) == -1)
		return ANON_MSG_MALFORMED;
	/* version, address type, then the agent */
	map(&w, m->data + 8, h.agent.family == AF_INET ? 4 : 16);
	while (!w.failed && (rc = sflow_sample_next(&it, &s)) == 1)
		if (s.space == SFLOW_SPACE_FLOW ||
		    s.space == SFLOW_SPACE_DISCARDS)
			flow_records(&w, m->data, m->len, &s);
	if (w.failed)
		return ANON_MSG_FAILED;
	return rc == -1 || w.malformed ? ANON_MSG_MALFORMED :
	    ANON_MSG_REWRITTEN;
}

/* The sflow descriptor's (sflow.c). */
const struct proto_anon sflow_anon = {
	.message = rewrite_datagram,
};
