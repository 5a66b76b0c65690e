/*
 * Fragmented UDP datagrams anonymized whole.  A fragment's payload is a
 * piece of a NetFlow/IPFIX/sFlow datagram that only makes sense whole, and
 * the UDP checksum (in the first fragment) covers the whole datagram.  So
 * the fragment frames of a datagram are held until it is complete; its
 * payload is then put together, rewritten by the protocol's rewriter
 * (lengths never change), split back into the very same fragments, and its
 * UDP checksum summed anew.  Frames are written in the capture's order: a
 * frame that comes after a held fragment waits behind it (rewritten
 * already).  Bounds and a timeout give up on a datagram that does not
 * complete: its frames get their headers anonymized and keep their payload.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "anon_frag.h"
#include "frame_build.h"
#include "writer.h"

#define IPV4_MIN_HDR	20
#define IPV6_HDR	40
#define UDP_HDR		8
#define MAX_OPEN	1024	/* incomplete datagrams at once: lookups stay short */

/* Where a fragment's bytes are, and which datagram it belongs to. */
struct frag_info {
	size_t		 alen;		/* 4 or 16 */
	size_t		 addr_at;	/* source then destination, in the frame */
	uint32_t	 id;
	size_t		 payload_at;	/* this fragment's piece of the datagram */
	uint32_t	 offset, len;
	bool		 more;
};

struct dgram;

struct held {
	struct held		*next;		/* capture order */
	struct source_frame	 f;		/* its bytes are data */
	uint8_t			*data;
	bool			 ready;		/* rewritten: may be written */
	struct dgram		*d;		/* a fragment waiting for its datagram */
	struct frag_info	 info;
};

struct dgram {
	struct dgram	*next;			/* age order, oldest first */
	size_t		 alen;
	uint8_t		 addrs[32];
	uint32_t	 id;
	tr_ns		 first_ts;
	struct held	*frags[ANON_FRAG_MAX_PER_DATAGRAM];
	size_t		 n;
	uint64_t	 received;		/* payload bytes, summed */
	uint32_t	 total;			/* known once the last fragment came */
	bool		 has_last;
};

struct anon_frag {
	struct anon_frag_out	 out;
	struct held		*head, *tail;
	size_t			 held_bytes;
	struct dgram		*open;		/* incomplete datagrams, oldest first */
	size_t			 n_open;
};

struct anon_frag *
anon_frag_new(const struct anon_frag_out *out)
{
	struct anon_frag *q = calloc(1, sizeof(*q));

	if (q != NULL)
		q->out = *out;
	return q;
}

/* An IPv4 fragment of a UDP datagram, all of it captured. */
static bool
parse_ipv4(const uint8_t *ip, size_t avail, struct frag_info *fi)
{
	size_t hlen = (size_t)(ip[0] & 0x0f) * 4;
	uint16_t total, fragw;

	if (avail < IPV4_MIN_HDR || hlen < IPV4_MIN_HDR || hlen > avail ||
	    ip[9] != FRAME_IPPROTO_UDP)
		return false;
	total = be16_load(ip + 2);
	fragw = be16_load(ip + 6);
	if (total <= hlen || total > avail || (fragw & 0x3fff) == 0)
		return false;	/* cut, or not a fragment */
	*fi = (struct frag_info){ .alen = 4, .addr_at = 12,
	    .id = be16_load(ip + 4), .payload_at = hlen,
	    .offset = (uint32_t)(fragw & 0x1fff) * 8,
	    .len = (uint32_t)(total - hlen), .more = (fragw & 0x2000) != 0 };
	return true;
}

/* An IPv6 fragment of a UDP datagram: hop-by-hop and destination options may come before its fragment header, nothing after it. */
static bool
parse_ipv6(const uint8_t *ip, size_t avail, struct frag_info *fi)
{
	size_t plen, end, off = IPV6_HDR;
	uint8_t nh;
	uint16_t fo;

	if (avail < IPV6_HDR)
		return false;
	plen = be16_load(ip + 4);
	if (plen == 0 || IPV6_HDR + plen > avail)
		return false;
	end = IPV6_HDR + plen;
	nh = ip[6];
	for (int i = 0; i < 8 && (nh == 0 || nh == 60); i++) {
		if (off + 2 > end)
			return false;
		nh = ip[off];
		off += ((size_t)ip[off + 1] + 1) * 8;
	}
	if (nh != 44 || off + 8 > end || ip[off] != FRAME_IPPROTO_UDP)
		return false;
	fo = be16_load(ip + off + 2);
	if ((fo & 0xfff9) == 0)
		return false;	/* an atomic fragment: a whole datagram */
	*fi = (struct frag_info){ .alen = 16, .addr_at = 8,
	    .id = be32_load(ip + off + 4), .payload_at = off + 8,
	    .offset = fo & 0xfff8, .len = (uint32_t)(end - off - 8),
	    .more = (fo & 1) != 0 };
	return true;
}

/* Whether the frame is a fragment of a UDP datagram that can be held: fi's offsets then count from the frame's start. */
static bool
parse_frag(const struct source_frame *f, const uint8_t *data,
    struct frag_info *fi)
{
	const uint8_t *ip;
	size_t avail;
	bool ok;

	/* A frame the capture cut cannot give its datagram's bytes. */
	if (f->l3_offset == SOURCE_NO_L3 || f->l3_offset >= f->caplen ||
	    f->caplen != f->len)
		return false;
	ip = data + f->l3_offset;
	avail = f->caplen - f->l3_offset;
	switch (ip[0] >> 4) {
	case 4:
		ok = parse_ipv4(ip, avail, fi);
		break;
	case 6:
		ok = parse_ipv6(ip, avail, fi);
		break;
	default:
		return false;
	}
	if (!ok || fi->len == 0)
		return false;
	fi->addr_at += f->l3_offset;
	fi->payload_at += f->l3_offset;
	return true;
}

/* anon_frame on one frame; payload: whether a whole UDP datagram in it goes to the rewriter. */
static int
rewrite_frame(struct anon_frag *q, const struct source_frame *f, uint8_t *data,
    bool payload)
{
	*q->out.frame = f->number;
	return anon_frame(q->out.addr, f->linktype, data, f->caplen,
	    &(struct anon_frame_at){ .l3_offset = f->l3_offset,
	    .arp_offset = f->arp_offset,
	    .udp_payload = payload ? q->out.udp_payload : NULL,
	    .ctx = q->out.ctx }, q->out.frame_stats);
}

static void
unlink_dgram(struct anon_frag *q, struct dgram *d)
{
	struct dgram **pp = &q->open;

	while (*pp != d)
		pp = &(*pp)->next;
	*pp = d->next;
	q->n_open--;
}

/* A datagram's frames made ready: headers anonymized, and the payload too when it was rewritten whole. */
static int
release(struct anon_frag *q, struct dgram *d, bool whole)
{
	int rc = 0;

	unlink_dgram(q, d);
	for (size_t i = 0; i < d->n; i++) {
		struct held *h = d->frags[i];

		if (rc == 0)
			rc = rewrite_frame(q, &h->f, h->data, false);
		h->ready = true;
		h->d = NULL;
	}
	if (whole) {
		q->out.stats->datagrams++;
		q->out.stats->fragments += d->n;
	} else {
		q->out.stats->given_up += d->n;
	}
	free(d);
	return rc;
}

static int
give_up(struct anon_frag *q, struct dgram *d, bool bound)
{
	if (bound)
		q->out.stats->over_bounds++;
	return release(q, d, false);
}

/* The UDP checksum of the whole datagram (dg, len bytes, checksum field zero) for the addresses as captured. */
static uint16_t
udp_cksum(const uint8_t *addrs, size_t alen, const uint8_t *dg, uint32_t len)
{
	uint8_t tail[8] = { 0 };
	uint32_t sum = frame_cksum_add(0, addrs, 2 * alen);
	uint16_t ck;

	if (alen == 4) {
		tail[1] = FRAME_IPPROTO_UDP;
		be16_store(tail + 2, (uint16_t)len);
		sum = frame_cksum_add(sum, tail, 4);
	} else {
		be32_store(tail, len);
		tail[7] = FRAME_IPPROTO_UDP;
		sum = frame_cksum_add(sum, tail, 8);
	}
	ck = frame_cksum_finish(frame_cksum_add(sum, dg, len));
	return ck == 0 ? 0xffff : ck;	/* 0 says "no checksum" */
}

static int
by_offset(const void *a, const void *b)
{
	const struct held *x = *(struct held *const *)a;
	const struct held *y = *(struct held *const *)b;

	return (x->info.offset > y->info.offset) - (x->info.offset < y->info.offset);
}

/*
 * All of a datagram's bytes came: put it together, have its payload
 * rewritten, and write it back into the fragments it came in.  Fragments
 * that overlap or leave a hole give it up.
 */
static int
complete(struct anon_frag *q, struct dgram *d)
{
	const struct held *first;
	uint8_t *dg;
	uint32_t at = 0;
	uint16_t ck;

	qsort(d->frags, d->n, sizeof(d->frags[0]), by_offset);
	for (size_t i = 0; i < d->n; i++) {
		if (d->frags[i]->info.offset != at)
			return give_up(q, d, false);
		at += d->frags[i]->info.len;
	}
	first = d->frags[0];
	if (d->total < UDP_HDR || be16_load(first->data +
	    first->info.payload_at + 4) != d->total)
		return give_up(q, d, false);	/* its UDP length says otherwise */
	if ((dg = malloc(d->total)) == NULL)
		return -1;
	for (size_t i = 0; i < d->n; i++)
		memcpy(dg + d->frags[i]->info.offset,
		    d->frags[i]->data + d->frags[i]->info.payload_at,
		    d->frags[i]->info.len);
	*q->out.frame = first->f.number;
	if (d->total > UDP_HDR && q->out.udp_payload(q->out.ctx,
	    &(struct anon_udp){ .src = d->addrs, .dst = d->addrs + d->alen,
	    .alen = d->alen, .sport = be16_load(dg), .dport = be16_load(dg + 2),
	    .payload = dg + UDP_HDR, .len = d->total - UDP_HDR }) == -1) {
		free(dg);
		return -1;
	}
	ck = be16_load(dg + 6);
	if (d->alen == 16 || ck != 0) {	/* IPv4 may send none: it stays so */
		be16_store(dg + 6, 0);
		be16_store(dg + 6, udp_cksum(d->addrs, d->alen, dg, d->total));
	}
	for (size_t i = 0; i < d->n; i++)
		memcpy(d->frags[i]->data + d->frags[i]->info.payload_at,
		    dg + d->frags[i]->info.offset, d->frags[i]->info.len);
	free(dg);
	/* anon_frame then adjusts the first fragment's checksum for the new addresses. */
	return release(q, d, true);
}

static struct dgram *
find_dgram(struct anon_frag *q, const struct held *h)
{
	const uint8_t *addrs = h->data + h->info.addr_at;

	for (struct dgram *d = q->open; d != NULL; d = d->next)
		if (d->alen == h->info.alen && d->id == h->info.id &&
		    memcmp(d->addrs, addrs, 2 * d->alen) == 0)
			return d;
	return NULL;
}

static struct dgram *
new_dgram(struct anon_frag *q, const struct held *h)
{
	struct dgram *d = calloc(1, sizeof(*d)), **pp = &q->open;

	if (d == NULL)
		return NULL;
	d->alen = h->info.alen;
	memcpy(d->addrs, h->data + h->info.addr_at, 2 * d->alen);
	d->id = h->info.id;
	d->first_ts = h->f.ts;
	while (*pp != NULL)
		pp = &(*pp)->next;
	*pp = d;
	q->n_open++;
	return d;
}

/* A fragment joins its datagram, which may now be complete, or contradict itself (given up). */
static int
add_fragment(struct anon_frag *q, struct held *h)
{
	struct dgram *d = find_dgram(q, h);
	uint32_t end = h->info.offset + h->info.len;

	if (d == NULL) {
		if (q->n_open >= MAX_OPEN && give_up(q, q->open, true) == -1)
			return -1;
		if ((d = new_dgram(q, h)) == NULL)
			return -1;
	}
	if (d->n == ANON_FRAG_MAX_PER_DATAGRAM) {
		if (give_up(q, d, true) == -1)
			return -1;
		if ((d = new_dgram(q, h)) == NULL)
			return -1;
	}
	d->frags[d->n++] = h;
	h->d = d;
	d->received += h->info.len;
	if (!h->info.more) {
		if (d->has_last && d->total != end)
			return give_up(q, d, false);
		d->has_last = true;
		d->total = end;
	}
	if (d->has_last && (end > d->total || d->received > d->total))
		return give_up(q, d, false);
	if (d->has_last && d->received == d->total)
		return complete(q, d);
	return 0;
}

static void
append(struct anon_frag *q, struct held *h)
{
	if (q->tail != NULL)
		q->tail->next = h;
	else
		q->head = h;
	q->tail = h;
	q->held_bytes += h->f.caplen;
}

/* The frames at the head that are ready, written. */
static int
drain(struct anon_frag *q)
{
	while (q->head != NULL && q->head->ready) {
		struct held *h = q->head;
		int rc = q->out.write(q->out.ctx, &h->f, h->data);

		q->head = h->next;
		if (q->head == NULL)
			q->tail = NULL;
		q->held_bytes -= h->f.caplen;
		free(h);
		if (rc == -1)
			return -1;
	}
	return 0;
}

/* Datagrams too old, or too much held: given up, oldest first. */
static int
enforce_bounds(struct anon_frag *q, tr_ns now)
{
	while (q->open != NULL && now > q->open->first_ts &&
	    now - q->open->first_ts > ANON_FRAG_TIMEOUT_NS)
		if (give_up(q, q->open, false) == -1)
			return -1;
	while (q->open != NULL && q->held_bytes > ANON_FRAG_MAX_HELD_BYTES)
		if (give_up(q, q->open, true) == -1)
			return -1;
	return 0;
}

static struct held *
hold(const struct source_frame *f, const uint8_t *data)
{
	/* One allocation: the frame's bytes follow their record. */
	struct held *h = malloc(sizeof(*h) + (f->caplen ? f->caplen : 1));

	if (h == NULL)
		return NULL;
	*h = (struct held){ .f = *f, .data = (uint8_t *)(h + 1) };
	memcpy(h->data, data, f->caplen);
	return h;
}

int
anon_frag_frame(struct anon_frag *q, const struct source_frame *f,
    uint8_t *data)
{
	struct frag_info fi;
	struct held *h;

	if (enforce_bounds(q, f->ts) == -1 || drain(q) == -1)
		return -1;
	if (!parse_frag(f, data, &fi)) {
		if (rewrite_frame(q, f, data, true) == -1)
			return -1;
		if (q->head == NULL)	/* nothing before it waits: straight out */
			return q->out.write(q->out.ctx, f, data);
		if ((h = hold(f, data)) == NULL)
			return -1;
		h->ready = true;
		append(q, h);
		return 0;
	}
	if ((h = hold(f, data)) == NULL)
		return -1;
	h->info = fi;
	append(q, h);
	if (add_fragment(q, h) == -1 || enforce_bounds(q, f->ts) == -1)
		return -1;
	return drain(q);
}

int
anon_frag_flush(struct anon_frag *q)
{
	while (q->open != NULL)
		if (give_up(q, q->open, false) == -1)
			return -1;
	return drain(q);
}

void
anon_frag_free(struct anon_frag *q)
{
	if (q == NULL)
		return;
	while (q->open != NULL) {
		struct dgram *d = q->open;

		q->open = d->next;
		free(d);
	}
	while (q->head != NULL) {
		struct held *h = q->head;

		q->head = h->next;
		free(h);
	}
	free(q);
}
