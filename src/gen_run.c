/* generate's run: every stream (exporter, section, domain) asked for each export interval's messages, written as UDP frames in time order. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "frame_build.h"
#include "gen_proto.h"
#include "gen_run.h"
#include "packet.h"
#include "proto.h"

#define MSG_CAP		65507	/* the largest UDP payload over IPv4 */
#define MSS_V4		1460	/* TCP payload of a 1,500-byte Ethernet frame */
#define MSS_V6		1440

/* A TCP stream's session with the collector, as the capture shows it. */
struct tcp_state {
	struct frame_tcp c;
	bool		 open;
};

struct run {
	const struct gen_spec		*spec;
	struct pcapw			*pw;
	const struct gen_exporter	*ex;	/* whose message is emitted */
	struct tcp_state		*tcp;	/* its session, for a TCP section */
	tr_ns				 ts;	/* the next frame's time */
	uint8_t				*frame;
	uint8_t				*msg;
	uint8_t				*tx;	/* a session's bytes not yet in a segment */
	size_t				 tx_len;
	struct gen_totals		*totals;
	uint16_t			 ip_id;
};

/* TCP sections have one stream per exporter, UDP ones one per exporter and domain. */
static size_t
section_streams(const struct gen_section *sec, const struct gen_exporter *ex)
{
	return sec->proto->l4proto == IPPROTO_TCP ? 1 : ex->n_domains;
}

static int
write_frame(struct run *r, const struct frame_spec *fs)
{
	ssize_t n = frame_build(fs, r->frame, FRAME_MAX_LEN);

	if (n < 0 || pcapw_write(r->pw, r->ts, r->frame, (uint32_t)n,
	    (uint32_t)n) == -1)
		return -1;
	r->totals->frames++;
	/* Frames of one moment a microsecond apart: the capture keeps their order. */
	r->ts += TR_NS_PER_US;
	return 0;
}

/* One message of the current exporter's: a UDP datagram to the collector. */
static int
emit_udp(struct gen_out *out, size_t len)
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

	if (write_frame(r, &fs) == -1)
		return -1;
	r->totals->bytes += len;
	return 0;
}

/* One segment of the current session, from the exporter (from_a) or the collector. */
static int
tcp_segment(struct run *r, bool from_a, uint8_t flags, const uint8_t *data,
    size_t len)
{
	struct frame_spec fs = { .link = FRAME_LINK_EN10MB,
	    .ip_id = r->ip_id++ };

	frame_tcp_segment(&r->tcp->c, from_a, flags, data, len, &fs);
	return write_frame(r, &fs);
}

/* The handshake, with initial sequence numbers from the exporter's index: the same bytes on every run. */
static int
tcp_open(struct run *r)
{
	struct tcp_state *t = r->tcp;

	t->c = (struct frame_tcp){ .a = r->ex->addr, .b = r->spec->collector,
	    .aport = r->ex->sport, .bport = r->spec->collector_port,
	    .a_nxt = 1000000u * (uint32_t)(r->ex->index + 1),
	    .b_nxt = 2000000000u + 1000u * (uint32_t)r->ex->index };
	t->open = true;
	if (tcp_segment(r, true, TR_TCP_SYN, NULL, 0) == -1 ||
	    tcp_segment(r, false, TR_TCP_SYN | TR_TCP_ACK, NULL, 0) == -1)
		return -1;
	return tcp_segment(r, true, TR_TCP_ACK, NULL, 0);
}

static size_t
mss(const struct run *r)
{
	return r->ex->addr.family == AF_INET ? MSS_V4 : MSS_V6;
}

/* The session's pending bytes in full segments; with all, the rest too, then the collector's ACK. */
static int
tcp_flush(struct run *r, bool all)
{
	size_t m = mss(r), off = 0;

	while (r->tx_len - off >= m || (all && off < r->tx_len)) {
		size_t n = r->tx_len - off < m ? r->tx_len - off : m;

		if (tcp_segment(r, true, TR_TCP_ACK | (n < m ? TR_TCP_PSH : 0),
		    r->tx + off, n) == -1)
			return -1;
		off += n;
	}
	memmove(r->tx, r->tx + off, r->tx_len - off);
	r->tx_len -= off;
	if (all && off > 0)
		return tcp_segment(r, false, TR_TCP_ACK, NULL, 0);
	return 0;
}

/* One message into the current exporter's session: its bytes go out in full segments as they come. */
static int
emit_tcp(struct gen_out *out, size_t len)
{
	struct run *r = out->run;

	if (!r->tcp->open && tcp_open(r) == -1)
		return -1;
	memcpy(r->tx + r->tx_len, r->msg, len);
	r->tx_len += len;
	r->totals->bytes += len;
	return tcp_flush(r, false);
}

/* A message of the collector's: the exporter's pending bytes go first, then it, then the exporter's ACK. */
static int
reply_tcp(struct gen_out *out, size_t len)
{
	struct run *r = out->run;

	if (!r->tcp->open && tcp_open(r) == -1)
		return -1;
	if (tcp_flush(r, true) == -1 ||
	    tcp_segment(r, false, TR_TCP_PSH | TR_TCP_ACK, r->msg, len) == -1)
		return -1;
	return tcp_segment(r, true, TR_TCP_ACK, NULL, 0);
}

/* The session's end: its last bytes, then FIN both ways. */
static int
tcp_close(struct run *r)
{
	if (tcp_flush(r, true) == -1 ||
	    tcp_segment(r, true, TR_TCP_FIN | TR_TCP_ACK, NULL, 0) == -1 ||
	    tcp_segment(r, false, TR_TCP_FIN | TR_TCP_ACK, NULL, 0) == -1)
		return -1;
	r->tcp->open = false;
	return tcp_segment(r, true, TR_TCP_ACK, NULL, 0);
}

int
gen_run(const struct gen_spec *s, struct pcapw *pw,
    volatile sig_atomic_t *stop, struct gen_totals *t, char *err,
    size_t errlen)
{
	struct run r = { .spec = s, .pw = pw, .totals = t, .ts = s->start };
	struct gen_out out = { .cap = MSG_CAP, .run = &r };
	uint64_t ticks = gen_spec_ticks(s);
	tr_ns interval = (tr_ns)s->interval_ms * TR_NS_PER_MS;
	size_t n_streams = 0, k;
	void **streams;
	struct tcp_state *tcp;
	int rc = -1;

	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < s->n_exporters; i++)
		for (size_t j = 0; j < s->n_sections; j++)
			n_streams += section_streams(&s->sections[j],
			    &s->exporters[i]);
	streams = calloc(n_streams, sizeof(*streams));
	tcp = calloc(n_streams, sizeof(*tcp));
	r.frame = malloc(FRAME_MAX_LEN);
	r.msg = malloc(MSG_CAP);
	r.tx = malloc(MSG_CAP + MSS_V4);
	out.buf = r.msg;
	if (streams == NULL || tcp == NULL || r.frame == NULL ||
	    r.msg == NULL || r.tx == NULL) {
		snprintf(err, errlen, "out of memory for %zu streams",
		    n_streams);
		goto done;
	}
	/* Streams in the order they play: exporter, section, domain. */
	k = 0;
	for (size_t i = 0; i < s->n_exporters; i++)
		for (size_t j = 0; j < s->n_sections; j++)
			for (size_t d = 0; d < section_streams(&s->sections[j],
			    &s->exporters[i]); d++) {
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
			for (size_t j = 0; j < s->n_sections; j++) {
				const struct gen_section *sec = &s->sections[j];
				bool is_tcp = sec->proto->l4proto == IPPROTO_TCP;

				out.emit = is_tcp ? emit_tcp : emit_udp;
				out.reply = is_tcp ? reply_tcp : NULL;
				for (size_t d = 0; d < section_streams(sec,
				    r.ex); d++, k++) {
					r.tcp = &tcp[k];
					if (sec->gen->tick(streams[k], tick, slot,
					    &out) == -1 ||
					    (is_tcp && tcp[k].open &&
					    tcp_flush(&r, true) == -1)) {
						snprintf(err, errlen, "writing "
						    "the capture: %s",
						    strerror(errno));
						goto done;
					}
				}
			}
		}
	}
	/* The sessions end after the last tick, in the order they play, unless they stay up. */
	k = 0;
	for (size_t i = 0; i < s->n_exporters; i++)
		for (size_t j = 0; j < s->n_sections; j++)
			for (size_t d = 0; d < section_streams(&s->sections[j],
			    &s->exporters[i]); d++, k++) {
				r.ex = &s->exporters[i];
				r.tcp = &tcp[k];
				if (tcp[k].open && !s->sections[j].gen->stays_up &&
				    tcp_close(&r) == -1) {
					snprintf(err, errlen, "writing the "
					    "capture: %s", strerror(errno));
					goto done;
				}
			}
	rc = 0;
done:
	for (size_t i = 0, kk = 0; streams != NULL && i < s->n_exporters; i++)
		for (size_t j = 0; j < s->n_sections; j++)
			for (size_t d = 0; d < section_streams(&s->sections[j],
			    &s->exporters[i]); d++, kk++)
				if (streams[kk] != NULL)
					s->sections[j].gen->stream_free(
					    streams[kk]);
	free(streams);
	free(tcp);
	free(r.frame);
	free(r.msg);
	free(r.tx);
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
	a->peers += b->peers * times;
	a->peer_up += b->peer_up * times;
	a->peer_down += b->peer_down * times;
	a->route_monitoring += b->route_monitoring * times;
	a->prefixes += b->prefixes * times;
	a->withdrawn += b->withdrawn * times;
	a->end_of_rib += b->end_of_rib * times;
	a->stats += b->stats * times;
	a->sessions += b->sessions * times;
	a->updates += b->updates * times;
	a->adj_rib_in += b->adj_rib_in * times;
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
	/* BMP's counts where there are monitored peers, BGP's where there are sessions. */
	if (c->peers > 0)
		fprintf(f, ", \"peers\": %" PRIu64 ", \"peer_up\": %" PRIu64
		    ", \"peer_down\": %" PRIu64 ", \"route_monitoring\": %"
		    PRIu64 ", \"statistics\": %" PRIu64, c->peers, c->peer_up,
		    c->peer_down, c->route_monitoring, c->stats);
	if (c->sessions > 0)
		fprintf(f, ", \"sessions\": %" PRIu64 ", \"updates\": %" PRIu64
		    ", \"adj_rib_in\": %" PRIu64, c->sessions, c->updates,
		    c->adj_rib_in);
	if (c->peers > 0 || c->sessions > 0)
		fprintf(f, ", \"prefixes\": %" PRIu64 ", \"withdrawn\": %"
		    PRIu64 ", \"end_of_rib\": %" PRIu64, c->prefixes,
		    c->withdrawn, c->end_of_rib);
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
			    section_streams(sec, &s->exporters[i]));
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
			    &cache[j], ex->n_domains),
			    section_streams(&s->sections[j], ex));
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
