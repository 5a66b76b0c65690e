/* Frame builders for tests and tools: link header, VLAN/MPLS, IPv4/IPv6, UDP/TCP with correct checksums. */
#ifndef TR_FRAME_BUILD_H
#define TR_FRAME_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "addr.h"

enum frame_link {
	FRAME_LINK_EN10MB,	/* Ethernet II */
	FRAME_LINK_SLL,		/* Linux cooked v1 ("any" device) */
	FRAME_LINK_SLL2,	/* Linux cooked v2 */
	FRAME_LINK_RAW,		/* bare IPv4/IPv6 */
	FRAME_LINK_NULL,	/* BSD loopback: 4-byte address family, host order */
	FRAME_LINK_COUNT,
};

extern const char *const frame_link_names[FRAME_LINK_COUNT];	/* "en10mb", "sll", ... */

/* The libpcap DLT_* value to give pcapw_open() or source_new_decoder(). */
int	frame_link_dlt(enum frame_link);
/* By name as in frame_link_names; 0, or -1 if unknown. */
int	frame_link_parse(const char *name, enum frame_link *out);

#define FRAME_IPPROTO_ICMP	1
#define FRAME_IPPROTO_TCP	6
#define FRAME_IPPROTO_UDP	17
#define FRAME_IPPROTO_ICMPV6	58

#define FRAME_MAX_VLAN	4
#define FRAME_MAX_MPLS	8
/* Room for every header frame_build() can put before the payload. */
#define FRAME_MAX_HDR	160
/* An IP datagram cannot be longer; a buffer this big fits any frame. */
#define FRAME_MAX_LEN	(FRAME_MAX_HDR + 65535)

/*
 * One frame to build.  Zero-initialize and fill in what matters: a zero
 * window means 65535, a zero ttl means 64.  Ethernet MAC addresses are
 * derived from the IP addresses (frame_mac()) so that every host keeps one.
 */
struct frame_spec {
	enum frame_link	 link;
	uint16_t	 vlan[FRAME_MAX_VLAN];	/* VLAN IDs (12 bits), outermost first */
	size_t		 n_vlan;		/* not for RAW/NULL links */
	uint32_t	 mpls[FRAME_MAX_MPLS];	/* labels (20 bits), outermost first */
	size_t		 n_mpls;		/* not for RAW/NULL links */
	struct tr_addr	 src;
	struct tr_addr	 dst;			/* same family as src */
	uint8_t		 l4proto;		/* FRAME_IPPROTO_* */
	uint16_t	 sport, dport;		/* UDP/TCP */
	uint32_t	 seq, ack;		/* TCP */
	uint8_t		 tcp_flags;		/* TCP, TR_TCP_* bits */
	uint16_t	 window;		/* TCP */
	uint32_t	 ip_id;			/* IPv4 id (low 16 bits) or IPv6 fragment id */
	uint8_t		 ttl;			/* IPv4 TTL / IPv6 hop limit */
	/*
	 * The UDP/TCP payload.  For ICMP and ICMPv6 it is the whole ICMP
	 * message; its checksum field (bytes 2-3) is filled in.
	 */
	const uint8_t	*payload;
	size_t		 payload_len;
};

/*
 * Write the whole frame into buf.  Returns its length, or -1 with errno:
 * ENOSPC if cap is too small, EMSGSIZE if the datagram exceeds IP's 64 KiB,
 * EINVAL for an inconsistent spec (families differ, VLAN on a raw link...).
 */
ssize_t	frame_build(const struct frame_spec *, uint8_t *buf, size_t cap);

/*
 * IP fragmentation of a UDP datagram (spec->l4proto must be UDP): each
 * fragment carries at most max_payload bytes (a multiple of 8, at least 8)
 * of the UDP datagram, header included; IPv6 fragments get a Fragment
 * extension header with id spec->ip_id.  frame_frag_count() says how many
 * frames there are (1: the datagram fits and is built unfragmented, as by
 * frame_build()), and frame_build_frag() writes fragment index (0-based;
 * fragment 0 holds the UDP header with the checksum of the whole datagram).
 */
size_t	frame_frag_count(const struct frame_spec *, size_t max_payload);
ssize_t	frame_build_frag(const struct frame_spec *, size_t max_payload,
	    size_t index, uint8_t *buf, size_t cap);

/*
 * A frame that is not IP (ARP, LLDP, ...): link header and VLAN tags of
 * spec with the given ethertype, then body.  Only for links with an
 * ethertype (Ethernet, SLL, SLL2); the destination MAC is broadcast.
 */
ssize_t	frame_build_nonip(const struct frame_spec *, uint16_t ethertype,
	    const uint8_t *body, size_t body_len, uint8_t *buf, size_t cap);

/*
 * A TCP connection being written out (tr-pcapgen's sessions, -p's
 * re-segmented ones): a is the side that opened it (the exporter), b the
 * other; each side's next sequence number.
 */
struct frame_tcp {
	struct tr_addr	a, b;
	uint16_t	aport, bport;
	uint32_t	a_nxt, b_nxt;
};

/*
 * The L3/L4 fields of one segment of c into spec (link, VLAN and MPLS are
 * left as the caller set them): from a (from_a) or b, seq the sender's
 * next, ack the other's (0 without TR_TCP_ACK in flags), payload data.
 * The sender's next sequence number then advances by len, plus one for a
 * SYN or FIN.
 */
void	frame_tcp_segment(struct frame_tcp *c, bool from_a, uint8_t flags,
	    const uint8_t *data, size_t len, struct frame_spec *spec);

/* The MAC address frames use for a host: 02:00 and the address's last 4 bytes. */
void	frame_mac(const struct tr_addr *, uint8_t mac[6]);

/* RFC 1071 Internet checksum of a buffer (for ICMP bodies and tests). */
uint16_t frame_cksum(const void *, size_t);
/*
 * The same in pieces, for a checksum over a pseudo-header and a segment
 * that lie apart (the anonymizer's rewritten frames): add each piece (all
 * but the last of even length) to a sum started at 0, then finish it.
 */
uint32_t frame_cksum_add(uint32_t sum, const void *, size_t);
uint16_t frame_cksum_finish(uint32_t sum);

#endif
