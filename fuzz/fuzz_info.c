/* libFuzzer harness: the info summary on arbitrary packets (flow datagrams, BMP/BGP streams), and its UPDATE and BMP parsers. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bgp.h"
#include "bmp.h"
#include "info.h"

/*
 * Input: records of a selector byte, a 2-byte length and that many payload
 * bytes.  The selector picks UDP or TCP, the direction, a port pair (so
 * content decides the kind: flows, BMP, BGP, generic), TCP flags, and
 * whether the sequence number jumps (a gap) or repeats (a retransmission).
 */
static void
packets(const uint8_t *data, size_t size)
{
	struct info *inf = info_new(NULL);
	uint32_t seq[2][4] = { { 0 } };
	struct tr_packet pkt;
	json_t *j;

	if (inf == NULL)
		return;
	info_begin_capture(inf, "fuzz");
	for (uint64_t frame = 1; size >= 3; frame++) {
		uint8_t sel = data[0];
		size_t len = (size_t)(data[1] << 8 | data[2]);
		int dir = sel & 1, conn = (sel >> 1) & 3;

		data += 3, size -= 3;
		if (len > size)
			len = size;
		memset(&pkt, 0, sizeof(pkt));
		pkt.frame = frame;
		pkt.ts = (tr_ns)frame * 1000;
		addr_parse(dir ? "198.51.100.1" : "192.0.2.1", &pkt.src);
		addr_parse(dir ? "192.0.2.1" : "198.51.100.1", &pkt.dst);
		pkt.sport = dir ? 179 + conn : (uint16_t)(40000 + conn);
		pkt.dport = dir ? (uint16_t)(40000 + conn) : 179 + conn;
		pkt.l4proto = sel & 0x80 ? TR_IPPROTO_UDP : TR_IPPROTO_TCP;
		pkt.tcp_flags = (sel & 0x08) ? TR_TCP_SYN : TR_TCP_ACK;
		if (sel & 0x10)
			pkt.tcp_flags |= TR_TCP_FIN;
		if (sel & 0x20)
			seq[dir][conn] += 1000;		/* a gap */
		pkt.tcp_seq = seq[dir][conn];
		pkt.payload = data;
		pkt.payload_len = len;
		if (!(sel & 0x40))
			seq[dir][conn] += (uint32_t)len;	/* else: sent again next time */
		data += len, size -= len;
		if (info_packet(inf, &pkt) == -1)
			break;
	}
	info_end_capture(inf);
	if ((j = info_json(inf)) != NULL) {
		free(json_dumps(j, JSON_PRESERVE_ORDER | JSON_INDENT(2)));
		json_decref(j);
	}
	info_free(inf);
}

static void
parsers(const uint8_t *data, size_t size)
{
	struct bgp_addpath ap = { .n = 2, .fam = { { 1, 1 }, { 2, 1 } } };
	struct bgp_update_counts uc;
	struct bmp_peer_hdr h;
	struct bmp_peer_up pu;
	struct cursor c;
	struct cursor v;
	uint16_t type;

	(void)bgp_update_count(data, size, NULL, &uc);
	(void)bgp_update_count(data, size, &ap, &uc);
	c = cur_init(data, size);
	if (bmp_peer_header_parse(&c, &h) == 0)
		(void)bmp_peer_up_parse(&c, &pu);
	c = cur_init(data, size);
	while (bmp_tlv_next(&c, &type, &v) == 1)
		;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	parsers(data, size);
	packets(data, size);
	return 0;
}
