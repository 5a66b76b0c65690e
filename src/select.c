/* Selection: protocol sections by the older tool's selectors, exporters by network.map. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "select.h"

/*
 * Map entries sorted by source address, so a lookup is a binary search
 * however many exporters there are.  The address is searched as a number
 * (family, then its 128 bits in network order), compared inline: the search
 * runs for every frame the memo does not know, which is every frame with
 * more flow directions than the memo holds.
 */
struct exporter_key {
	uint64_t	hi, lo;		/* IPv4: hi = 0, lo = the address; IPv6: its halves */
	uint8_t		v6;		/* IPv4 sorts first */
};

struct exporter_index {
	struct exporter_key	key;
	int			map_index;
};

/*
 * What select_side said of a recent flow direction.  The answer depends on
 * the packet's protocol, addresses and ports only, and a capture's frames
 * come in runs of few flows (a segment, then the collector's ACK), so most
 * frames find their answer here instead of running every section's
 * selectors and the exporter search (twice for the collector's side).
 */
struct select_memo {
	struct tr_addr		src, dst;
	uint16_t		sport, dport;
	uint8_t			l4proto;
	bool			used;
	enum select_side	side;
	int			section, exporter;
};

/* Two answers per set, so two flows that hash alike do not evict each other in turn. */
#define SELECT_MEMO_SETS	512	/* a power of two */

/*
 * The enabled sections of one transport, in table order: select_section
 * runs for nearly every frame (twice for a collector's segment), and
 * walking every section of the table to skip the disabled ones and the
 * other transport's was most of its work.
 */
struct section_list {
	int	id[SECTION_COUNT];
	int	n;
};

struct selector {
	const struct config	*cfg;
	struct section_list	 udp, tcp;
	struct exporter_index	*exporters;
	size_t			 n_exporters;
	struct select_memo	 memo[SELECT_MEMO_SETS][2];
};

static uint64_t
be64_at(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static struct exporter_key
exporter_key_of(const struct tr_addr *a)
{
	struct exporter_key k = { 0, 0, 0 };

	if (a->family == AF_INET) {
		k.lo = ntohl(a->v4.s_addr);
	} else {
		k.v6 = 1;
		k.hi = be64_at(a->v6.s6_addr);
		k.lo = be64_at(a->v6.s6_addr + 8);
	}
	return k;
}

static int
key_compare(const struct exporter_key *a, const struct exporter_key *b)
{
	if (a->v6 != b->v6)
		return a->v6 < b->v6 ? -1 : 1;
	if (a->hi != b->hi)
		return a->hi < b->hi ? -1 : 1;
	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	return 0;
}

static int
exporter_cmp(const void *a, const void *b)
{
	return key_compare(&((const struct exporter_index *)a)->key,
	    &((const struct exporter_index *)b)->key);
}

struct selector *
selector_new(const struct config *cfg)
{
	struct selector *sel;

	if ((sel = calloc(1, sizeof(*sel))) == NULL)
		return NULL;
	sel->cfg = cfg;
	if (cfg->n_map > 0) {
		sel->exporters = calloc(cfg->n_map, sizeof(*sel->exporters));
		if (sel->exporters == NULL) {
			free(sel);
			return NULL;
		}
	}
	for (size_t i = 0; i < cfg->n_map; i++) {
		sel->exporters[i].key = exporter_key_of(&cfg->map[i].src_ip);
		sel->exporters[i].map_index = (int)i;
	}
	sel->n_exporters = cfg->n_map;
	for (int id = 0; id < SECTION_COUNT; id++) {
		struct section_list *l;

		if (!cfg->section[id].enabled)
			continue;
		switch (protocols[(enum section_id)id]->l4proto) {
		case TR_IPPROTO_UDP:
			l = &sel->udp;
			break;
		case TR_IPPROTO_TCP:
			l = &sel->tcp;
			break;
		default:
			continue;
		}
		l->id[l->n++] = id;
	}
	if (sel->n_exporters > 0)
		qsort(sel->exporters, sel->n_exporters,
		    sizeof(*sel->exporters), exporter_cmp);
	return sel;
}

void
selector_free(struct selector *sel)
{
	if (sel == NULL)
		return;
	free(sel->exporters);
	free(sel);
}

bool
select_u32_match(const struct cfg_u32_list *list, uint32_t value)
{
	if (!list->set)
		return true;
	for (size_t i = 0; i < list->n; i++)
		if (list->v[i] == value)
			return true;
	return false;
}

static bool
addr_list_match(const struct cfg_addr_list *list, const struct tr_addr *a)
{
	if (!list->set)
		return true;
	for (size_t i = 0; i < list->n; i++)
		if (addr_equal(&list->v[i], a))
			return true;
	return false;
}

static bool
select_match(const struct cfg_select *s, const struct tr_packet *pkt)
{
	if (!s->set)
		return true;
	if (!addr_list_match(&s->ip_src, &pkt->src) ||
	    !addr_list_match(&s->ip_dst, &pkt->dst))
		return false;
	if (s->udp && (pkt->l4proto != TR_IPPROTO_UDP ||
	    !select_u32_match(&s->udp_sport, pkt->sport) ||
	    !select_u32_match(&s->udp_dport, pkt->dport)))
		return false;
	if (s->tcp && (pkt->l4proto != TR_IPPROTO_TCP ||
	    !select_u32_match(&s->tcp_sport, pkt->sport) ||
	    !select_u32_match(&s->tcp_dport, pkt->dport)))
		return false;
	return true;
}

int
select_section(const struct selector *sel, const struct tr_packet *pkt)
{
	const struct section_list *l;

	if (pkt->l4proto == TR_IPPROTO_TCP)
		l = &sel->tcp;
	else if (pkt->l4proto == TR_IPPROTO_UDP)
		l = &sel->udp;
	else
		return -1;
	for (int i = 0; i < l->n; i++)
		if (select_match(&sel->cfg->section[l->id[i]].select, pkt))
			return l->id[i];
	return -1;
}

static bool
header_passes(const void *ctx, int key, uint32_t value)
{
	const struct cfg_select *s = ctx;

	return select_u32_match(&s->header[key], value);
}

static bool
header_passes_address(const void *ctx, int key, const struct tr_addr *a)
{
	const struct cfg_select *s = ctx;

	return addr_list_match(&s->header_addr[key], a);
}

bool
select_datagram(const struct cfg_section *sec, enum section_id id,
    const uint8_t *payload, size_t len)
{
	const struct proto_filter *f = protocols[id]->filter;
	struct proto_filter_query q = { header_passes, header_passes_address,
	    &sec->select };

	/* A filter given is its protocol's: config takes NAME_h nowhere else. */
	return !cfg_select_has_header(&sec->select) || f->datagram == NULL ||
	    f->datagram(payload, len, &q);
}

bool
select_message_type(const struct cfg_section *sec, uint8_t type)
{
	return select_u32_match(&sec->select.header[0], type);
}

/* select_collector_side, with the exporter found on the way (-1 with the section). */
static int
collector_side(const struct selector *sel, const struct tr_packet *pkt,
    int *exporter)
{
	struct tr_packet rev;
	int section;

	*exporter = -1;
	if (pkt->l4proto != TR_IPPROTO_TCP)
		return -1;
	rev = tr_packet_reversed(pkt);
	if ((section = select_section(sel, &rev)) < 0 ||
	    (*exporter = select_exporter(sel, &rev.src)) < 0)
		return -1;
	return section;
}

int
select_collector_side(const struct selector *sel, const struct tr_packet *pkt)
{
	int exporter;

	return collector_side(sel, pkt, &exporter);
}

static enum select_side
select_side_uncached(const struct selector *sel, const struct tr_packet *pkt,
    int *section, int *exporter)
{
	int fwd = select_section(sel, pkt);

	if (fwd >= 0 && (*exporter = select_exporter(sel, &pkt->src)) >= 0) {
		*section = fwd;
		return SELECT_EXPORTER;
	}
	if ((*section = collector_side(sel, pkt, exporter)) >= 0)
		return SELECT_COLLECTOR;
	*section = fwd;
	*exporter = -1;
	return fwd >= 0 ? SELECT_UNKNOWN_EXPORTER : SELECT_NONE;
}

static uint32_t
addr_fold(const struct tr_addr *a)
{
	const uint32_t *w = a->v6.s6_addr32;

	return a->family == AF_INET ? a->v4.s_addr : w[0] ^ w[1] ^ w[2] ^ w[3];
}

static uint32_t
rotl16(uint32_t v)
{
	return v << 16 | v >> 16;
}

static bool
addr_same(const struct tr_addr *a, const struct tr_addr *b)
{
	if (a->family != b->family)
		return false;
	if (a->family == AF_INET)
		return a->v4.s_addr == b->v4.s_addr;
	return memcmp(&a->v6, &b->v6, sizeof(a->v6)) == 0;
}

static bool
memo_matches(const struct select_memo *m, const struct tr_packet *pkt)
{
	return m->used && m->l4proto == pkt->l4proto && m->sport == pkt->sport &&
	    m->dport == pkt->dport && addr_same(&m->src, &pkt->src) &&
	    addr_same(&m->dst, &pkt->dst);
}

enum select_side
select_side(struct selector *sel, const struct tr_packet *pkt, int *section,
    int *exporter)
{
	uint32_t h = addr_fold(&pkt->src) ^ rotl16(addr_fold(&pkt->dst)) ^
	    ((uint32_t)pkt->sport << 16 | pkt->dport) ^ pkt->l4proto;
	struct select_memo *set, *m;

	h = hash_fmix32(h);	/* every bit of h moves the set */
	set = sel->memo[h & (SELECT_MEMO_SETS - 1)];
	if (memo_matches(&set[0], pkt))
		m = &set[0];
	else if (memo_matches(&set[1], pkt))
		m = &set[1];
	else {
		/* The older answer makes room; the newer one stays. */
		set[1] = set[0];
		m = &set[0];
		m->side = select_side_uncached(sel, pkt, &m->section,
		    &m->exporter);
		m->src = pkt->src;
		m->dst = pkt->dst;
		m->sport = pkt->sport;
		m->dport = pkt->dport;
		m->l4proto = pkt->l4proto;
		m->used = true;
	}
	*section = m->section;
	*exporter = m->exporter;
	return m->side;
}

int
select_exporter(const struct selector *sel, const struct tr_addr *src)
{
	struct exporter_key k = exporter_key_of(src);
	size_t lo = 0, hi = sel->n_exporters;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = key_compare(&k, &sel->exporters[mid].key);

		if (c == 0)
			return sel->exporters[mid].map_index;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}
