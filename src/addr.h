/* IPv4/IPv6 addresses as values: parse, format, compare, and turn into socket addresses. */
#ifndef TR_ADDR_H
#define TR_ADDR_H

#include <stdbool.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

struct tr_addr {
	sa_family_t	family;		/* AF_INET or AF_INET6 */
	union {
		struct in_addr	v4;
		struct in6_addr	v6;
	};
};

/* An IPv4 address from its number in host order (0xc0000201: 192.0.2.1). */
static inline struct tr_addr
addr_v4(uint32_t host_order)
{
	struct tr_addr a = { .family = AF_INET };

	a.v4.s_addr = htonl(host_order);
	return a;
}

/* Longest text form plus NUL (an IPv6 address with an embedded IPv4 one). */
#define TR_ADDR_STRLEN	INET6_ADDRSTRLEN

/* 0 on success; -1 if text is not a literal IPv4 or IPv6 address. */
int	 addr_parse(const char *text, struct tr_addr *out);
/* Writes into buf (at least TR_ADDR_STRLEN) and returns it. */
const char *addr_format(const struct tr_addr *, char *buf, size_t len);
/*
 * An endpoint for messages: "192.0.2.1:179", "[2001:db8::1]:179" (RFC 3986
 * brackets, so the port cannot be read as part of the address).
 */
#define TR_ENDPOINT_STRLEN	(TR_ADDR_STRLEN + 8)
const char *addr_format_endpoint(const struct tr_addr *, uint16_t port,
	    char *buf, size_t len);
/* The same for a host as configured (a name, or an IPv4 or IPv6 literal). */
const char *host_format_endpoint(const char *host, uint16_t port, char *buf,
	    size_t len);
bool	 addr_equal(const struct tr_addr *, const struct tr_addr *);
/* A total order for sorted output and binary search: IPv4 before IPv6, then by bytes. */
int	 addr_compare(const struct tr_addr *, const struct tr_addr *);
/* FNV-1a over the address bytes, continuing from h (FNV1A_BASIS to start). */
uint32_t addr_hash(const struct tr_addr *, uint32_t h);
/* A socket address for a (address, port) pair; returns its length. */
socklen_t addr_to_sockaddr(const struct tr_addr *, uint16_t port,
	    struct sockaddr_storage *out);
/* The reverse; IPv4-mapped IPv6 addresses come back as plain IPv4. */
int	 addr_from_sockaddr(const struct sockaddr *, struct tr_addr *out,
	    uint16_t *port);

#endif
