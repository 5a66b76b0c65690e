/* libFuzzer harness: frames of any link type through the capture decoder, fragments included. */
#include <pcap/dlt.h>
#include <stddef.h>
#include <stdint.h>

#include "source.h"

/*
 * Input: one byte choosing the link type, then records of a 2-byte length
 * and that many frame bytes.  Frames are fed in order through one decoder,
 * so fragment reassembly state carries across them; some claim a longer
 * wire length than captured, as snaplen-cut frames do.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int links[] = { DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2,
	    DLT_RAW, DLT_IPV4, DLT_IPV6, DLT_NULL, DLT_LOOP };
	struct source *s;
	tr_ns ts = 0;

	if (size < 1)
		return 0;
	if ((s = source_new_decoder(links[data[0] % 8])) == NULL)
		return 0;
	data++, size--;
	while (size >= 2) {
		size_t n = (size_t)(data[0] << 8 | data[1]);
		struct tr_packet pkt;
		volatile uint8_t sink = 0;

		data += 2, size -= 2;
		if (n > size)
			n = size;
		if (source_feed(s, data, (uint32_t)n,
		    (uint32_t)n + (n % 3 == 0 ? 10 : 0), ts, &pkt) == 1)
			for (size_t i = 0; i < pkt.payload_len; i++)
				sink ^= pkt.payload[i];
		data += n, size -= n;
		ts += 1000000;
	}
	source_flush(s);
	source_close(s);
	return 0;
}
