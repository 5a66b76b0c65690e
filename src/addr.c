/* IPv4/IPv6 address values: parsing, formatting and socket-address conversion. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "hash.h"

int
addr_parse(const char *text, struct tr_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, text, &out->v4) == 1) {
		out->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, text, &out->v6) == 1) {
		out->family = AF_INET6;
		return 0;
	}
	errno = EINVAL;
	return -1;
}

const char *
addr_format(const struct tr_addr *a, char *buf, size_t len)
{
	if (inet_ntop(a->family, a->family == AF_INET ?
	    (const void *)&a->v4 : (const void *)&a->v6, buf,
	    (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
	return buf;
}

const char *
addr_format_endpoint(const struct tr_addr *a, uint16_t port, char *buf,
    size_t len)
{
	char text[TR_ADDR_STRLEN];

	return host_format_endpoint(addr_format(a, text, sizeof(text)), port,
	    buf, len);
}

const char *
host_format_endpoint(const char *host, uint16_t port, char *buf, size_t len)
{
	bool v6 = strchr(host, ':') != NULL;

	snprintf(buf, len, "%s%s%s:%u", v6 ? "[" : "", host, v6 ? "]" : "",
	    port);
	return buf;
}

bool
addr_equal(const struct tr_addr *a, const struct tr_addr *b)
{
	if (a->family != b->family)
		return false;
	if (a->family == AF_INET)
		return a->v4.s_addr == b->v4.s_addr;
	return memcmp(&a->v6, &b->v6, sizeof(a->v6)) == 0;
}

int
addr_compare(const struct tr_addr *a, const struct tr_addr *b)
{
	if (a->family != b->family)
		return a->family == AF_INET ? -1 : 1;
	if (a->family == AF_INET)
		return memcmp(&a->v4, &b->v4, sizeof(a->v4));
	return memcmp(&a->v6, &b->v6, sizeof(a->v6));
}

uint32_t
addr_hash(const struct tr_addr *a, uint32_t h)
{
	return fnv1a(h, &a->v6, a->family == AF_INET ? sizeof(a->v4) :
	    sizeof(a->v6));
}

socklen_t
addr_to_sockaddr(const struct tr_addr *a, uint16_t port,
    struct sockaddr_storage *out)
{
	memset(out, 0, sizeof(*out));
	if (a->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)out;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		sin->sin_addr = a->v4;
		return sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)out;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		sin6->sin6_addr = a->v6;
		return sizeof(*sin6);
	}
}

int
addr_from_sockaddr(const struct sockaddr *sa, struct tr_addr *out,
    uint16_t *port)
{
	memset(out, 0, sizeof(*out));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		out->family = AF_INET;
		out->v4 = sin->sin_addr;
		if (port != NULL)
			*port = ntohs(sin->sin_port);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 =
		    (const struct sockaddr_in6 *)sa;

		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			out->family = AF_INET;
			memcpy(&out->v4, &sin6->sin6_addr.s6_addr[12], 4);
		} else {
			out->family = AF_INET6;
			out->v6 = sin6->sin6_addr;
		}
		if (port != NULL)
			*port = ntohs(sin6->sin6_port);
		return 0;
	}
	errno = EAFNOSUPPORT;
	return -1;
}
