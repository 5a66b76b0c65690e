/*
 * libFuzzer harness: sFlow v5 on arbitrary datagrams.  Every sample and
 * record is walked, and the fidelity rewrites run over the input as a
 * datagram played twice (a repeat) with the agent rewritten to IPv6: any
 * output must be the input's length (plus the agent's growth) and parse.
 * The descriptor's count and keep hooks (--info, the sink, -p) take it too:
 * what classify claims must be kept and count as not malformed.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "sflow.h"

static void
walk(const uint8_t *p, size_t len)
{
	struct sflow_header h;
	struct sflow_iter it, rit;
	struct sflow_sample s;
	struct sflow_record r;

	if (sflow_samples_begin(p, len, &it, &h) == -1)
		return;
	while (sflow_sample_next(&it, &s) == 1) {
		if (s.offset + 8 + s.length > len)
			abort();
		sflow_records_begin(p, len, &s, &rit);
		while (sflow_record_next(&rit, &r) == 1)
			if (r.offset + 8 + r.length > len)
				abort();
		(void)sflow_sample_name(s.format);
	}
}

static void
count(const uint8_t *p, size_t len)
{
	const struct proto_count *pc = sflow_proto.count;
	static FILE *null;
	struct sflow_counts *n = pc->new();
	bool claimed = pc->classify(p, len);

	if (null == NULL)
		null = fopen("/dev/null", "w");
	if (n == NULL || null == NULL)
		abort();
	pc->datagram(n, p, len);
	if (claimed && (!sflow_proto.keep(p, len) || n->malformed != 0))
		abort();
	json_decref(pc->json(n));
	pc->text(n, null);
	pc->free(n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[65536 + SFLOW_FIX_GROWTH];
	struct sflow_fix_opts o = { .continue_sequence = true,
	    .agent_is_repro_ip = true, .continue_uptime = true };
	struct sflow_fix *fx;
	struct tr_addr repro = { .family = AF_INET6 };
	struct sflow_header h;

	if (size > 65536)
		return 0;
	walk(data, size);
	count(data, size);
	if ((fx = sflow_fix_new(&o)) == NULL)
		return 0;
	repro.v6.s6_addr[15] = 1;
	for (int play = 0; play < 2; play++) {
		size_t n = sflow_fix_datagram(fx, 0, &repro, data, size,
		    1000 * (uint64_t)play, out, sizeof(out));

		if (n != 0 && (n < size || n > size + SFLOW_FIX_GROWTH ||
		    sflow_parse_header(out, n, &h) == -1))
			abort();
		if (n != 0)
			walk(out, n);
		sflow_fix_capture_start(fx);
	}
	sflow_fix_free(fx);
	return 0;
}
