/*
 * libFuzzer harness: the sFlow v5 payload rewriter on arbitrary datagrams
 * (one input, one datagram, in a buffer of exactly its length).  A rewrite
 * never changes the length, never touches a byte outside the datagram
 * (ASan), and gives the same bytes twice (it is stateless).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "anon_addr.h"
#include "anon_mapper.h"
#include "anon_proto.h"
#include "sflow_anon.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct anon_counts counts = { 0 };
	struct anon_rewriter rw = { .addr = mapper(), .counts = &counts };
	uint8_t *first = malloc(size ? size : 1), *second = malloc(size ? size : 1);
	struct anon_msg m = { .data = first, .len = size };

	if (first == NULL || second == NULL)
		abort();
	memcpy(first, data, size);
	memcpy(second, data, size);
	if (sflow_anon.message(NULL, &rw, &m) == ANON_MSG_FAILED ||
	    m.len != size)
		abort();
	m = (struct anon_msg){ .data = second, .len = size };
	if (sflow_anon.message(NULL, &rw, &m) == ANON_MSG_FAILED ||
	    memcmp(first, second, size) != 0)
		abort();
	free(first);
	free(second);
	return 0;
}
