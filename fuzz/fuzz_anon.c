/*
 * libFuzzer harness: the NetFlow/IPFIX payload rewriter on arbitrary
 * datagrams.  The input is a list of datagrams, each prefixed with a 2-byte
 * length, rewritten in order with one exporter's state (templates learnt by
 * one shape the walk of the next).  A rewrite never changes a length, and
 * never touches a byte outside its datagram (ASan, each in its own buffer).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "anon_addr.h"
#include "anon_mapper.h"
#include "anon_proto.h"
#include "netflow_anon.h"

static void
rewrite_one(void *state, const struct anon_rewriter *rw, const uint8_t *p,
    size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);
	struct anon_msg m = { .data = copy, .len = len };

	if (copy == NULL)
		abort();
	memcpy(copy, p, len);
	if (ipfix_anon.message(state, rw, &m) == ANON_MSG_FAILED ||
	    m.len != len)
		abort();
	free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct anon_counts counts = { 0 };
	struct anon_rewriter rw = { .addr = mapper(), .counts = &counts };
	void *state = ipfix_anon.new();

	if (state == NULL)
		abort();
	while (size >= 2) {
		size_t len = (size_t)(data[0] << 8 | data[1]);

		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		rewrite_one(state, &rw, data, len);
		data += len;
		size -= len;
	}
	ipfix_anon.free(state);
	return 0;
}
