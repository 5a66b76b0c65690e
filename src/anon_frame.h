/* One captured frame pseudonymized in place: its link header's MAC addresses, its outermost IP header's addresses, and the checksums over them. */
#ifndef TR_ANON_FRAME_H
#define TR_ANON_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "anon_addr.h"

/* What anon_frame() did, summed over a run (for the closing line). */
struct anon_frame_stats {
	uint64_t	frames;
	uint64_t	ip_headers;	/* IPv4/IPv6 headers whose addresses were mapped */
	uint64_t	arp;		/* ARP bodies whose addresses were mapped */
	uint64_t	cut_addresses;	/* addresses the capture cut short: their bytes mapped as a prefix */
	uint64_t	l4_recomputed;	/* UDP/TCP/ICMPv6 checksums computed over the whole segment */
	uint64_t	l4_adjusted;	/* the same, adjusted for the new addresses (fragments, cut frames) */
	uint64_t	udp_kept;	/* UDP payloads left as captured: a cut datagram (or a fragment the capture cut, or one anon_frag does not hold), whose checksum can only be adjusted */
};

/* A whole UDP datagram, its payload to rewrite in place (its length kept) before the checksum is summed over it. */
struct anon_udp {
	const uint8_t	*src, *dst;	/* the addresses as captured, alen bytes each */
	size_t		 alen;		/* 4 or 16 */
	uint16_t	 sport, dport;
	uint8_t		*payload;
	size_t		 len;
};

/* Where the source found what anon_frame() rewrites past the link header: SOURCE_NO_L3 for none. */
struct anon_frame_at {
	size_t		l3_offset;	/* the outermost IP header */
	size_t		arp_offset;	/* an ARP body */
	/* The payload of each whole UDP datagram (NULL: as captured); -1 stops the frame (errno set). */
	int		(*udp_payload)(void *ctx, const struct anon_udp *);
	void		*ctx;
};

/*
 * Rewrite frame (caplen bytes of link type linktype, a DLT_* value) in
 * place: the MAC addresses of an Ethernet or Linux cooked header, the
 * source and destination of the IP header at->l3_offset (and of the header
 * an ICMP error quotes), with the IPv4 header checksum and the UDP, TCP,
 * ICMP or ICMPv6 checksum made right for the new addresses (and, first,
 * at->udp_payload's rewrite of a whole UDP datagram's payload); or an ARP
 * body's hardware and protocol addresses.  Other bytes past the headers stay
 * as they are.  A header the capture cut short has what it holds of its
 * addresses mapped as a prefix, so nothing of them survives.  Returns 0,
 * or -1 with errno set when libcrypto fails.
 */
int	anon_frame(struct anon_addr *, int linktype, uint8_t *frame,
	    uint32_t caplen, const struct anon_frame_at *,
	    struct anon_frame_stats *);

#endif
