/*
 * libFuzzer harness: flow fidelity on arbitrary datagrams.  The first byte
 * picks the modes; the rest is a list of datagrams, each prefixed with a
 * 2-byte length, learned by the pre-scan and then replayed twice (a repeat)
 * on two streams.  Every output must be a whole datagram that still parses.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flowfix.h"
#include "netflow.h"

static void
each_datagram(const uint8_t *data, size_t size,
    void (*fn)(struct flowfix *, const uint8_t *, size_t, uint32_t),
    struct flowfix *ff, uint32_t stream)
{
	while (size >= 2) {
		size_t len = (size_t)(data[0] << 8 | data[1]);

		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		fn(ff, data, len, stream);
		data += len;
		size -= len;
	}
}

static void
learn(struct flowfix *ff, const uint8_t *p, size_t len, uint32_t stream)
{
	struct proto_origin o = { .exporter = stream & 1, .sport = 1 };

	flowfix_learn(ff, &o, p, len);
}

static void
replay(struct flowfix *ff, const uint8_t *p, size_t len, uint32_t stream)
{
	struct proto_origin o = { .exporter = stream & 1, .sport = 1,
	    .socket = stream };
	struct proto_out out;
	struct nf_header h;

	flowfix_message(ff, &o, p, len, 1800000000, &out);
	if (out.n > PROTO_MAX_OUT)
		abort();
	for (size_t i = 0; i < out.n; i++) {
		if (out.len[i] > 65535)
			abort();
		/* What parsed before a rewrite parses after it. */
		if (out.msg[i] != p && nf_parse_header(out.msg[i],
		    out.len[i], &h) == -1)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg_flow_fidelity opts;
	struct report rep;
	struct flowfix *ff;

	if (size < 1)
		return 0;
	memset(&opts, 0, sizeof(opts));
	memset(&rep, 0, sizeof(rep));
	opts.templates = (enum cfg_templates)(data[0] % 3);
	opts.sequence = (enum cfg_sequence)(data[0] >> 2 & 1);
	opts.timestamps = (enum cfg_timestamps)(data[0] >> 3 & 1);
	if ((ff = flowfix_new(&opts, &rep)) == NULL)
		return 0;
	each_datagram(data + 1, size - 1, learn, ff, 0);
	for (uint32_t play = 0; play < 2; play++) {
		flowfix_capture_start(ff);
		each_datagram(data + 1, size - 1, replay, ff, 0);
		each_datagram(data + 1, size - 1, replay, ff, 1);
	}
	flowfix_free(ff);
	free(rep.flows.domains);
	return 0;
}
