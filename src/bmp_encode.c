/* BMP v3 messages written into a bounds-checked writer: a put that does not fit marks the writer bad, checked once by the caller. */
#include <string.h>

#include "bgp_encode.h"
#include "bmp_encode.h"

size_t
bmp_enc_header(struct writer *w, uint8_t type)
{
	size_t start = wr_len(w);

	put_u8(w, 3);
	put_u32(w, 0);
	put_u8(w, type);
	return start;
}

void
bmp_enc_finish(struct writer *w, size_t start)
{
	patch_u32(w, start + 1, (uint32_t)(wr_len(w) - start));
}

void
bmp_enc_addr16(struct writer *w, const struct tr_addr *a)
{
	if (a->family == AF_INET) {
		put_zero(w, 12);
		put_bytes(w, &a->v4, 4);
	} else
		put_bytes(w, a->v6.s6_addr, 16);
}

void
bmp_enc_peer_header(struct writer *w, const struct bmp_enc_peer *p)
{
	put_u8(w, p->type);
	put_u8(w, (uint8_t)(p->flags |
	    (p->addr.family == AF_INET6 ? BMP_ENC_FLAG_V : 0)));
	put_u64(w, p->rd);
	bmp_enc_addr16(w, &p->addr);
	put_u32(w, p->as);
	bgp_enc_addr(w, &p->bgp_id);
	put_u32(w, p->ts_sec);
	put_u32(w, p->ts_usec);
}

void
bmp_enc_tlv(struct writer *w, uint16_t type, const char *text)
{
	size_t len = strlen(text);

	put_u16(w, type);
	put_u16(w, (uint16_t)len);
	put_bytes(w, text, len);
}

void
bmp_enc_initiation(struct writer *w, const char *sys_descr,
    const char *sys_name)
{
	size_t start = bmp_enc_header(w, BMP_ENC_INITIATION);

	bmp_enc_tlv(w, 1, sys_descr);
	bmp_enc_tlv(w, 2, sys_name);
	bmp_enc_finish(w, start);
}

size_t
bmp_enc_peer_up_begin(struct writer *w, const struct bmp_enc_peer *p,
    const struct tr_addr *local, uint16_t local_port, uint16_t remote_port)
{
	size_t start = bmp_enc_header(w, BMP_ENC_PEER_UP);

	bmp_enc_peer_header(w, p);
	bmp_enc_addr16(w, local);
	put_u16(w, local_port);
	put_u16(w, remote_port);
	return start;
}

size_t
bmp_enc_route_monitoring_begin(struct writer *w, const struct bmp_enc_peer *p)
{
	size_t start = bmp_enc_header(w, BMP_ENC_ROUTE_MONITORING);

	bmp_enc_peer_header(w, p);
	return start;
}

void
bmp_enc_statistics(struct writer *w, const struct bmp_enc_peer *p,
    const struct bmp_enc_stat *st, size_t n)
{
	size_t start = bmp_enc_header(w, BMP_ENC_STATISTICS);

	bmp_enc_peer_header(w, p);
	put_u32(w, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		put_u16(w, st[i].type);
		put_u16(w, st[i].len);
		if (st[i].len == 8)
			put_u64(w, st[i].value);
		else
			put_u32(w, (uint32_t)st[i].value);
	}
	bmp_enc_finish(w, start);
}

void
bmp_enc_peer_down(struct writer *w, const struct bmp_enc_peer *p,
    uint8_t reason)
{
	size_t start = bmp_enc_header(w, BMP_ENC_PEER_DOWN);

	bmp_enc_peer_header(w, p);
	put_u8(w, reason);
	bmp_enc_finish(w, start);
}

/* Text, then the reason TLV (type 1). */
void
bmp_enc_termination(struct writer *w, const char *text, uint16_t reason)
{
	size_t start = bmp_enc_header(w, BMP_ENC_TERMINATION);

	bmp_enc_tlv(w, 0, text);
	put_u16(w, 1);
	put_u16(w, 2);
	put_u16(w, reason);
	bmp_enc_finish(w, start);
}
