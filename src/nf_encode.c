/* NetFlow v5, v9 and IPFIX messages written through the bounds-checked writer. */
#include "nf_encode.h"

void
nf_ipfix_header(struct writer *w, uint32_t export_secs, uint32_t seq,
    uint32_t domain)
{
	put_u16(w, 10);
	put_u16(w, 0);			/* length, set by nf_ipfix_finish */
	put_u32(w, export_secs);
	put_u32(w, seq);
	put_u32(w, domain);
}

void
nf_ipfix_finish(struct writer *w)
{
	patch_u16(w, 2, (uint16_t)wr_len(w));
}

void
nf_v9_header(struct writer *w, uint16_t count, uint32_t uptime_ms,
    uint32_t unix_secs, uint32_t seq, uint32_t source_id)
{
	put_u16(w, 9);
	put_u16(w, count);
	put_u32(w, uptime_ms);
	put_u32(w, unix_secs);
	put_u32(w, seq);
	put_u32(w, source_id);
}

size_t
nf_set_begin(struct writer *w, uint16_t set_id)
{
	size_t start = wr_len(w);

	put_u16(w, set_id);
	put_u16(w, 0);
	return start;
}

void
nf_set_end(struct writer *w, int version, size_t start)
{
	if (version == 9)
		while ((wr_len(w) - start) % 4 != 0)
			put_u8(w, 0);
	patch_u16(w, start + 2, (uint16_t)(wr_len(w) - start));
}

void
nf_template_set(struct writer *w, int version, uint16_t template_id,
    const struct nf_field *f, size_t n)
{
	size_t set = nf_set_begin(w, version == 9 ? 0 : 2);

	put_u16(w, template_id);
	put_u16(w, (uint16_t)n);
	for (size_t i = 0; i < n; i++) {
		put_u16(w, f[i].id);
		put_u16(w, f[i].len);
	}
	nf_set_end(w, version, set);
}

void
nf_options_template_set(struct writer *w, int version, uint16_t template_id,
    const struct nf_field *scope, size_t n_scope, const struct nf_field *f,
    size_t n)
{
	size_t set = nf_set_begin(w, version == 9 ? 1 : 3);

	put_u16(w, template_id);
	if (version == 9) {
		put_u16(w, (uint16_t)(4 * n_scope));	/* bytes, not fields */
		put_u16(w, (uint16_t)(4 * n));
	} else {
		put_u16(w, (uint16_t)(n_scope + n));
		put_u16(w, (uint16_t)n_scope);
	}
	for (size_t i = 0; i < n_scope; i++) {
		put_u16(w, scope[i].id);
		put_u16(w, scope[i].len);
	}
	for (size_t i = 0; i < n; i++) {
		put_u16(w, f[i].id);
		put_u16(w, f[i].len);
	}
	nf_set_end(w, version, set);
}

void
nf_put_uint(struct writer *w, uint64_t v, uint16_t len)
{
	uint8_t *at = len <= 8 ? wr_reserve(w, len) : NULL;

	if (len > 8)
		w->bad = true;
	for (int i = (int)len - 1; at != NULL && i >= 0; i--, v >>= 8)
		at[i] = (uint8_t)v;
}

void
nf_put_addr(struct writer *w, const struct tr_addr *a)
{
	if (a->family == AF_INET)
		put_bytes(w, &a->v4, 4);
	else
		put_bytes(w, &a->v6, 16);
}

void
nf_put_ipfix_time(struct writer *w, uint16_t id, uint64_t ms)
{
	uint64_t frac = ((ms % 1000) << 32) / 1000;

	if (((frac * 1000) >> 32) < ms % 1000)
		frac++;
	switch (id) {
	case 150:
	case 151:
		put_u32(w, (uint32_t)(ms / 1000));
		break;
	case 152:
	case 153:
		put_u64(w, ms);
		break;
	default:
		put_u32(w, (uint32_t)(ms / 1000 + NF_NTP_UNIX_OFFSET));
		put_u32(w, (uint32_t)frac);
		break;
	}
}

void
nf_v5_header(struct writer *w, const struct nf_v5_header *h)
{
	put_u16(w, 5);
	put_u16(w, h->count);
	put_u32(w, h->uptime_ms);
	put_u32(w, h->unix_secs);
	put_u32(w, h->unix_nsecs);
	put_u32(w, h->seq);
	put_u8(w, h->engine_type);
	put_u8(w, h->engine_id);
	put_u16(w, h->sampling);
}

void
nf_v5_record(struct writer *w, const struct nf_v5_record *r)
{
	put_u32(w, r->src);
	put_u32(w, r->dst);
	put_u32(w, r->nexthop);
	put_u16(w, r->input);
	put_u16(w, r->output);
	put_u32(w, r->packets);
	put_u32(w, r->octets);
	put_u32(w, r->first_ms);
	put_u32(w, r->last_ms);
	put_u16(w, r->sport);
	put_u16(w, r->dport);
	put_u8(w, 0);
	put_u8(w, r->tcp_flags);
	put_u8(w, r->proto);
	put_u8(w, r->tos);
	put_u16(w, r->src_as);
	put_u16(w, r->dst_as);
	put_u8(w, r->src_mask);
	put_u8(w, r->dst_mask);
	put_u16(w, 0);
}
