/* libFuzzer harness: TCP reassembly of arbitrary segment sequences (retransmits, holes, wrap-around). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "stream.h"

/*
 * Input: records of a 4-byte sequence number, a flags byte, a 2-byte
 * length and that many payload bytes; pushed in order into one stream
 * with a small hold limit, so gaps are declared too.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stream *st = stream_new(4096);
	struct stream_chunk out[2];
	volatile uint8_t sink = 0;
	int n;

	if (st == NULL)
		return 0;
	while (size >= 7) {
		struct tr_packet pkt;
		size_t len = (size_t)(data[5] << 8 | data[6]);

		memset(&pkt, 0, sizeof(pkt));
		pkt.l4proto = TR_IPPROTO_TCP;
		pkt.tcp_seq = (uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 |
		    (uint32_t)data[2] << 8 | data[3];
		pkt.tcp_flags = data[4];
		data += 7, size -= 7;
		if (len > size)
			len = size;
		pkt.payload = data;
		pkt.payload_len = len;
		data += len, size -= len;
		if ((n = stream_push(st, &pkt, out)) > 0)
			for (int i = 0; i < n; i++)
				for (size_t k = 0; k < out[i].len; k++)
					sink ^= out[i].data[k];
	}
	while ((n = stream_finish(st, out)) > 0)
		for (int i = 0; i < n; i++)
			for (size_t k = 0; k < out[i].len; k++)
				sink ^= out[i].data[k];
	stream_free(st);
	return 0;
}
