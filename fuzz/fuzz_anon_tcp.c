/*
 * libFuzzer harness: anonymize's TCP part (anon_tcp.c) on arbitrary
 * segments of a few connections: learned (reassembly, framing by content,
 * the BMP/BGP rewriters), then patched, each payload in its own buffer
 * (ASan: no write outside it).  Each segment is [flags][connection and
 * direction][seq: 4][length: 2][payload].
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "anon_addr.h"
#include "anon_as.h"
#include "anon_proto.h"
#include "anon_tcp.h"
#include "anon_text.h"

static const uint8_t key[ANON_KEY_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8 };


/* The next segment of the input into *p (its payload pointing into data); false at the end. */
static bool
next_segment(const uint8_t **data, size_t *size, struct tr_packet *p)
{
	const uint8_t *d = *data;
	size_t len;

	if (*size < 8)
		return false;
	memset(p, 0, sizeof(*p));
	p->l4proto = TR_IPPROTO_TCP;
	p->tcp_flags = d[0];
	/* Two connections, both ways, BGP's and BMP's ports. */
	p->src.family = p->dst.family = AF_INET;
	p->src.v4.s_addr = (d[1] & 1) ? 0x0100000a : 0x0200000a;
	p->dst.v4.s_addr = (d[1] & 1) ? 0x0200000a : 0x0100000a;
	p->sport = (d[1] & 1) ? ((d[1] & 2) ? 179 : 1790) : 50000;
	p->dport = (d[1] & 1) ? 50000 : ((d[1] & 2) ? 179 : 1790);
	p->tcp_seq = (uint32_t)d[2] << 24 | (uint32_t)d[3] << 16 |
	    (uint32_t)d[4] << 8 | d[5];
	len = (size_t)(d[6] << 8 | d[7]);
	*data += 8;
	*size -= 8;
	if (len > *size)
		len = *size;
	p->payload = *data;
	p->payload_len = len;
	*data += len;
	*size -= len;
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct anon_addr *addr;
	static struct anon_as *as;
	static struct anon_text *text;
	struct anon_counts counts = { 0 };
	struct anon_tcp_stats st = { 0 };
	struct anon_rewriter rw;
	struct anon_tcp *t;
	struct tr_packet p;
	const uint8_t *d = data;
	size_t n = size;

	if (addr == NULL && ((addr = anon_addr_new(key)) == NULL ||
	    (as = anon_as_new(key)) == NULL ||
	    (text = anon_text_new(key)) == NULL))
		abort();
	rw = (struct anon_rewriter){ .addr = addr, .counts = &counts,
	    .as = as, .text = text };
	if ((t = anon_tcp_new(&rw, NULL, &st)) == NULL)
		abort();
	while (next_segment(&d, &n, &p))
		if (anon_tcp_learn(t, &p) == -1)
			abort();
	if (anon_tcp_learn_end(t) == -1)
		abort();
	d = data;
	n = size;
	while (next_segment(&d, &n, &p)) {
		uint8_t *copy = malloc(p.payload_len ? p.payload_len : 1);

		if (copy == NULL)
			abort();
		memcpy(copy, p.payload, p.payload_len);
		anon_tcp_patch(t, &p, copy);
		free(copy);
	}
	anon_tcp_free(t);
	return 0;
}
