/* One captured frame pseudonymized in place: MAC addresses, the outermost IP header's addresses (and an ICMP error's quoted ones), ARP, and the checksums that cover them. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <pcap/pcap.h>

#include "anon_frame.h"
#include "frame_build.h"
#include "source.h"
#include "writer.h"

#define MAC_LEN		6
#define IPV4_MIN_HDR	20
#define IPV6_HDR	40
#define UDP_HDR		8
#define IPV6_MAX_EXT	16	/* as the source's cap on extension headers */

enum {
	NH_HOPOPTS = 0,
	NH_ICMP = 1,
	NH_TCP = 6,
	NH_UDP = 17,
	NH_ROUTING = 43,
	NH_FRAGMENT = 44,
	NH_AH = 51,
	NH_ICMPV6 = 58,
	NH_DSTOPTS = 60,
};

/* Where an upper layer's checksum is, and what its pseudo-header holds. */
struct l4 {
	uint8_t		 proto;
	uint8_t		*hdr;		/* the UDP/TCP/ICMP/ICMPv6 header */
	size_t		 avail;		/* captured bytes from hdr on */
	size_t		 len;		/* its length per the IP header */
	bool		 whole;		/* all of it is in this frame: computed anew */
	bool		 dst_in_pseudo;	/* false under an IPv6 routing header with segments left: the pseudo-header has its final destination, not ours */
};

/*
 * Map an address of len bytes of which the capture holds `have`.  A cut
 * address is mapped as the prefix it is: Crypto-PAn's first n output
 * bits depend only on the first n input bits, so zeros after them do not
 * change what is written.
 */
static int
map_addr(struct anon_addr *a, uint8_t *p, size_t have, size_t len,
    struct anon_frame_stats *st)
{
	uint8_t full[16] = { 0 };

	if (have >= len)
		return anon_addr_map_bytes(a, p, p, len);
	if (have == 0)
		return 0;
	st->cut_addresses++;
	memcpy(full, p, have);
	if (anon_addr_map_bytes(a, full, full, len) == -1)
		return -1;
	memcpy(p, full, have);
	return 0;
}

/* A MAC address the capture may have cut: mapped when whole, its captured bytes zeroed otherwise (MACs have no prefix to keep). */
static int
map_mac(struct anon_addr *a, uint8_t *p, size_t have)
{
	if (have >= MAC_LEN)
		return anon_mac_map(a, p, p);
	memset(p, 0, have);
	return 0;
}

static size_t
left(size_t caplen, size_t off)
{
	return off < caplen ? caplen - off : 0;
}

/* A link-layer address of a Linux cooked header: addr_len bytes at off, in an 8-byte field. */
static int
map_sll_addr(struct anon_addr *a, uint8_t *frame, size_t caplen,
    size_t len_off, size_t addr_off, bool len16)
{
	size_t alen, have = left(caplen, addr_off);

	if (caplen < len_off + (len16 ? 2 : 1))
		return 0;
	alen = len16 ? be16_load(frame + len_off) : frame[len_off];
	if (alen > 8)		/* longer addresses (InfiniBand) are cut to 8 */
		alen = 8;
	if (have > alen)
		have = alen;
	if (alen == MAC_LEN)
		return map_mac(a, frame + addr_off, have);
	memset(frame + addr_off, 0, have);
	return 0;
}

static int
map_link(struct anon_addr *a, int linktype, uint8_t *frame, size_t caplen)
{
	switch (linktype) {
	case DLT_EN10MB:	/* destination, source */
		if (map_mac(a, frame, caplen) == -1)
			return -1;
		return caplen > MAC_LEN ?
		    map_mac(a, frame + MAC_LEN, caplen - MAC_LEN) : 0;
	case DLT_LINUX_SLL:	/* type, ARPHRD, address length (16 bits), address */
		return map_sll_addr(a, frame, caplen, 4, 6, true);
	case DLT_LINUX_SLL2:	/* protocol, reserved, ifindex, ARPHRD, type, length (8 bits), address */
		return map_sll_addr(a, frame, caplen, 11, 12, false);
	default:		/* raw IP and BSD loopback have no link addresses */
		return 0;
	}
}

static void
store_l4_cksum(const struct l4 *l, uint8_t *ck, uint16_t v)
{
	/* UDP sends 0 for "no checksum", so a computed 0 goes out as 0xffff. */
	if (l->proto == NH_UDP && v == 0)
		v = 0xffff;
	be16_store(ck, v);
}

/* RFC 1624: the checksum adjusted for words that changed from old to new (n even, or the end of what the checksum covers). */
static uint16_t
cksum_adjust(uint16_t ck, const uint8_t *old, const uint8_t *new, size_t n)
{
	uint8_t inv[64];
	uint32_t sum = (uint16_t)~ck;

	for (size_t done = 0; done < n; done += sizeof(inv)) {
		size_t k = n - done < sizeof(inv) ? n - done : sizeof(inv);

		for (size_t i = 0; i < k; i++)
			inv[i] = (uint8_t)~old[done + i];
		sum = frame_cksum_add(sum, inv, k);
		sum = frame_cksum_add(sum, new + done, k);
	}
	return frame_cksum_finish(sum);
}

static size_t
cksum_offset(uint8_t proto)
{
	switch (proto) {
	case NH_UDP:
		return 6;
	case NH_TCP:
		return 16;
	case NH_ICMPV6:
		return 2;
	default:
		return 0;
	}
}

/*
 * The upper layer's checksum for the new addresses (old and new: source
 * then destination, alen bytes each).  A segment that is all here is
 * summed anew over the pseudo-header; a first fragment or a cut frame
 * holds only part of what its checksum covers, so the checksum is adjusted
 * by the change in the addresses, which is exact as long as the payload
 * is unchanged.
 */
static void
fix_l4(struct l4 *l, const uint8_t *old, const uint8_t *new, size_t alen,
    struct anon_frame_stats *st)
{
	size_t off = cksum_offset(l->proto);
	uint8_t tail[8] = { 0 };
	uint8_t *ck;
	uint32_t sum;

	if (off == 0 || l->avail < off + 2)
		return;
	ck = l->hdr + off;
	if (l->proto == NH_UDP && alen == 4 && be16_load(ck) == 0)
		return;		/* IPv4 UDP without a checksum */
	if (!l->whole || !l->dst_in_pseudo) {
		/* Without our destination in the pseudo-header, only the source's change counts. */
		size_t n = l->dst_in_pseudo ? 2 * alen : alen;

		store_l4_cksum(l, ck, cksum_adjust(be16_load(ck), old, new, n));
		st->l4_adjusted++;
		return;
	}
	be16_store(ck, 0);
	sum = frame_cksum_add(0, new, 2 * alen);
	if (alen == 4) {
		tail[1] = l->proto;
		be16_store(tail + 2, (uint16_t)l->len);
		sum = frame_cksum_add(sum, tail, 4);
	} else {
		be32_store(tail, (uint32_t)l->len);
		tail[7] = l->proto;
		sum = frame_cksum_add(sum, tail, 8);
	}
	sum = frame_cksum_add(sum, l->hdr, l->len);
	store_l4_cksum(l, ck, frame_cksum_finish(sum));
	st->l4_recomputed++;
}

/*
 * ICMP and ICMPv6 errors quote the start of the datagram that caused them
 * (a collector's port unreachable, for one): its IP header holds addresses
 * as well, which tshark shows as the packet's.  Up to this many of its
 * bytes are compared to adjust the error's checksum when the frame does not
 * hold all it covers (a quote as long as IPv6's minimum MTU allows).
 */
#define QUOTE_MAX	1280

struct quote {
	uint8_t		*at;		/* NULL: the frame quotes nothing */
	size_t		 n;		/* bytes kept in old */
	uint8_t		 old[QUOTE_MAX];
};

static int anon_ipv4(struct anon_addr *, uint8_t *, size_t,
	    const struct anon_frame_at *, struct anon_frame_stats *);
static int anon_ipv6(struct anon_addr *, uint8_t *, size_t,
	    const struct anon_frame_at *, struct anon_frame_stats *);

static bool
icmp_error(uint8_t proto, uint8_t type)
{
	if (proto == NH_ICMP)	/* unreachable, source quench, redirect, time exceeded, parameter problem */
		return type == 3 || type == 4 || type == 5 || type == 11 ||
		    type == 12;
	return proto == NH_ICMPV6 && type >= 1 && type <= 4;
}

/* Rewrite an ICMP error's quoted datagram (never a quote's quote), keeping what it was in q. */
static int
anon_quote(struct anon_addr *a, const struct l4 *l, struct quote *q,
    struct anon_frame_stats *st)
{
	size_t avail;

	q->at = NULL;
	if (l->avail <= 8 || !icmp_error(l->proto, l->hdr[0]))
		return 0;
	q->at = l->hdr + 8;
	avail = l->avail - 8;
	q->n = avail < QUOTE_MAX ? avail : QUOTE_MAX;
	memcpy(q->old, q->at, q->n);
	switch (q->at[0] >> 4) {
	case 4:
		return anon_ipv4(a, q->at, avail, NULL, st);
	case 6:
		return anon_ipv6(a, q->at, avail, NULL, st);
	default:
		return 0;
	}
}

/* The error's checksum after its quote changed: computed anew when the frame holds the whole message. */
static void
fix_quote_cksum(const struct l4 *l, const struct quote *q)
{
	uint8_t *ck;

	if (q->at == NULL)
		return;
	ck = l->hdr + 2;
	if (l->proto == NH_ICMP && l->whole) {
		be16_store(ck, 0);
		be16_store(ck, frame_cksum(l->hdr, l->len));
	} else if (!l->whole || !l->dst_in_pseudo) {
		be16_store(ck, cksum_adjust(be16_load(ck), q->old, q->at, q->n));
	}
	/* Otherwise fix_l4 summed the whole ICMPv6 message, quote rewritten. */
}

/*
 * A UDP datagram's payload goes to at->udp_payload when the checksum is
 * then summed anew over it; a first fragment or a cut datagram holds only
 * part of it, and its checksum could only be adjusted for what the frame
 * holds, so its payload stays as captured (counted).  addrs: source and
 * destination as captured.
 */
static int
rewrite_udp(const struct l4 *l, const uint8_t *addrs, size_t alen,
    const struct anon_frame_at *at, struct anon_frame_stats *st)
{
	size_t ulen;

	if (at == NULL || at->udp_payload == NULL || l->proto != NH_UDP ||
	    l->avail <= UDP_HDR)
		return 0;
	if (!l->whole || !l->dst_in_pseudo) {
		st->udp_kept++;
		return 0;
	}
	ulen = be16_load(l->hdr + 4);
	if (ulen <= UDP_HDR || ulen > l->len)
		return 0;	/* no payload, or a length its IP header contradicts */
	return at->udp_payload(at->ctx, &(struct anon_udp){ .src = addrs,
	    .dst = addrs + alen, .alen = alen, .sport = be16_load(l->hdr),
	    .dport = be16_load(l->hdr + 2), .payload = l->hdr + UDP_HDR,
	    .len = ulen - UDP_HDR });
}

/* at is NULL for a header an ICMP error quotes. */
static int
anon_ipv4(struct anon_addr *a, uint8_t *ip, size_t avail,
    const struct anon_frame_at *at, struct anon_frame_stats *st)
{
	bool quoted = at == NULL;
	struct quote q;	/* not zeroed: 1280 bytes a frame, for the few that quote */
	uint8_t old[8], new[8];
	size_t hlen = (size_t)(ip[0] & 0x0f) * 4;
	uint16_t total, fragw;
	struct l4 l = { .dst_in_pseudo = true };

	q.at = NULL;
	if (avail >= IPV4_MIN_HDR)
		memcpy(old, ip + 12, 8);
	if (map_addr(a, ip + 12, left(avail, 12), 4, st) == -1 ||
	    map_addr(a, ip + 16, left(avail, 16), 4, st) == -1)
		return -1;
	st->ip_headers++;
	if (avail < IPV4_MIN_HDR || hlen < IPV4_MIN_HDR || hlen > avail)
		return 0;
	memcpy(new, ip + 12, 8);
	be16_store(ip + 10, 0);
	be16_store(ip + 10, frame_cksum(ip, hlen));

	total = be16_load(ip + 2);
	fragw = be16_load(ip + 6);
	if ((fragw & 0x1fff) != 0)	/* a later fragment: no upper-layer header */
		return 0;
	l.proto = ip[9];
	l.hdr = ip + hlen;
	l.avail = avail - hlen;
	/* A zero total length (an offloaded super-packet) leaves the length unknown. */
	l.whole = (fragw & 0x2000) == 0 && total > hlen && total <= avail;
	l.len = l.whole ? total - hlen : 0;
	if (l.proto == NH_ICMP) {	/* no pseudo-header: only a quote changes it */
		if (!quoted && anon_quote(a, &l, &q, st) == -1)
			return -1;
		fix_quote_cksum(&l, &q);
		return 0;
	}
	if (l.proto == NH_ICMPV6)	/* not over IPv4 */
		return 0;
	if (rewrite_udp(&l, old, 4, at, st) == -1)
		return -1;
	fix_l4(&l, old, new, 4, st);
	return 0;
}

/* Walk IPv6 extension headers to the upper layer; false when there is none in this frame. */
static bool
ipv6_upper(uint8_t *ip, size_t end, struct l4 *l)
{
	uint8_t nh = ip[6];
	size_t off = IPV6_HDR;

	for (int i = 0; i < IPV6_MAX_EXT; i++) {
		size_t hlen;

		switch (nh) {
		case NH_HOPOPTS:
		case NH_ROUTING:
		case NH_DSTOPTS:
		case NH_AH:
			if (off + 2 > end)
				return false;
			hlen = nh == NH_AH ? ((size_t)ip[off + 1] + 2) * 4 :
			    ((size_t)ip[off + 1] + 1) * 8;
			if (nh == NH_ROUTING && off + 4 <= end &&
			    ip[off + 3] != 0)	/* segments left */
				l->dst_in_pseudo = false;
			nh = ip[off];
			off += hlen;
			break;
		case NH_FRAGMENT:
			if (off + 8 > end || (be16_load(ip + off + 2) & 0xfff8) != 0)
				return false;	/* cut, or a later fragment */
			if (ip[off + 3] & 1)
				l->whole = false;
			nh = ip[off];
			off += 8;
			break;
		default:
			if (off > end)
				return false;
			l->proto = nh;
			l->hdr = ip + off;
			l->avail = end - off;
			l->len = l->avail;
			return true;
		}
	}
	return false;
}

static int
anon_ipv6(struct anon_addr *a, uint8_t *ip, size_t avail,
    const struct anon_frame_at *at, struct anon_frame_stats *st)
{
	bool quoted = at == NULL;
	struct quote q;	/* not zeroed: 1280 bytes a frame, for the few that quote */
	uint8_t old[32], new[32];
	struct l4 l = { .whole = true, .dst_in_pseudo = true };
	size_t plen, end;

	q.at = NULL;
	if (avail >= IPV6_HDR)
		memcpy(old, ip + 8, 32);
	if (map_addr(a, ip + 8, left(avail, 8), 16, st) == -1 ||
	    map_addr(a, ip + 24, left(avail, 24), 16, st) == -1)
		return -1;
	st->ip_headers++;
	if (avail < IPV6_HDR)
		return 0;
	memcpy(new, ip + 8, 32);
	plen = be16_load(ip + 4);
	/* Zero: a jumbogram or an offloaded super-packet, whose length the frame does not prove. */
	if (plen == 0 || IPV6_HDR + plen > avail)
		l.whole = false;
	end = plen == 0 || IPV6_HDR + plen > avail ? avail : IPV6_HDR + plen;
	if (!ipv6_upper(ip, end, &l))
		return 0;
	if (!quoted && l.proto == NH_ICMPV6 && anon_quote(a, &l, &q, st) == -1)
		return -1;
	if (rewrite_udp(&l, old, 16, at, st) == -1)
		return -1;
	fix_l4(&l, old, new, 16, st);
	fix_quote_cksum(&l, &q);
	return 0;
}

/*
 * ARP (RFC 826): sender and target hardware and protocol addresses, each
 * pair as long as the header says.  Ethernet and IPv4 are mapped as
 * everywhere else (an unset target MAC stays unset); other kinds are
 * zeroed, as nothing maps them.
 */
static int
map_arp_hw(struct anon_addr *a, uint8_t *p, size_t have, size_t hlen)
{
	static const uint8_t unset[MAC_LEN] = { 0 };

	if (hlen != MAC_LEN) {
		memset(p, 0, have < hlen ? have : hlen);
		return 0;
	}
	/* A request's target MAC is unset: it says nothing, and stays so. */
	if (have >= MAC_LEN && memcmp(p, unset, MAC_LEN) == 0)
		return 0;
	return map_mac(a, p, have);
}

static int
anon_arp(struct anon_addr *a, uint8_t *arp, size_t avail,
    struct anon_frame_stats *st)
{
	size_t hlen, plen, off = 8;

	if (avail < 8)
		return 0;
	hlen = arp[4];
	plen = arp[5];
	for (int side = 0; side < 2 && off < avail; side++) {
		if (map_arp_hw(a, arp + off, avail - off, hlen) == -1)
			return -1;
		off += hlen;
		if (off >= avail)
			break;
		if (plen == 4) {
			if (map_addr(a, arp + off, avail - off, 4, st) == -1)
				return -1;
		} else {
			memset(arp + off, 0,
			    avail - off < plen ? avail - off : plen);
		}
		off += plen;
	}
	st->arp++;
	return 0;
}

int
anon_frame(struct anon_addr *a, int linktype, uint8_t *frame,
    uint32_t caplen, const struct anon_frame_at *at,
    struct anon_frame_stats *st)
{
	uint8_t *ip;
	size_t avail;

	st->frames++;
	if (map_link(a, linktype, frame, caplen) == -1)
		return -1;
	if (at->arp_offset < caplen)
		return anon_arp(a, frame + at->arp_offset,
		    caplen - at->arp_offset, st);
	if (at->l3_offset == SOURCE_NO_L3 || at->l3_offset >= caplen)
		return 0;
	ip = frame + at->l3_offset;
	avail = caplen - at->l3_offset;
	switch (ip[0] >> 4) {
	case 4:
		return anon_ipv4(a, ip, avail, at, st);
	case 6:
		return anon_ipv6(a, ip, avail, at, st);
	default:
		return 0;
	}
}
