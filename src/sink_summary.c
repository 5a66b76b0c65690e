/* The built-in sink's summary when it stops: a table, or JSON (--json), sorted so that arrival order does not show. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "addr.h"
#include "netflow.h"
#include "sink_model.h"

static int
udp_cmp(const void *x, const void *y)
{
	const struct sink_udp_stat *a = x, *b = y;
	int c = addr_compare(&a->exporter, &b->exporter);

	return c != 0 ? c : (int)a->port - (int)b->port;
}

static int
nf_cmp(const void *x, const void *y)
{
	const struct sink_nf *a = x, *b = y;

	if (a->version != b->version)
		return (int)a->version - (int)b->version;
	if (a->domain != b->domain)
		return a->domain < b->domain ? -1 : 1;
	return (int)a->sport - (int)b->sport;
}

static int
tcp_cmp(const void *x, const void *y)
{
	const struct sink_tcp_stat *a = x, *b = y;
	int c = addr_compare(&a->exporter, &b->exporter);

	if (c != 0)
		return c;
	if (a->port != b->port)
		return (int)a->port - (int)b->port;
	return (int)a->proto - (int)b->proto;
}

/* Sorted output is the same whatever order exporters arrived in. */
void
sink_sort(struct sink *s)
{
	if (s->nudp > 0)
		qsort(s->udp, s->nudp, sizeof(*s->udp), udp_cmp);
	for (size_t i = 0; i < s->nudp; i++)
		if (s->udp[i].nnf > 0)
			qsort(s->udp[i].nf, s->udp[i].nnf,
			    sizeof(*s->udp[i].nf), nf_cmp);
	if (s->ntcp > 0)
		qsort(s->tcp, s->ntcp, sizeof(*s->tcp), tcp_cmp);
}

static json_t *
jint(uint64_t v)
{
	return json_integer((json_int_t)v);
}

static json_t *
json_nf(const struct sink_nf *nf)
{
	json_t *o = json_object();

	json_object_set_new(o, "version", jint(nf->version));
	json_object_set_new(o, "domain", jint(nf->domain));
	json_object_set_new(o, "source_port", jint(nf->sport));
	json_object_set_new(o, "messages", jint(nf->messages));
	json_object_set_new(o, "first_sequence", jint(nf->first_seq));
	json_object_set_new(o, "last_sequence", jint(nf->last_seq));
	json_object_set_new(o, "sequence_errors", jint(nf->seq_errors));
	json_object_set_new(o, "template_sets", jint(nf->template_sets));
	json_object_set_new(o, "data_sets", jint(nf->data_sets));
	json_object_set_new(o, "malformed", jint(nf->malformed));
	return o;
}

static json_t *
json_udp(const struct sink_udp_stat *u)
{
	char abuf[TR_ADDR_STRLEN];
	json_t *o = json_object(), *nfs = json_array();

	json_object_set_new(o, "exporter",
	    json_string(addr_format(&u->exporter, abuf, sizeof(abuf))));
	json_object_set_new(o, "port", jint(u->port));
	json_object_set_new(o, "datagrams", jint(u->datagrams));
	json_object_set_new(o, "bytes", jint(u->bytes));
	json_object_set_new(o, "undecoded", jint(u->undecoded));
	for (size_t i = 0; i < u->nnf; i++)
		json_array_append_new(nfs, json_nf(&u->nf[i]));
	json_object_set_new(o, "netflow", nfs);
	for (int id = 0; id < SECTION_COUNT; id++)
		if (protocols[id]->count != NULL)
			json_object_set_new(o, protocols[id]->name,
			    u->proto[id] != NULL ?
			    protocols[id]->count->json(u->proto[id]) :
			    json_null());
	return o;
}

/* Every type of the protocol, zeros included, so the shape is stable. */
static json_t *
json_types(const struct sink_tcp_stat *t)
{
	json_t *o = json_object();

	if (t->proto == SECTION_BMP) {
		for (int i = 0; i < BMP_TYPE_COUNT; i++)
			json_object_set_new(o, bmp_type_names[i],
			    jint(t->types[i]));
		json_object_set_new(o, "other", jint(t->other_types));
	}
	else if (t->proto == SECTION_BGP)
		for (int i = 1; i <= BGP_TYPE_MAX; i++)
			json_object_set_new(o, bgp_type_names[i],
			    jint(t->types[i]));
	return o;
}

static json_t *
json_tcp(const struct sink_tcp_stat *t)
{
	char abuf[TR_ADDR_STRLEN];
	json_t *o = json_object(), *errs = json_array(), *notes = json_array();

	json_object_set_new(o, "exporter",
	    json_string(addr_format(&t->exporter, abuf, sizeof(abuf))));
	json_object_set_new(o, "port", jint(t->port));
	json_object_set_new(o, "protocol",
	    json_string(sink_proto_name(t->proto)));
	json_object_set_new(o, "connections", jint(t->connections));
	json_object_set_new(o, "closed", jint(t->closed));
	json_object_set_new(o, "resets", jint(t->resets));
	json_object_set_new(o, "bytes", jint(t->bytes));
	json_object_set_new(o, "messages", jint(t->messages));
	json_object_set_new(o, "types", json_types(t));
	json_object_set_new(o, "framing_errors", jint(t->framing_errors));
	for (size_t i = 0; i < t->nerrors; i++)
		json_array_append_new(errs, json_pack("{s:I, s:s}", "offset",
		    (json_int_t)t->errors[i].offset, "error",
		    t->errors[i].what));
	json_object_set_new(o, "errors", errs);
	json_object_set_new(o, "truncated_bytes", jint(t->truncated_bytes));
	json_object_set_new(o, "opens_answered", jint(t->opens_answered));
	for (size_t i = 0; i < t->nnotes; i++)
		json_array_append_new(notes, json_pack("{s:i, s:i}", "code",
		    t->notes[i].code, "subcode", t->notes[i].subcode));
	json_object_set_new(o, "notifications", notes);
	return o;
}

struct sink_totals {
	uint64_t	datagrams;
	uint64_t	connections;
	uint64_t	messages;
	uint64_t	bytes;
};

static struct sink_totals
sink_totals(const struct sink *s)
{
	struct sink_totals tot = { 0 };

	for (size_t i = 0; i < s->nudp; i++) {
		tot.datagrams += s->udp[i].datagrams;
		tot.bytes += s->udp[i].bytes;
	}
	for (size_t i = 0; i < s->ntcp; i++) {
		tot.connections += s->tcp[i].connections;
		tot.messages += s->tcp[i].messages;
		tot.bytes += s->tcp[i].bytes;
	}
	return tot;
}

int
summary_json(const struct sink *s, FILE *out)
{
	struct sink_totals tot = sink_totals(s);
	json_t *root = json_object(), *udp = json_array(), *tcp = json_array();
	json_t *totals = json_object();
	int rc;

	for (size_t i = 0; i < s->nudp; i++)
		json_array_append_new(udp, json_udp(&s->udp[i]));
	for (size_t i = 0; i < s->ntcp; i++)
		json_array_append_new(tcp, json_tcp(&s->tcp[i]));
	json_object_set_new(totals, "datagrams", jint(tot.datagrams));
	json_object_set_new(totals, "tcp_connections", jint(tot.connections));
	json_object_set_new(totals, "tcp_messages", jint(tot.messages));
	json_object_set_new(totals, "bytes", jint(tot.bytes));
	json_object_set_new(totals, "untracked", jint(s->untracked));
	json_object_set_new(root, "udp", udp);
	json_object_set_new(root, "tcp", tcp);
	json_object_set_new(root, "totals", totals);
	rc = json_dumpf(root, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', out);
	json_decref(root);
	return rc;
}

static const char *
nf_name(uint16_t version)
{
	switch (version) {
	case NF_VERSION_5:
		return "NetFlow v5";
	case NF_VERSION_9:
		return "NetFlow v9";
	default:
		return "IPFIX";
	}
}

static void
table_udp(const struct sink_udp_stat *u, FILE *out)
{
	char abuf[TR_ADDR_STRLEN];

	fprintf(out, "udp  %-39s %5u %10" PRIu64 " datagrams %12" PRIu64
	    " bytes, %" PRIu64 " undecoded\n", addr_format(&u->exporter, abuf, sizeof(abuf)),
	    u->port, u->datagrams, u->bytes, u->undecoded);
	for (size_t i = 0; i < u->nnf; i++) {
		const struct sink_nf *nf = &u->nf[i];

		fprintf(out, "     %s domain %" PRIu32 " from port %u: %"
		    PRIu64 " messages, sequence %" PRIu32 "..%" PRIu32 ", %"
		    PRIu64 " sequence errors, %" PRIu64 " template sets, %"
		    PRIu64 " data sets, %" PRIu64 " malformed\n",
		    nf_name(nf->version), nf->domain, nf->sport, nf->messages, nf->first_seq, nf->last_seq,
		    nf->seq_errors, nf->template_sets, nf->data_sets,
		    nf->malformed);
	}
	for (int id = 0; id < SECTION_COUNT; id++)
		if (u->proto[id] != NULL)
			protocols[id]->count->text(u->proto[id], out);
}

static void
table_tcp(const struct sink_tcp_stat *t, FILE *out)
{
	char abuf[TR_ADDR_STRLEN];
	const char *sep = "     ";

	fprintf(out, "tcp  %-39s %5u %-4s %6" PRIu64 " conns (%" PRIu64
	    " closed, %" PRIu64 " reset) %12" PRIu64 " bytes %10" PRIu64
	    " messages %" PRIu64 " framing errors\n",
	    addr_format(&t->exporter, abuf, sizeof(abuf)), t->port, sink_proto_name(t->proto),
	    t->connections, t->closed, t->resets, t->bytes, t->messages,
	    t->framing_errors);
	for (int i = 0; i < SINK_TYPE_SLOTS; i++) {
		const char *name = t->proto == SECTION_BMP ?
		    (i < BMP_TYPE_COUNT ? bmp_type_names[i] : NULL) :
		    (i <= BGP_TYPE_MAX ? bgp_type_names[i] : NULL);

		if (t->types[i] == 0 || name == NULL)
			continue;
		fprintf(out, "%s%s %" PRIu64, sep, name, t->types[i]);
		sep = ", ";
	}
	if (sep[0] == ',')
		fputc('\n', out);
	for (size_t i = 0; i < t->nerrors; i++)
		fprintf(out, "     error at byte %" PRIu64 ": %s\n",
		    t->errors[i].offset, t->errors[i].what);
	for (size_t i = 0; i < t->nnotes; i++)
		fprintf(out, "     notification %u/%u received\n",
		    t->notes[i].code, t->notes[i].subcode);
	if (t->truncated_bytes > 0)
		fprintf(out, "     %" PRIu64 " bytes of unfinished messages\n",
		    t->truncated_bytes);
}

void
summary_table(const struct sink *s, FILE *out)
{
	struct sink_totals tot = sink_totals(s);

	fprintf(out, "     %-39s %5s\n", "exporter", "local port");
	for (size_t i = 0; i < s->nudp; i++)
		table_udp(&s->udp[i], out);
	for (size_t i = 0; i < s->ntcp; i++)
		table_tcp(&s->tcp[i], out);
	fprintf(out, "total: %" PRIu64 " datagrams, %" PRIu64
	    " tcp connections, %" PRIu64 " tcp messages, %" PRIu64 " bytes",
	    tot.datagrams, tot.connections, tot.messages, tot.bytes);
	if (s->untracked > 0)
		fprintf(out, ", %" PRIu64 " untracked (past a cap)",
		    s->untracked);
	fputc('\n', out);
}

