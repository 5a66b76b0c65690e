/* UDP datagrams built whole (IPv4/IPv6 and UDP headers) for a raw socket: any source address and port (network.spoof: raw). */
#ifndef TR_RAWSEND_H
#define TR_RAWSEND_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

/* The longest header put before a payload: IPv6 (40) + UDP (8). */
#define RAWSEND_HDR_MAX	48

/* One flow's fixed header fields, and the part of its UDP checksum they make. */
struct rawsend_flow {
	struct tr_addr	src, dst;
	uint16_t	sport, dport;
	uint16_t	hdr_len;	/* 28 (IPv4) or 48 (IPv6) */
	uint32_t	pseudo_sum;	/* addresses, protocol and ports, summed once */
};

/*
 * A raw socket of the family that takes whole IP datagrams (IPPROTO_RAW,
 * IP_HDRINCL / IPV6_HDRINCL), non-blocking.  -1 with a message in err
 * that names the privilege when the kernel refuses it (CAP_NET_RAW).
 */
int	 rawsend_socket(sa_family_t family, char *err, size_t errlen);

/* The flow from src:sport to dst:dport (one family). */
void	 rawsend_flow_init(struct rawsend_flow *, const struct tr_addr *src,
	    uint16_t sport, const struct tr_addr *dst, uint16_t dport);

/* The largest payload one datagram of the flow's family can carry. */
size_t	 rawsend_payload_max(const struct rawsend_flow *);

/*
 * Writes the flow's IP and UDP headers (hdr_len bytes, UDP checksum
 * included) at hdr, which the len payload bytes follow directly.
 * len is at most rawsend_payload_max().
 */
void	 rawsend_header(const struct rawsend_flow *, uint8_t *hdr, size_t len);

#endif
