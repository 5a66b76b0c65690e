/* The config as -n prints it: every key, defaults included, in a YAML the loader reads back. */
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "config.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* Words a plain scalar must not be, or it would read back as another type. */
static bool
is_reserved_word(const char *s)
{
	static const char *const words[] = {
		"~", "null", "true", "false", "yes", "no", "on", "off", "y",
		"n", CFG_MISSING_PARAM,
	};
	char *end;

	for (size_t i = 0; i < NELEM(words); i++)
		if (strcasecmp(s, words[i]) == 0)
			return true;
	(void)strtod(s, &end);
	return end != s && *end == '\0';
}

/*
 * Whether s can be written unquoted.  Kept conservative: letters, digits and
 * a few path and address characters; ':' only outside flow lists, where
 * libyaml would take it as a key separator.
 */
static bool
plain_ok(const char *s, bool flow)
{
	if (*s == '\0' || is_reserved_word(s))
		return false;
	if (!isalnum((unsigned char)*s) && strchr("._/", *s) == NULL)
		return false;
	for (const char *p = s; *p != '\0'; p++) {
		if (isalnum((unsigned char)*p) || strchr("._/-+@%=~", *p))
			continue;
		if (*p == ':' && !flow && p[1] != '\0' && p[1] != ' ')
			continue;
		return false;
	}
	return true;
}

static void
print_str(FILE *out, const char *s, bool flow)
{
	if (plain_ok(s, flow)) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(out, "\\x%02x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

/* The shortest text that reads back as the same double. */
static void
print_double(FILE *out, double v)
{
	char buf[40];

	/* Whole numbers in plain digits: 100000, not 1e+05. */
	if (v > -1e15 && v < 1e15 && v == (double)(int64_t)v) {
		fprintf(out, "%.0f", v);
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	fputs(buf, out);
}

static void
print_u32_list(FILE *out, int indent, const char *key,
    const struct cfg_u32_list *l)
{
	if (!l->set)
		return;
	fprintf(out, "%*s%s: [", indent, "", key);
	for (size_t i = 0; i < l->n; i++)
		fprintf(out, "%s%" PRIu32, i > 0 ? ", " : "", l->v[i]);
	fputs("]\n", out);
}

static void
print_addr_list(FILE *out, int indent, const char *key,
    const struct cfg_addr_list *l)
{
	char buf[TR_ADDR_STRLEN];

	if (!l->set)
		return;
	fprintf(out, "%*s%s: [", indent, "", key);
	for (size_t i = 0; i < l->n; i++) {
		fputs(i > 0 ? ", " : "", out);
		print_str(out, addr_format(&l->v[i], buf, sizeof(buf)), true);
	}
	fputs("]\n", out);
}

static void
print_ports(FILE *out, const char *name, bool present,
    const struct cfg_u32_list *sport, const struct cfg_u32_list *dport)
{
	if (!present)
		return;
	if (!sport->set && !dport->set) {
		fprintf(out, "    %s: {}\n", name);
		return;
	}
	fprintf(out, "    %s:\n", name);
	print_u32_list(out, 6, "sport", sport);
	print_u32_list(out, 6, "dport", dport);
}

/* The protocol's header filter (ipfix_h, bmp_h, ...): the keys given. */
static void
print_header(FILE *out, enum section_id id, const struct cfg_select *s)
{
	const struct proto_filter *f = protocols[id]->filter;

	/* config.c takes NAME_h only in the section of a protocol that has one. */
	if (f == NULL || !cfg_select_has_header(s))
		return;
	fprintf(out, "    %s:\n", f->key);
	for (size_t k = 0; k < f->n_keys; k++) {
		print_u32_list(out, 6, f->keys[k].name, &s->header[k]);
		print_addr_list(out, 6, f->keys[k].name, &s->header_addr[k]);
	}
}

static void
print_select(FILE *out, enum section_id id, const struct cfg_select *s)
{
	bool ip = s->ip_src.set || s->ip_dst.set;

	if (!s->set)
		return;
	if (!ip && !s->udp && !s->tcp && !cfg_select_has_header(s)) {
		fputs("  select: {}\n", out);
		return;
	}
	fputs("  select:\n", out);
	if (ip) {
		fputs("    ip:\n", out);
		print_addr_list(out, 6, "src", &s->ip_src);
		print_addr_list(out, 6, "dst", &s->ip_dst);
	}
	print_ports(out, "udp", s->udp, &s->udp_sport, &s->udp_dport);
	print_ports(out, "tcp", s->tcp, &s->tcp_sport, &s->tcp_dport);
	print_header(out, id, s);
}

/* -n and -p's config: see config.h. */
void
config_print_flow_keys(FILE *out, unsigned keys,
    const struct cfg_flow_fidelity *f, bool sequence_always)
{
	if (keys & PROTO_KEY_TEMPLATES)
		fprintf(out, "  templates: %s\n", templates_names[f->templates]);
	if ((keys & PROTO_KEY_SEQUENCE) && (sequence_always || f->sequence_set))
		fprintf(out, "  sequence: %s\n", sequence_names[f->sequence]);
	if (keys & PROTO_KEY_TIMESTAMPS)
		fprintf(out, "  timestamps: %s\n",
		    timestamps_names[f->timestamps]);
	if (keys & PROTO_KEY_SRC_PORT)
		fprintf(out, "  preserve_src_port: %s\n",
		    f->preserve_src_port ? "true" : "false");
	if (keys & PROTO_KEY_AGENT_ADDRESS)
		fprintf(out, "  agent_address: %s\n",
		    agent_address_names[f->agent_address]);
}

static void
print_section(FILE *out, enum section_id id, const struct cfg_section *sec)
{
	if (!sec->enabled)
		return;
	if (!sec->select.set && !sec->has_collector && id != SECTION_IPFIX) {
		fprintf(out, "%s: {}\n", protocols[id]->name);
		return;
	}
	fprintf(out, "%s:\n", protocols[id]->name);
	print_select(out, id, &sec->select);
	if (sec->has_collector) {
		fputs("  collector:\n    ip: ", out);
		print_str(out, sec->collector_host, false);
		fprintf(out, "\n    port: %u\n", sec->collector_port);
	}
	if (sec->open.has_bgp_id || sec->open.has_hold_time ||
	    sec->open.trim_capabilities) {
		char bgp_id[TR_ADDR_STRLEN];

		fputs("  open:\n", out);
		if (sec->open.has_bgp_id)
			fprintf(out, "    bgp_id: %s\n", addr_format(
			    &sec->open.bgp_id, bgp_id, sizeof(bgp_id)));
		if (sec->open.has_hold_time)
			fprintf(out, "    hold_time: %u\n",
			    sec->open.hold_time);
		fprintf(out, "    trim_capabilities: %s\n",
		    sec->open.trim_capabilities ? "true" : "false");
	}
	config_print_flow_keys(out, protocols[id]->keys, &sec->flow, true);
}

static void
print_bufsize(FILE *out, const char *key, int v)
{
	if (v == 0)
		fprintf(out, "    %s: null\n", key);
	else
		fprintf(out, "    %s: %d\n", key, v);
}

static void
print_pcap_processing(FILE *out, const struct cfg_pcap_processing *pp)
{
	if (!pp->set)
		return;
	fputs("pcap_processing:\n  initial_delay: ", out);
	print_double(out, pp->initial_delay);
	fputs("\n  inter_packet_delay: ", out);
	print_double(out, pp->inter_packet_delay);
	fputs("\n  inter_protocol_delay: ", out);
	print_double(out, pp->inter_protocol_delay);
	fputs("\n  output_folder: ", out);
	if (pp->output_folder != NULL)
		print_str(out, pp->output_folder, false);
	else
		fputs("null", out);
	fprintf(out, "\n  desired_tcp_payload_size: %" PRIu32 "\n",
	    pp->desired_tcp_payload_size);
	fprintf(out, "  exit: %s\n", pp->exit ? "true" : "false");
}

void
config_print(FILE *out, const struct config *cfg)
{
	char buf[TR_ADDR_STRLEN];

	fputs("pcap:\n", out);
	for (size_t i = 0; i < cfg->n_pcaps; i++) {
		fputs("  - ", out);
		print_str(out, cfg->pcaps[i], false);
		fputc('\n', out);
	}
	if (cfg->has_repeat) {
		fputs("repeat:\n  count: [", out);
		for (size_t i = 0; i < cfg->n_pcaps; i++)
			fprintf(out, "%s%" PRIu32, i > 0 ? ", " : "",
			    cfg->repeat_count[i]);
		fprintf(out, "]\n  pattern: %s\n",
		    repeat_pattern_names[cfg->repeat_pattern]);
	}
	fputs("time_factor: ", out);
	print_double(out, cfg->time_factor);
	fprintf(out, "\nkeep_open: %s\n", cfg->keep_open ? "true" : "false");
	fprintf(out, "no_sync: %s\n", cfg->no_sync ? "true" : "false");
	/* Only when given: most configs never loop, and their -n stays as it was. */
	if (cfg->loop_exporters != LOOP_EXPORTERS_SAME || cfg->loop_block > 0)
		fprintf(out, "loop_exporters: %s\nloop_block: %" PRIu32 "\n",
		    loop_exporters_names[cfg->loop_exporters], cfg->loop_block);
	fprintf(out, "reconnect: %s\n", config_reconnect(cfg, false) ?
	    "true" : "false");
	fputs("tcp_stall_limit: ", out);
	print_double(out, cfg->tcp_stall_limit);
	fprintf(out, "\nstrict: %s\n", cfg->strict ? "true" : "false");
	fprintf(out, "optimize:\n  threading: %s\n  preload: %s\n"
	    "  network:\n", cfg->threading ? "true" : "false",
	    cfg->preload ? "true" : "false");
	print_bufsize(out, "so_sndbuf", cfg->so_sndbuf);
	print_bufsize(out, "so_rcvbuf", cfg->so_rcvbuf);
	fputs("network:\n", out);
	if (cfg->n_map == 0)
		fputs("  map: []\n", out);
	else
		fputs("  map:\n", out);
	for (size_t i = 0; i < cfg->n_map; i++) {
		fputs("    - src_ip: ", out);
		print_str(out, addr_format(&cfg->map[i].src_ip, buf,
		    sizeof(buf)), false);
		fputs("\n      repro_ip: ", out);
		print_str(out, addr_format(&cfg->map[i].repro_ip, buf,
		    sizeof(buf)), false);
		fputc('\n', out);
	}
	fputs("  interface: ", out);
	if (cfg->interface != NULL)
		print_str(out, cfg->interface, false);
	else
		fputs("null", out);
	fputc('\n', out);
	/* Only when set: the configs printed before the key existed stay as they were. */
	if (cfg->spoof != CFG_SPOOF_NONE)
		fprintf(out, "  spoof: %s\n", cfg_spoof_names[cfg->spoof]);
	for (int id = 0; id < SECTION_COUNT; id++)
		print_section(out, (enum section_id)id, &cfg->section[id]);
	print_pcap_processing(out, &cfg->pcap_processing);
}
