/*
 * libFuzzer harness: anonymize's fragment queue (anon_frag) and the frame
 * rewriter under it on arbitrary raw-IP frames.  The input is a list of
 * frames, each prefixed with a 2-byte length and a 1-byte timestamp step
 * (seconds, so the timeout gives datagrams up too); the payload rewriter
 * flips every byte it is handed.  Every frame must come out exactly once,
 * in the order it went in, with its length (ASan: each in its own buffer).
 */
#include <pcap/dlt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "anon_addr.h"
#include "anon_mapper.h"
#include "anon_frag.h"

struct sink {
	uint64_t	frame;		/* set by anon_frag */
	uint64_t	next;		/* the number the next frame written must have */
	const uint32_t	*lens;
};

static int
on_payload(void *ctx, const struct anon_udp *d)
{
	(void)ctx;
	for (size_t i = 0; i < d->len; i++)
		d->payload[i] ^= 0xff;
	return 0;
}

static int
on_write(void *ctx, const struct source_frame *f, const uint8_t *data)
{
	struct sink *s = ctx;
	volatile uint8_t sum = 0;

	if (f->number != s->next || f->caplen != s->lens[f->number])
		abort();
	for (uint32_t i = 0; i < f->caplen; i++)	/* every byte readable */
		sum ^= data[i];
	s->next++;
	return 0;
}

#define MAX_FRAMES	4096

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint32_t lens[MAX_FRAMES + 1];
	struct anon_frame_stats fst = { 0 };
	struct anon_frag_stats st = { 0 };
	struct sink s = { .next = 1, .lens = lens };
	struct anon_frag *q = anon_frag_new(&(struct anon_frag_out){
	    .addr = mapper(), .frame_stats = &fst, .stats = &st,
	    .udp_payload = on_payload, .frame = &s.frame, .write = on_write,
	    .ctx = &s });
	uint64_t n = 0;
	tr_ns ts = 0;

	if (q == NULL)
		abort();
	while (size >= 3 && n < MAX_FRAMES) {
		size_t len = (size_t)(data[0] << 8 | data[1]);
		uint8_t *copy;

		ts += (tr_ns)data[2] * 1000000000;
		data += 3;
		size -= 3;
		if (len > size)
			len = size;
		if ((copy = malloc(len ? len : 1)) == NULL)
			abort();
		memcpy(copy, data, len);
		lens[++n] = (uint32_t)len;
		if (anon_frag_frame(q, &(struct source_frame){ .number = n,
		    .linktype = DLT_RAW, .ts = ts, .caplen = (uint32_t)len,
		    .len = (uint32_t)len, .l3_offset = 0,
		    .arp_offset = SOURCE_NO_L3 }, copy) == -1)
			abort();
		free(copy);
		data += len;
		size -= len;
	}
	if (anon_frag_flush(q) == -1 || s.next != n + 1)
		abort();
	anon_frag_free(q);
	return 0;
}
