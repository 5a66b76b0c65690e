/*
 * UDP datagrams built whole for a raw socket (network.spoof: raw): the
 * kernel sends the IP header as given, so the source address need be no
 * address of this host and the source port any port, with no bind.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "frame_build.h"
#include "rawsend.h"

/* Older C libraries lack it; the kernel has had it since 4.5. */
#ifndef IPV6_HDRINCL
#define IPV6_HDRINCL	36
#endif

#define IPV4_HDR	20
#define IPV6_HDR	40
#define UDP_HDR		8
#define DEFAULT_TTL	64

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

int
rawsend_socket(sa_family_t family, char *err, size_t errlen)
{
	int fd, on = 1;

	fd = socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    IPPROTO_RAW);
	if (fd == -1) {
		if (errno == EPERM || errno == EACCES)
			snprintf(err, errlen, "network.spoof: raw needs a raw "
			    "socket, which needs root or CAP_NET_RAW (e.g. "
			    "'setcap cap_net_raw+ep traffic-reproducer'); "
			    "without it, route the repro_ips here (Linux AnyIP: "
			    "'ip route add local PREFIX dev lo') and use "
			    "network.spoof: freebind");
		else
			snprintf(err, errlen, "network.spoof: raw: cannot open "
			    "a raw %s socket: %s", family == AF_INET ? "IPv4" :
			    "IPv6", strerror(errno));
		return -1;
	}
	/*
	 * IPPROTO_RAW implies the header is ours on both families; say so
	 * anyway, and refuse a kernel that would put its own IPv6 header
	 * in front of ours.
	 */
	if (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_HDRINCL,
	    &on, sizeof(on)) == -1 && errno != ENOPROTOOPT) {
		snprintf(err, errlen, "network.spoof: raw is unsupported for "
		    "IPv6 on this kernel (IPV6_HDRINCL: %s): use "
		    "network.spoof: freebind", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

void
rawsend_flow_init(struct rawsend_flow *f, const struct tr_addr *src,
    uint16_t sport, const struct tr_addr *dst, uint16_t dport)
{
	uint8_t ports[4];
	size_t alen = src->family == AF_INET ? 4 : 16;

	memset(f, 0, sizeof(*f));
	f->src = *src;
	f->dst = *dst;
	f->sport = sport;
	f->dport = dport;
	f->hdr_len = (uint16_t)((src->family == AF_INET ? IPV4_HDR : IPV6_HDR) +
	    UDP_HDR);
	/* The pseudo-header's addresses and protocol, and the UDP ports. */
	put16(ports, sport);
	put16(ports + 2, dport);
	f->pseudo_sum = frame_cksum_add(0, &src->v4, alen);
	f->pseudo_sum = frame_cksum_add(f->pseudo_sum, &dst->v4, alen);
	f->pseudo_sum += IPPROTO_UDP;
	f->pseudo_sum = frame_cksum_add(f->pseudo_sum, ports, sizeof(ports));
}

size_t
rawsend_payload_max(const struct rawsend_flow *f)
{
	/* IPv4: the total length is 16 bits; IPv6: the payload length. */
	return f->src.family == AF_INET ? 65535 - IPV4_HDR - UDP_HDR :
	    65535 - UDP_HDR;
}

void
rawsend_header(const struct rawsend_flow *f, uint8_t *hdr, size_t len)
{
	uint16_t udp_len = (uint16_t)(UDP_HDR + len);
	uint8_t *ip = hdr, *udp = hdr + f->hdr_len - UDP_HDR;
	uint32_t sum;
	uint16_t csum;

	if (f->src.family == AF_INET) {
		memset(ip, 0, IPV4_HDR);
		ip[0] = 0x45;
		/* The kernel fills in the id (left 0) and the header checksum. */
		put16(ip + 2, (uint16_t)(IPV4_HDR + udp_len));
		ip[8] = DEFAULT_TTL;
		ip[9] = IPPROTO_UDP;
		memcpy(ip + 12, &f->src.v4, 4);
		memcpy(ip + 16, &f->dst.v4, 4);
	} else {
		memset(ip, 0, IPV6_HDR);
		ip[0] = 0x60;
		put16(ip + 4, udp_len);
		ip[6] = IPPROTO_UDP;
		ip[7] = DEFAULT_TTL;
		memcpy(ip + 8, &f->src.v6, 16);
		memcpy(ip + 24, &f->dst.v6, 16);
	}
	put16(udp, f->sport);
	put16(udp + 2, f->dport);
	put16(udp + 4, udp_len);
	put16(udp + 6, 0);
	/* Pseudo-header length and UDP length are the same number: added twice. */
	sum = f->pseudo_sum + udp_len + udp_len;
	sum = frame_cksum_add(sum, hdr + f->hdr_len, len);
	csum = frame_cksum_finish(sum);
	/* 0 means "no checksum" on IPv4 and is not allowed on IPv6: send its other form. */
	put16(udp + 6, csum == 0 ? 0xffff : csum);
}
