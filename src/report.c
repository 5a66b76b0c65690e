/* Report: counts what every stage did and shows it; it never touches the data. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report.h"
#include "source.h"

#define TABLE_INTERVAL	(5 * TR_NS_PER_SEC)
#define BAR_INTERVAL	(200 * TR_NS_PER_MS)
#define BAR_WIDTH	30

void
report_init(struct report *r, const struct config *cfg, bool verbose)
{
	memset(r, 0, sizeof(*r));
	r->cfg = cfg;
	r->started = tr_mono_now();
	r->next_table = r->started + TABLE_INTERVAL;
	r->show_table = verbose;
	r->show_bar = isatty(STDERR_FILENO) && !verbose;
}

void
report_free(struct report *r)
{
	free(r->flows.domains);
	r->flows.domains = NULL;
}

void
report_lag(struct report *r, tr_ns lag)
{
	if (lag < 0)
		lag = 0;
	r->lag_current = lag;
	if (lag > r->lag_max)
		r->lag_max = lag;
	r->lag_sum += lag;
	r->lag_count++;
}

void
report_add_source(struct report *r, const struct source_stats *s)
{
	r->frames += s->frames;
	r->truncated += s->truncated;
	r->not_ip += s->not_ip;
	r->other_l4 += s->other_l4;
	r->malformed += s->malformed;
	r->fragments += s->fragments;
	r->reassembled += s->reassembled;
	r->frag_dropped += s->frag_dropped;
}

static double
lag_avg_ms(const struct report *r)
{
	if (r->lag_count == 0)
		return 0;
	return (double)r->lag_sum / (double)r->lag_count / 1e6;
}

void
report_clear_bar(void *report)
{
	struct report *r = report;

	if (r->bar_drawn) {
		fputs("\r\033[K", stderr);
		r->bar_drawn = false;
	}
}

static void
draw_bar(struct report *r, tr_ns now, const struct report_progress *p)
{
	double frac = p->size ? (double)p->offset / (double)p->size : 0;
	int filled = (int)(frac * BAR_WIDTH);
	char bar[BAR_WIDTH + 1];
	double eta = -1;

	if (frac > 0.001)
		eta = tr_ns_to_sec(now - p->file_started) * (1 - frac) / frac;
	for (int i = 0; i < BAR_WIDTH; i++)
		bar[i] = i < filled ? '#' : '.';
	bar[BAR_WIDTH] = '\0';
	fprintf(stderr, "\r\033[K[%zu/%zu] %s [%s] %3.0f%%", p->index, p->total,
	    p->path, bar, frac * 100);
	if (eta >= 0)
		fprintf(stderr, " ETA %02d:%02d", (int)eta / 60, (int)eta % 60);
	fprintf(stderr, " lag %.3f ms", (double)r->lag_current / 1e6);
	fflush(stderr);
	r->bar_drawn = true;
}

static void report_print_table(const struct report *, FILE *);

void
report_tick(struct report *r, tr_ns now, const struct report_progress *p)
{
	if (r->show_table && now >= r->next_table) {
		report_print_table(r, stderr);
		r->next_table = now + TABLE_INTERVAL;
	}
	if (r->show_bar && p != NULL && now >= r->next_bar) {
		draw_bar(r, now, p);
		r->next_bar = now + BAR_INTERVAL;
	}
}

static void
report_print_table(const struct report *r, FILE *out)
{
	fprintf(out, "%-12s %12s %14s %10s %10s %10s\n", "protocol", "sent",
	    "bytes", "filtered", "refused", "not-sent");
	for (int i = 0; i < SECTION_COUNT; i++) {
		const struct report_section *s = &r->section[i];

		if (!r->cfg->section[i].enabled)
			continue;
		fprintf(out, "%-12s %12" PRIu64 " %14" PRIu64 " %10" PRIu64
		    " %10" PRIu64 " %10" PRIu64 "\n", protocols[i]->name,
		    s->sent, s->bytes, s->filtered, s->refused,
		    s->dropped + s->not_replayed);
	}
	fprintf(out, "unknown peer %" PRIu64 ", unknown protocol %" PRIu64
	    ", lag current %.3f ms, average %.3f ms, max %.3f ms\n",
	    r->unknown_peer, r->unknown_proto, (double)r->lag_current / 1e6,
	    lag_avg_ms(r), (double)r->lag_max / 1e6);
}

static const char *
nf_version_name(uint16_t v)
{
	return v == 10 ? "IPFIX" : v == 9 ? "NetFlow v9" : "NetFlow v5";
}

/* Flow exports: messages per version and domain, and what was changed to make them look live. */
static void
print_flows(const struct report_flows *f, FILE *out)
{
	for (size_t i = 0; i < f->n_domains; i++) {
		const struct report_nf_domain *d = &f->domains[i];

		fprintf(out, "%s domain %" PRIu32 ": %" PRIu64 " messages",
		    nf_version_name(d->version), d->domain, d->messages);
		if (d->version != 5)
			fprintf(out, ", %" PRIu64 " template sets, %" PRIu64
			    " data sets", d->template_sets, d->data_sets);
		fputc('\n', out);
	}
	if (f->n_domains == 0)
		return;
	fprintf(out, "flows: %" PRIu64 " templates primed in %" PRIu64
	    " messages, %" PRIu64 " orphan data sets dropped, %" PRIu64
	    " sent before their template, %" PRIu64 " messages left empty, %"
	    PRIu64 " malformed (sent as captured), %" PRIu64 " sequence "
	    "numbers rewritten", f->templates_primed, f->primed_messages,
	    f->orphan_sets_dropped, f->orphan_sets_sent, f->messages_emptied,
	    f->malformed, f->sequence_rewritten);
	if (f->not_tracked > 0)
		fprintf(out, ", %" PRIu64 " past a state cap (not tracked)",
		    f->not_tracked);
	if (f->shifted)
		fprintf(out, ", times shifted by %+" PRId64 " s", f->shift_secs);
	fputc('\n', out);
}

static json_t *
flows_json(const struct report_flows *f)
{
	json_t *domains = json_array();

	for (size_t i = 0; i < f->n_domains; i++) {
		const struct report_nf_domain *d = &f->domains[i];

		json_array_append_new(domains, json_pack(
		    "{s:i, s:I, s:I, s:I, s:I}",
		    "version", (int)d->version,
		    "domain", (json_int_t)d->domain,
		    "messages", (json_int_t)d->messages,
		    "template_sets", (json_int_t)d->template_sets,
		    "data_sets", (json_int_t)d->data_sets));
	}
	return json_pack("{s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
	    "domains", domains,
	    "templates_primed", (json_int_t)f->templates_primed,
	    "primed_messages", (json_int_t)f->primed_messages,
	    "orphan_sets_dropped", (json_int_t)f->orphan_sets_dropped,
	    "orphan_sets_sent", (json_int_t)f->orphan_sets_sent,
	    "messages_emptied", (json_int_t)f->messages_emptied,
	    "malformed", (json_int_t)f->malformed,
	    "sequence_rewritten", (json_int_t)f->sequence_rewritten,
	    "not_tracked", (json_int_t)f->not_tracked,
	    "shift_s", (json_int_t)f->shift_secs);
}

void
report_print_final(struct report *r, FILE *out, tr_ns now)
{
	report_clear_bar(r);
	fprintf(out, "--- traffic-reproducer summary (%.3f s) ---\n",
	    tr_ns_to_sec(now - r->started));
	report_print_table(r, out);
	if (r->ended_by != NULL)
		fprintf(out, "ended by %s, as after the last capture\n",
		    r->ended_by);
	if (r->shard_n > 0)
		fprintf(out, "shard %" PRIu32 "/%" PRIu32 ": %zu of %zu "
		    "exporters kept, %" PRIu64 " packets left to other "
		    "shards\n", r->shard_k, r->shard_n, r->shard_exporters,
		    r->shard_exporters_total, r->shard_skipped);
	fprintf(out, "captures: %" PRIu64 " played, %" PRIu64 " skipped, %"
	    PRIu64 " damaged; frames %" PRIu64 " (truncated %" PRIu64
	    ", not IP %" PRIu64 ", other L4 %" PRIu64 ", malformed %" PRIu64
	    ", fragments %" PRIu64 " -> %" PRIu64 " datagrams, %" PRIu64
	    " fragments dropped)\n", r->captures_played, r->captures_skipped,
	    r->captures_damaged, r->frames, r->truncated, r->not_ip,
	    r->other_l4, r->malformed, r->fragments, r->reassembled,
	    r->frag_dropped);
	if (r->tcp_sessions > 0)
		fprintf(out, "tcp: %" PRIu64 " sessions, %" PRIu64
		    " connect failures, %" PRIu64 " closed by the collector, %"
		    PRIu64 " reconnects, %" PRIu64 " joined mid-stream, %" PRIu64
		    " ended by the stall limit, %" PRIu64 " captured collector "
		    "segments read; "
		    "%" PRIu64 " bytes retransmitted in the capture, %" PRIu64
		    " never captured, %" PRIu64 " skipped to a message boundary, "
		    "%" PRIu64 " framing errors, %" PRIu64 " bytes of an "
		    "unfinished last message, %" PRIu64 " queued bytes lost "
		    "with their connection, %" PRIu64 " sessions held back by "
		    "a slow collector (longest wait %.3f s); bgp: %" PRIu64
		    " keepalives added, %" PRIu64 " notifications received, %"
		    PRIu64 " OPENs refused and retried\n",
		    r->tcp_sessions, r->tcp_connect_failures,
		    r->tcp_closed_by_collector, r->tcp_reconnects,
		    r->tcp_sessions_joined, r->tcp_sessions_stalled,
		    r->tcp_collector_segments, r->tcp_retransmitted,
		    r->tcp_gap_bytes, r->tcp_skipped_bytes,
		    r->tcp_framing_errors, r->tcp_unfinished_bytes,
		    r->tcp_lost_bytes, r->tcp_sessions_held,
		    tr_ns_to_sec(r->tcp_held_lag_max), r->bgp_keepalives_added,
		    r->bgp_notifications_received, r->bgp_open_refusals);
	print_flows(&r->flows, out);
}

static json_t *
sections_json(const struct report *r)
{
	json_t *obj = json_object();

	for (int i = 0; i < SECTION_COUNT; i++) {
		const struct report_section *s = &r->section[i];

		if (!r->cfg->section[i].enabled)
			continue;
		json_object_set_new(obj, protocols[i]->name, json_pack(
		    "{s:I, s:I, s:I, s:I, s:I, s:I}",
		    "sent", (json_int_t)s->sent,
		    "bytes", (json_int_t)s->bytes,
		    "filtered", (json_int_t)s->filtered,
		    "not_replayed", (json_int_t)s->not_replayed,
		    "refused", (json_int_t)s->refused,
		    "dropped", (json_int_t)s->dropped));
	}
	return obj;
}

int
report_write_json(const struct report *r, const char *path, tr_ns now)
{
	json_t *root;
	int rc;

	root = json_pack("{s:f, s:f, s:o, s:I, s:I, s:{s:f, s:f, s:f}, "
	    "s:{s:I, s:I, s:I}, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}}",
	    "duration_s", tr_ns_to_sec(now - r->started),
	    "first_sent_unix", tr_ns_to_sec(r->first_sent_wall),
	    "sections", sections_json(r),
	    "unknown_peer", (json_int_t)r->unknown_peer,
	    "unknown_protocol", (json_int_t)r->unknown_proto,
	    "lag_ms",
	    "current", (double)r->lag_current / 1e6,
	    "average", lag_avg_ms(r),
	    "max", (double)r->lag_max / 1e6,
	    "captures",
	    "played", (json_int_t)r->captures_played,
	    "skipped", (json_int_t)r->captures_skipped,
	    "damaged", (json_int_t)r->captures_damaged,
	    "frames",
	    "total", (json_int_t)r->frames,
	    "truncated", (json_int_t)r->truncated,
	    "not_ip", (json_int_t)r->not_ip,
	    "other_l4", (json_int_t)r->other_l4,
	    "malformed", (json_int_t)r->malformed,
	    "fragments", (json_int_t)r->fragments,
	    "reassembled", (json_int_t)r->reassembled,
	    "fragments_dropped", (json_int_t)r->frag_dropped);
	if (root == NULL) {
		errno = ENOMEM;
		return -1;
	}
	json_object_set_new(root, "tcp", json_pack(
	    "{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
	    "s:I, s:f, s:I, s:I, s:I}",
	    "sessions", (json_int_t)r->tcp_sessions,
	    "connect_failures", (json_int_t)r->tcp_connect_failures,
	    "closed_by_collector", (json_int_t)r->tcp_closed_by_collector,
	    "reconnects", (json_int_t)r->tcp_reconnects,
	    "sessions_joined", (json_int_t)r->tcp_sessions_joined,
	    "sessions_stalled", (json_int_t)r->tcp_sessions_stalled,
	    "collector_segments", (json_int_t)r->tcp_collector_segments,
	    "retransmitted_bytes", (json_int_t)r->tcp_retransmitted,
	    "gap_bytes", (json_int_t)r->tcp_gap_bytes,
	    "skipped_bytes", (json_int_t)r->tcp_skipped_bytes,
	    "framing_errors", (json_int_t)r->tcp_framing_errors,
	    "unfinished_bytes", (json_int_t)r->tcp_unfinished_bytes,
	    "lost_bytes", (json_int_t)r->tcp_lost_bytes,
	    "sessions_held", (json_int_t)r->tcp_sessions_held,
	    "held_lag_max_s", tr_ns_to_sec(r->tcp_held_lag_max),
	    "bgp_keepalives_added", (json_int_t)r->bgp_keepalives_added,
	    "bgp_notifications_received",
	    (json_int_t)r->bgp_notifications_received,
	    "bgp_open_refusals", (json_int_t)r->bgp_open_refusals));
	json_object_set_new(root, "flows", flows_json(&r->flows));
	rc = json_dump_file(root, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (rc == -1 && errno == 0)
		errno = EIO;
	return rc;
}
