/* libFuzzer harness: any bytes as a generate spec; a spec that loads has its oracle written and a few of its messages made. */
#include <stdio.h>
#include <stdlib.h>

#include "gen_proto.h"
#include "gen_run.h"
#include "gen_spec.h"

#define MAX_EXPORTERS	4	/* of a spec that loads, the streams that run */
#define MAX_TICKS	3
#define MAX_RECORDS	100000	/* records or messages of a stream over the whole duration */

static int
discard(struct gen_out *out, size_t len)
{
	(void)out, (void)len;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[65536];
	struct gen_out out = { .buf = buf, .cap = sizeof(buf), .emit = discard,
	    .reply = discard };
	struct gen_spec s;
	char err[1024];
	FILE *null;

	if (gen_spec_load("fuzz.yml", (const char *)data, size, &s, err,
	    sizeof(err)) == -1)
		return 0;
	/* The oracle walks every exporter: only for specs of a bounded size. */
	if (s.n_exporters <= 1000 && gen_spec_ticks(&s) <= 100000 &&
	    (null = fopen("/dev/null", "w")) != NULL) {
		(void)gen_expect_json(&s, null);
		fclose(null);
	}
	for (size_t j = 0; j < s.n_sections; j++)
		for (size_t i = 0; i < s.n_exporters && i < MAX_EXPORTERS; i++) {
			const struct gen_section *sec = &s.sections[j];
			struct gen_counts k;
			void *st;

			/* A stream of millions of records is a legitimate spec, but not one to fuzz with. */
			if (gen_spec_ticks(&s) > 100000)
				continue;
			sec->gen->expect(sec->conf, &s, s.exporters[i].n_domains,
			    &k);
			if (k.flows > MAX_RECORDS || k.messages > MAX_RECORDS)
				continue;
			st = sec->gen->stream_new(sec->conf, &s, &s.exporters[i],
			    s.exporters[i].domains[0]);

			for (uint64_t k = 0; st != NULL && k < MAX_TICKS &&
			    k < gen_spec_ticks(&s); k++)
				(void)sec->gen->tick(st, k, s.start, &out);
			if (st != NULL)
				sec->gen->stream_free(st);
		}
	gen_spec_free(&s);
	return 0;
}
