/* generate's run: every stream (exporter, section, domain) asked for each export interval's messages, written as UDP frames in time order. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "frame_build.h"
#include "gen_proto.h"
#include "gen_run.h"
#include "proto.h"

#define MSG_CAP		65507	/* the largest UDP payload over IPv4 */

struct run {
	const struct gen_spec		*spec;
	struct pcapw			*pw;
	const struct gen_exporter	*ex;	/* whose message is emitted */
	tr_ns				 ts;	/* the next frame's time */
	uint8_t				*frame;
	uint8_t				*msg;
	struct gen_totals		*totals;
	uint16_t			 ip_id;
};

/* One message of the current exporter's: a UDP datagram to the collector. */
static int
emit(struct gen_out *out, size_t len)
{
	struct run *r = out->run;
	struct frame_spec fs = {
		.link = FRAME_LINK_EN10MB,
		.src = r->ex->addr,
		.dst = r->spec->collector,
		.l4proto = FRAME_IPPROTO_UDP,
		.sport = r->ex->sport,
		.dport = r->spec->collector_port,
		.ip_id = r->ip_id++,
		.payload = r->msg,
		.payload_len = len,
	};
	ssize_t n = frame_build(&fs, r->frame, FRAME_MAX_LEN);

	if (n < 0 || pcapw_write(r->pw, r->ts, r->frame, (uint32_t)n,
	    (uint32_t)n) == -1)
		return -1;
	r->totals->frames++;
	r->totals->bytes += len;
	/* Frames of one moment a microsecond apart: the capture keeps their order. */
	r->ts += TR_NS_PER_US;
	return 0;
}

int
gen_run(const struct gen_spec *s, struct pcapw *pw,
    volatile sig_atomic_t *stop, struct gen_totals *t, char *err,
    size_t errlen)
{
	struct run r = { .spec = s, .pw = pw, .totals = t, .ts = s->start };
	struct gen_out out = { .cap = MSG_CAP, .emit = emit, .run = &r };
	uint64_t ticks = gen_spec_ticks(s);
	tr_ns interval = (tr_ns)s->interval_ms * TR_NS_PER_MS;
	size_t n_streams = 0, k;
	void **streams;
	int rc = -1;

	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < s->n_exporters; i++)
		n_streams += s->n_sections * s->exporters[i].n_domains;
	streams = calloc(n_streams, sizeof(*streams));
	r.frame = malloc(FRAME_MAX_LEN);
	r.msg = malloc(MSG_CAP);
	out.buf = r.msg;
	if (streams == NULL || r.frame == NULL || r.msg == NULL) {
		snprintf(err, errlen, "out of memory for %zu streams",
		    n_streams);
		goto done;
	}
	/* Streams in the order they play: exporter, section, domain. */
	k = 0;
	for (size_t i = 0; i < s->n_exporters; i++)
		for (size_t j = 0; j < s->n_sections; j++)
			for (size_t d = 0; d < s->exporters[i].n_domains; d++) {
				const struct gen_section *sec = &s->sections[j];

				streams[k] = sec->gen->stream_new(sec->conf, s,
				    &s->exporters[i], s->exporters[i].domains[d]);
				if (streams[k++] == NULL) {
					snprintf(err, errlen, "out of memory "
					    "for %zu streams", n_streams);
					goto done;
				}
			}
	for (uint64_t tick = 0; tick < ticks; tick++) {
		k = 0;
		for (size_t i = 0; i < s->n_exporters; i++) {
			/* Exporters spread over the interval, as routers not in step. */
			tr_ns slot = s->start + (tr_ns)tick * interval +
			    (tr_ns)((__int128)interval * (__int128)i /
			    (__int128)s->n_exporters);

			if (stop != NULL && *stop) {
				snprintf(err, errlen, "stopped by a signal");
				errno = EINTR;
				goto done;
			}
			if (r.ts < slot)
				r.ts = slot;
			r.ex = &s->exporters[i];
			for (size_t j = 0; j < s->n_sections; j++)
				for (size_t d = 0; d < r.ex->n_domains; d++) {
					const struct proto_gen *g =
					    s->sections[j].gen;

					if (g->tick(streams[k++], tick, slot,
					    &out) == -1) {
						snprintf(err, errlen, "writing "
						    "the capture: %s",
						    strerror(errno));
						goto done;
					}
				}
		}
	}
	rc = 0;
done:
	for (size_t i = 0, kk = 0; streams != NULL && i < s->n_exporters; i++)
		for (size_t j = 0; j < s->n_sections; j++)
			for (size_t d = 0; d < s->exporters[i].n_domains; d++,
			    kk++)
				if (streams[kk] != NULL)
					s->sections[j].gen->stream_free(
					    streams[kk]);
	free(streams);
	free(r.frame);
	free(r.msg);
	return rc;
}

/* ---- the oracle ---- */

static void
counts_add(struct gen_counts *a, const struct gen_counts *b, uint64_t times)
{
	a->flows += b->flows * times;
	a->messages += b->messages * times;
	a->templates += b->templates * times;
	a->options += b->options * times;
}

/* One exporter's counts over its sections and domains; by domain count, computed once per count. */
struct expect_cache {
	bool			 done[GEN_MAX_DOMAINS + 1];
	struct gen_counts	 c[GEN_MAX_DOMAINS + 1];
};

static const struct gen_counts *
stream_counts(const struct gen_spec *s, const struct gen_section *sec,
    struct expect_cache *cache, size_t n_domains)
{
	if (!cache->done[n_domains]) {
		sec->gen->expect(sec->conf, s, n_domains, &cache->c[n_domains]);
		cache->done[n_domains] = true;
	}
	return &cache->c[n_domains];
}

static void
counts_json(FILE *f, const struct gen_counts *c)
{
	fprintf(f, "\"flows\": %" PRIu64 ", \"messages\": %" PRIu64
	    ", \"template_messages\": %" PRIu64 ", \"options_records\": %"
	    PRIu64, c->flows, c->messages, c->templates, c->options);
}

int
gen_expect_json(const struct gen_spec *s, FILE *f)
{
	struct expect_cache *cache = calloc(s->n_sections, sizeof(*cache));
	struct gen_counts total = { 0 };
	char a[TR_ADDR_STRLEN], b[TR_ADDR_STRLEN];

	if (cache == NULL)
		return -1;
	fprintf(f, "{\n  \"ticks\": %" PRIu64 ",\n  \"exporters\": %zu,\n"
	    "  \"sections\": {", gen_spec_ticks(s), s->n_exporters);
	for (size_t j = 0; j < s->n_sections; j++) {
		const struct gen_section *sec = &s->sections[j];
		struct gen_counts sc = { 0 };

		for (size_t i = 0; i < s->n_exporters; i++)
			counts_add(&sc, stream_counts(s, sec, &cache[j],
			    s->exporters[i].n_domains),
			    s->exporters[i].n_domains);
		fprintf(f, "%s\n    \"%s\": {", j > 0 ? "," : "",
		    sec->gen->keys[sec->key]);
		counts_json(f, &sc);
		fputc('}', f);
		counts_add(&total, &sc, 1);
	}
	fprintf(f, "\n  },\n  \"total\": {");
	counts_json(f, &total);
	fprintf(f, "},\n  \"per_exporter\": [");
	for (size_t i = 0; i < s->n_exporters; i++) {
		const struct gen_exporter *ex = &s->exporters[i];
		struct gen_counts c = { 0 };

		for (size_t j = 0; j < s->n_sections; j++)
			counts_add(&c, stream_counts(s, &s->sections[j],
			    &cache[j], ex->n_domains), ex->n_domains);
		fprintf(f, "%s\n    {\"address\": \"%s\", \"repro\": \"%s\", ",
		    i > 0 ? "," : "", addr_format(&ex->addr, a, sizeof(a)),
		    addr_format(&ex->repro, b, sizeof(b)));
		counts_json(f, &c);
		fputc('}', f);
	}
	fprintf(f, "\n  ]\n}\n");
	free(cache);
	return ferror(f) ? -1 : 0;
}

/* ---- the replay config ---- */

int
gen_write_replay_config(const struct gen_spec *s, const char *spec_path,
    const char *pcap_path, FILE *f)
{
	char a[TR_ADDR_STRLEN], b[TR_ADDR_STRLEN];

	fprintf(f, "# Written by traffic-reproducer generate from %s: the "
	    "capture's exporters\n# replayed from their repro addresses to "
	    "the spec's collector.\n", spec_path);
	fprintf(f, "pcap: %s\ntime_factor: 1\nno_sync: true\nnetwork:\n"
	    "  map:\n", pcap_path);
	for (size_t i = 0; i < s->n_exporters; i++)
		/* Quoted: an IPv6 address's colons would end a plain flow scalar. */
		fprintf(f, "    - {src_ip: \"%s\", repro_ip: \"%s\"}\n",
		    addr_format(&s->exporters[i].addr, a, sizeof(a)),
		    addr_format(&s->exporters[i].repro, b, sizeof(b)));
	/* One replay section per protocol (the ipfix one takes v5, v9 and IPFIX). */
	for (size_t j = 0; j < s->n_sections; j++) {
		const struct proto *p = s->sections[j].proto;
		bool first = true;

		for (size_t i = 0; i < j; i++)
			first &= s->sections[i].proto != p;
		if (!first)
			continue;
		fprintf(f, "%s:\n  select:\n    %s:\n      dport: [%u]\n"
		    "  collector:\n    ip: \"%s\"\n    port: %u\n", p->name,
		    p->l4proto == IPPROTO_TCP ? "tcp" : "udp",
		    s->collector_port, addr_format(&s->collector, a, sizeof(a)),
		    s->collector_port);
	}
	return ferror(f) ? -1 : 0;
}
