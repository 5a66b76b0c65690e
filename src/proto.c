/* The protocol table, and the two protocols that are only bytes: generic UDP and TCP payloads. */
#include <netinet/in.h>

#include "netflow.h"
#include "proto.h"

const struct proto udp_generic_proto = {
	.name = "udp_generic",
	.what = "UDP payloads",
	.l4proto = IPPROTO_UDP,
};

const struct proto tcp_generic_proto = {
	.name = "tcp_generic",
	.what = "TCP payloads",
	.l4proto = IPPROTO_TCP,
};

const struct proto *const protocols[SECTION_COUNT] = {
#define TR_PROTO_ROW(id, name)	[SECTION_##id] = &name##_proto,
	TR_PROTOCOLS(TR_PROTO_ROW)
#undef TR_PROTO_ROW
};

int
proto_udp_by_content(const uint8_t *p, size_t len)
{
	if (nf_classify(p, len))
		return SECTION_IPFIX;
	for (int id = 0; id < SECTION_COUNT; id++)
		if (protocols[id]->count != NULL &&
		    protocols[id]->count->classify(p, len))
			return id;
	return SECTION_UDP_GENERIC;
}
