/* What the capture source hands downstream: one decoded L4 datagram or segment. */
#ifndef TR_PACKET_H
#define TR_PACKET_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "monotime.h"

#define TR_IPPROTO_TCP	6
#define TR_IPPROTO_UDP	17

/* TCP flag bits as on the wire. */
#define TR_TCP_FIN	0x01
#define TR_TCP_SYN	0x02
#define TR_TCP_RST	0x04
#define TR_TCP_PSH	0x08
#define TR_TCP_ACK	0x10

struct tr_packet {
	uint64_t	 frame;		/* 1-based frame number in its capture file */
	tr_ns		 ts;		/* capture time, ns since the Unix epoch */
	struct tr_addr	 src;
	struct tr_addr	 dst;
	uint8_t		 l4proto;	/* TR_IPPROTO_UDP or TR_IPPROTO_TCP */
	uint16_t	 sport;
	uint16_t	 dport;
	uint32_t	 tcp_seq;	/* TCP only */
	uint32_t	 tcp_ack;	/* TCP only */
	uint8_t		 tcp_flags;	/* TCP only */
	const uint8_t	*payload;	/* valid until the next source_next() */
	size_t		 payload_len;
};

/* The same packet seen from the other end: addresses and ports swapped (to look up the other direction). */
static inline struct tr_packet
tr_packet_reversed(const struct tr_packet *pkt)
{
	struct tr_packet rev = *pkt;

	rev.src = pkt->dst;
	rev.dst = pkt->src;
	rev.sport = pkt->dport;
	rev.dport = pkt->sport;
	return rev;
}

#endif
