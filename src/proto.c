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

/*
 * How many bytes from p frame as back-to-back messages of a protocol (of
 * the types it knows, when it names those), a last one that runs past the
 * bytes seen included once the chain has a whole message (or, for a
 * protocol whose header alone is strict enough to resynchronise on, BGP's
 * marker, at once).
 */
static size_t
chain_bytes(const uint8_t *p, size_t len, const struct proto_framing *f)
{
	size_t at = 0, mlen, n = 0;
	uint8_t type;

	while (at < len && f->header(p + at, len - at, &type, &mlen) == 1 &&
	    (f->type_known == NULL || f->type_known(type))) {
		if (mlen > len - at)
			return n > 0 || f->type_known == NULL ? len : at;
		at += mlen;
		n++;
	}
	return at;
}

int
proto_tcp_by_content(const uint8_t *p, size_t len, bool (*wanted)(int id))
{
	size_t best = 0;
	int kind = -1;

	for (int id = 0; id < SECTION_COUNT; id++) {
		const struct proto_framing *f = protocols[id]->framing;
		size_t most = 0, n;

		if (f == NULL || !wanted(id))
			continue;
		for (size_t i = 0; i < len; i++)
			if (p[i] == f->first_byte &&
			    (n = chain_bytes(p + i, len - i, f)) > most)
				most = n;
		if (most > 0 && most >= best) {
			best = most;
			kind = id;
		}
	}
	return kind;
}

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
