/*
 * The body of the message rewriters' harnesses (fuzz_bgp_anon.c,
 * fuzz_bmp_anon.c): each defines ANON_FUZZ_HOOK, its struct proto_anon,
 * then includes this.  The input is a list of messages, each prefixed with
 * a 2-byte length and a direction byte, rewritten in order with one
 * session's state (what OPENs or Peer Ups taught shapes the walk of the
 * next), with AS numbers mapped.  A rewrite never changes a length, never
 * fails, and never touches a byte outside its message (ASan, each in its
 * own buffer).
 */
#ifndef ANON_FUZZ_HOOK
#error "define ANON_FUZZ_HOOK (the protocol's struct proto_anon) first"
#endif

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "anon_addr.h"
#include "anon_as.h"
#include "anon_proto.h"
#include "anon_text.h"

static const uint8_t key[ANON_KEY_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8 };

static void
rewrite_one(void *state, const struct anon_rewriter *rw, const uint8_t *p,
    size_t len, bool from_exporter)
{
	uint8_t *copy = malloc(len ? len : 1);
	struct anon_msg m = { .data = copy, .len = len,
	    .from_exporter = from_exporter };

	if (copy == NULL)
		abort();
	memcpy(copy, p, len);
	if (ANON_FUZZ_HOOK.message(state, rw, &m) == ANON_MSG_FAILED ||
	    m.len != len)
		abort();
	free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct anon_addr *addr;
	static struct anon_as *as;
	static struct anon_text *text;
	struct anon_counts counts = { 0 };
	struct anon_rewriter rw;
	void *state;

	if (addr == NULL && ((addr = anon_addr_new(key)) == NULL ||
	    (as = anon_as_new(key)) == NULL ||
	    (text = anon_text_new(key)) == NULL))
		abort();
	rw = (struct anon_rewriter){ .addr = addr, .counts = &counts,
	    .as = as, .text = text };
	if ((state = ANON_FUZZ_HOOK.new()) == NULL)
		abort();
	while (size >= 3) {
		size_t len = (size_t)(data[0] << 8 | data[1]);
		bool from_exporter = data[2] & 1;

		data += 3;
		size -= 3;
		if (len > size)
			len = size;
		rewrite_one(state, &rw, data, len, from_exporter);
		data += len;
		size -= len;
	}
	ANON_FUZZ_HOOK.free(state);
	return 0;
}
