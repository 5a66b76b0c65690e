/* Capture source: reads pcap/pcapng offline and decapsulates each frame down to one UDP datagram or TCP segment. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "cursor.h"
#include "grow.h"
#include "hash.h"
#include "source.h"

/*
 * LINKTYPE_RAW as written in file headers.  libpcap turns it into DLT_RAW
 * when reading a file, but a decoder may be created with either value.
 */
#define SOURCE_LINKTYPE_RAW	101

/* Classic pcap: the file header, a record's header, the magic numbers (us, ns timestamps). */
#define PCAP_FILE_HDR		24
#define PCAP_REC_HDR		16
#define PCAP_MAGIC_US		0xa1b2c3d4u
#define PCAP_MAGIC_NS		0xa1b23c4du

/* Caps on header stacking: real traffic stays far below them, crafted frames do not. */
#define SOURCE_MAX_VLAN_TAGS	8
#define SOURCE_MAX_MPLS_LABELS	16
#define SOURCE_MAX_IPV6_EXT	16

/*
 * Reassembly limits.  Together they bound memory whatever the capture size:
 * at most FRAG_MAX_DATAGRAMS buffers of at most FRAG_MAX_PAYLOAD bytes.
 * The timeout runs on capture time, not wall-clock time, so reading speed
 * does not change the result.
 */
#define FRAG_MAX_DATAGRAMS	1024
#define FRAG_BUCKETS		1024	/* power of two */
#define FRAG_MAX_PAYLOAD	65535
#define FRAG_MAX_RANGES		64
#define FRAG_TIMEOUT		(30 * TR_NS_PER_SEC)

_Static_assert((FRAG_BUCKETS & (FRAG_BUCKETS - 1)) == 0,
    "FRAG_BUCKETS must be a power of two");

enum {
	ETYPE_IPV4 = 0x0800,
	ETYPE_IPV6 = 0x86dd,
	ETYPE_VLAN = 0x8100,		/* 802.1Q */
	ETYPE_QINQ = 0x88a8,		/* 802.1ad */
	ETYPE_QINQ_OLD = 0x9100,	/* pre-standard QinQ */
	ETYPE_MPLS = 0x8847,
	ETYPE_MPLS_MCAST = 0x8848,
	ETYPE_ARP = 0x0806,
	ETYPE_MIN = 0x0600,		/* below: an 802.3 length field */
};

enum {
	IPPROTO_V6_HOPOPTS = 0,
	IPPROTO_V6_ROUTING = 43,
	IPPROTO_V6_FRAGMENT = 44,
	IPPROTO_V6_ESP = 50,
	IPPROTO_V6_AH = 51,
	IPPROTO_V6_NONE = 59,
	IPPROTO_V6_DSTOPTS = 60,
};

/* BSD address family values for IPv6 differ between the BSDs. */
enum {
	BSD_AF_INET = 2,
	BSD_AF_INET6_NETBSD = 24,
	BSD_AF_INET6_FREEBSD = 28,
	BSD_AF_INET6_DARWIN = 30,
};

/* What one frame became; each maps to exactly one stats bucket. */
enum verdict {
	VERDICT_PACKET,		/* an unfragmented UDP/TCP packet */
	VERDICT_FRAGMENT,	/* an IP fragment, kept or given up on */
	VERDICT_REASSEMBLED,	/* a fragment that completed a UDP/TCP packet */
	VERDICT_TRUNCATED,
	VERDICT_NOT_IP,
	VERDICT_OTHER_L4,
	VERDICT_MALFORMED,
};

/* One frame as captured: len is the length on the wire, caplen what was kept. */
struct frame {
	const uint8_t	*base;
	uint32_t	 caplen;
	uint32_t	 len;
	tr_ns		 ts;
};

struct l3_addrs {
	struct tr_addr	 src;
	struct tr_addr	 dst;
};

/* IPv4 keys on (src, dst, proto, id); IPv6 (RFC 8200) on (src, dst, id), with proto 0. */
struct frag_key {
	struct l3_addrs	 addrs;
	uint32_t	 id;
	uint8_t		 proto;
};

struct frag_range {
	uint32_t	 start;
	uint32_t	 end;
};

/* One datagram being put together from its fragments. */
struct reasm {
	struct reasm	*hnext;		/* hash chain */
	struct reasm	*older;		/* age list, oldest first */
	struct reasm	*newer;
	struct frag_key	 key;
	tr_ns		 first_ts;	/* capture time of its first fragment */
	uint64_t	 nfrags;	/* fragment frames consumed so far */
	uint32_t	 total;		/* payload length, once the last fragment came */
	bool		 total_known;
	uint8_t		 next_header;	/* IPv6: from the offset-0 fragment */
	uint8_t		*buf;
	size_t		 bufsize;
	unsigned	 nranges;
	struct frag_range ranges[FRAG_MAX_RANGES];	/* received, sorted, merged */
};

struct frag_table {
	struct reasm	*buckets[FRAG_BUCKETS];
	struct reasm	*oldest;
	struct reasm	*newest;
	unsigned	 count;
};

/*
 * A classic pcap file read in place through a read-only mapping: no copy
 * into libpcap's buffer, no stdio call per frame.  Only the plain case is
 * read here (version 2.4, a whole record within the mapping, caplen within
 * the snapshot length); at anything else, and at the end of the mapping,
 * libpcap takes over from that record's offset, so damaged files give the
 * same frames and the same messages as before.
 */
struct mapped {
	const uint8_t	*base;		/* NULL: not mapped (pcapng, a pipe, or libpcap took over) */
	size_t		 len;		/* of the mapping */
	size_t		 size;		/* of the file, as far as it is read here */
	size_t		 pos;		/* the next record's offset */
	size_t		 released;	/* pages before this were given back */
	uint32_t	 snaplen;	/* libpcap's snapshot length for the file */
	bool		 swap;		/* written in the other byte order */
	bool		 nano;		/* nanosecond timestamps */
};

struct source {
	int		 linktype;
	pcap_t		*pcap;		/* NULL for a decoder without a file */
	char		*path;
	uint64_t	 frame;		/* frames read so far */
	uint64_t	 offset;	/* file offset after the last good record */
	bool		 classic;	/* classic pcap: records are a 16-byte header + caplen */
	uint64_t	 size;
	bool		 failed;
	bool		 at_eof;
	char		 err[1024];
	struct source_stats stats;
	struct frag_table frags;
	uint8_t		*done_buf;	/* the last reassembled payload */
	struct ng	*ng;		/* pcapng read per interface, when libpcap cannot */
	struct mapped	 map;
	size_t		 l3_offset;	/* the current frame's outermost IP header */
	size_t		 arp_offset;	/* its ARP body */
	source_frame_fn	*on_frame;
	void		*on_frame_ctx;
};

static enum verdict decode_ethertype(struct source *, const struct frame *,
		    struct cursor *, uint16_t, struct tr_packet *);
static void	 map_start(struct source *, FILE *, const struct stat *);

static bool
linktype_supported(int linktype)
{
	switch (linktype) {
	case DLT_EN10MB:
	case DLT_LINUX_SLL:
	case DLT_LINUX_SLL2:
	case DLT_RAW:
	case SOURCE_LINKTYPE_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
	case DLT_NULL:
	case DLT_LOOP:
		return true;
	default:
		return false;
	}
}

/*
 * A header read failed for lack of captured bytes.  If the frame was cut
 * by the snaplen the bytes existed on the wire; otherwise the frame itself
 * is too short for what it claims.
 */
static enum verdict
short_read(const struct frame *f)
{
	return f->caplen < f->len ? VERDICT_TRUNCATED : VERDICT_MALFORMED;
}

static size_t
frame_offset(const struct frame *f, const struct cursor *c)
{
	return (size_t)(c->p - f->base);
}

/*
 * An IP header announced `need` bytes but fewer were captured: truncation
 * when the wire frame was long enough to hold them, a lie otherwise.
 */
static enum verdict
ip_short(const struct frame *f, const struct cursor *c, size_t need)
{
	if (f->caplen < f->len && frame_offset(f, c) + need <= f->len)
		return VERDICT_TRUNCATED;
	return VERDICT_MALFORMED;
}

static void
addr_from_bytes(struct tr_addr *a, int family, const uint8_t *p)
{
	memset(a, 0, sizeof(*a));
	a->family = (sa_family_t)family;
	if (family == AF_INET)
		memcpy(&a->v4, p, sizeof(a->v4));
	else
		memcpy(&a->v6, p, sizeof(a->v6));
}

/* ---- L4 ---- */

/*
 * c holds exactly the IP payload, all captured (the IP layer checked that),
 * so any shortfall here means the headers contradict each other.
 */
static enum verdict
decode_udp(struct cursor *c, struct tr_packet *pkt)
{
	uint16_t ulen;

	pkt->sport = cur_u16(c);
	pkt->dport = cur_u16(c);
	ulen = cur_u16(c);
	cur_skip(c, 2);		/* checksum: often wrong in captures because of offload */
	if (!cur_ok(c) || ulen < 8 || (size_t)(ulen - 8) > cur_left(c))
		return VERDICT_MALFORMED;
	/* Bytes after the UDP length are not UDP payload, whatever follows. */
	pkt->payload = c->p;
	pkt->payload_len = (size_t)ulen - 8;
	return VERDICT_PACKET;
}

static enum verdict
decode_tcp(struct cursor *c, struct tr_packet *pkt)
{
	uint16_t offflags;
	size_t hlen;

	pkt->sport = cur_u16(c);
	pkt->dport = cur_u16(c);
	pkt->tcp_seq = cur_u32(c);
	pkt->tcp_ack = cur_u32(c);
	offflags = cur_u16(c);
	cur_skip(c, 6);		/* window, checksum, urgent pointer */
	hlen = (size_t)(offflags >> 12) * 4;
	if (!cur_ok(c) || hlen < 20 || !cur_skip(c, hlen - 20))
		return VERDICT_MALFORMED;
	pkt->tcp_flags = (uint8_t)(offflags & 0xff);
	pkt->payload = c->p;
	pkt->payload_len = cur_left(c);
	return VERDICT_PACKET;
}

/* Fills pkt directly (no packet built aside and copied): it is only read when the frame becomes a packet. */
static enum verdict
decode_l4(uint8_t proto, struct cursor *c, const struct l3_addrs *addrs,
    struct tr_packet *pkt)
{
	if (proto != TR_IPPROTO_UDP && proto != TR_IPPROTO_TCP)
		return VERDICT_OTHER_L4;
	pkt->src = addrs->src;
	pkt->dst = addrs->dst;
	pkt->l4proto = proto;
	if (proto == TR_IPPROTO_TCP)
		return decode_tcp(c, pkt);
	pkt->tcp_seq = 0;
	pkt->tcp_ack = 0;
	pkt->tcp_flags = 0;
	return decode_udp(c, pkt);
}

/* ---- IP reassembly ---- */

static bool
frag_key_equal(const struct frag_key *a, const struct frag_key *b)
{
	return a->id == b->id && a->proto == b->proto &&
	    addr_equal(&a->addrs.src, &b->addrs.src) &&
	    addr_equal(&a->addrs.dst, &b->addrs.dst);
}

static unsigned
frag_bucket(const struct frag_key *k)
{
	uint32_t h = FNV1A_BASIS;
	size_t alen = k->addrs.src.family == AF_INET ? 4 : 16;

	h = fnv1a(h, &k->addrs.src.v6, alen);
	h = fnv1a(h, &k->addrs.dst.v6, alen);
	h = fnv1a(h, &k->id, sizeof(k->id));
	h = fnv1a(h, &k->proto, sizeof(k->proto));
	return h & (FRAG_BUCKETS - 1);
}

static struct reasm *
frag_find(struct frag_table *t, const struct frag_key *k)
{
	struct reasm *r;

	for (r = t->buckets[frag_bucket(k)]; r != NULL; r = r->hnext)
		if (frag_key_equal(&r->key, k))
			return r;
	return NULL;
}

static void
frag_unlink(struct frag_table *t, struct reasm *r)
{
	struct reasm **pp = &t->buckets[frag_bucket(&r->key)];

	while (*pp != r)
		pp = &(*pp)->hnext;
	*pp = r->hnext;
	if (r->older != NULL)
		r->older->newer = r->newer;
	else
		t->oldest = r->newer;
	if (r->newer != NULL)
		r->newer->older = r->older;
	else
		t->newest = r->older;
	t->count--;
}

static void
frag_free(struct frag_table *t, struct reasm *r)
{
	frag_unlink(t, r);
	free(r->buf);
	free(r);
}

/* Give up on a datagram: every fragment it consumed is counted as dropped. */
static void
frag_drop(struct source *s, struct reasm *r)
{
	s->stats.frag_dropped += r->nfrags;
	frag_free(&s->frags, r);
}

static struct reasm *
frag_create(struct source *s, const struct frag_key *k, tr_ns ts)
{
	struct frag_table *t = &s->frags;
	struct reasm *r;
	unsigned b;

	/* The oldest incomplete datagram is the least likely to complete. */
	if (t->count >= FRAG_MAX_DATAGRAMS)
		frag_drop(s, t->oldest);
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return NULL;
	r->key = *k;
	r->first_ts = ts;
	b = frag_bucket(k);
	r->hnext = t->buckets[b];
	t->buckets[b] = r;
	r->older = t->newest;
	if (t->newest != NULL)
		t->newest->newer = r;
	else
		t->oldest = r;
	t->newest = r;
	t->count++;
	return r;
}

/*
 * Drop datagrams whose first fragment is older than the timeout in capture
 * time.  The age list is in arrival order, so only its head needs checking.
 */
static void
frag_expire(struct source *s, tr_ns now)
{
	while (s->frags.oldest != NULL &&
	    now - s->frags.oldest->first_ts > FRAG_TIMEOUT)
		frag_drop(s, s->frags.oldest);
}

/* True when [start, end) overlaps bytes already received that differ. */
static bool
frag_conflicts(const struct reasm *r, uint32_t start, uint32_t end,
    const uint8_t *data)
{
	for (unsigned i = 0; i < r->nranges; i++) {
		uint32_t lo = r->ranges[i].start > start ? r->ranges[i].start : start;
		uint32_t hi = r->ranges[i].end < end ? r->ranges[i].end : end;

		if (lo < hi && memcmp(r->buf + lo, data + (lo - start), hi - lo) != 0)
			return true;
	}
	return false;
}

/* Record [start, end) as received, merging with touching ranges; -1 if too scattered. */
static int
frag_ranges_add(struct reasm *r, uint32_t start, uint32_t end)
{
	unsigned i = 0, j;

	while (i < r->nranges && r->ranges[i].end < start)
		i++;
	for (j = i; j < r->nranges && r->ranges[j].start <= end; j++) {
		if (r->ranges[j].start < start)
			start = r->ranges[j].start;
		if (r->ranges[j].end > end)
			end = r->ranges[j].end;
	}
	if (i == j) {
		if (r->nranges == FRAG_MAX_RANGES)
			return -1;
		memmove(&r->ranges[i + 1], &r->ranges[i],
		    (r->nranges - i) * sizeof(r->ranges[0]));
		r->nranges++;
	} else {
		memmove(&r->ranges[i + 1], &r->ranges[j],
		    (r->nranges - j) * sizeof(r->ranges[0]));
		r->nranges -= j - i - 1;
	}
	r->ranges[i].start = start;
	r->ranges[i].end = end;
	return 0;
}

static uint32_t
frag_received_end(const struct reasm *r)
{
	return r->nranges == 0 ? 0 : r->ranges[r->nranges - 1].end;
}

/* The buffer grows with the highest offset seen, never past FRAG_MAX_PAYLOAD. */
static int
frag_reserve(struct reasm *r, uint32_t end)
{
	size_t size = r->bufsize ? r->bufsize : 2048;
	uint8_t *nb;

	if (end <= r->bufsize)
		return 0;
	while (size < end)
		size *= 2;
	if (size > FRAG_MAX_PAYLOAD)
		size = FRAG_MAX_PAYLOAD;
	nb = realloc(r->buf, size);
	if (nb == NULL)
		return -1;
	r->buf = nb;
	r->bufsize = size;
	return 0;
}

/*
 * Whether a new fragment agrees with what is known: one end of the
 * datagram, nothing beyond it, and the same bytes wherever it overlaps.
 */
static bool
frag_consistent(const struct reasm *r, uint32_t start, uint32_t end,
    bool more, const uint8_t *data)
{
	if (!more) {
		if (r->total_known && r->total != end)
			return false;
		if (frag_received_end(r) > end)
			return false;
	} else if (r->total_known && end > r->total)
		return false;
	return !frag_conflicts(r, start, end, data);
}

static bool
frag_complete(const struct reasm *r)
{
	return r->total_known && r->nranges == 1 && r->ranges[0].start == 0 &&
	    r->ranges[0].end == r->total;
}

static enum verdict ipv6_walk(struct source *, const struct frame *,
		    uint8_t, struct cursor *, const struct l3_addrs *, bool,
		    struct tr_packet *);

/*
 * Parse a completed datagram like an unfragmented one.  Its payload moves
 * into done_buf so it stays valid until the next call.
 */
static enum verdict
frag_finish(struct source *s, const struct frame *f, struct reasm *r,
    struct tr_packet *pkt)
{
	struct l3_addrs addrs = r->key.addrs;
	bool v6 = addrs.src.family == AF_INET6;
	uint8_t proto = v6 ? r->next_header : r->key.proto;
	struct cursor c;
	enum verdict v;

	free(s->done_buf);
	s->done_buf = r->buf;
	c = cur_init(s->done_buf, r->total);
	r->buf = NULL;
	frag_free(&s->frags, r);

	if (v6)
		v = ipv6_walk(s, f, proto, &c, &addrs, false, pkt);
	else
		v = decode_l4(proto, &c, &addrs, pkt);
	if (v == VERDICT_PACKET)
		return VERDICT_REASSEMBLED;
	s->stats.reassembled_other++;
	return VERDICT_FRAGMENT;
}

/*
 * Add one fragment: payload bytes [offset, offset + len) of datagram key.
 * next_header matters only for the IPv6 offset-0 fragment.
 */
static enum verdict
frag_add(struct source *s, const struct frame *f, const struct frag_key *key,
    uint32_t offset, struct cursor *data, bool more, uint8_t next_header,
    struct tr_packet *pkt)
{
	size_t len = cur_left(data);
	uint32_t end;
	struct reasm *r;

	/* Only the last fragment may end off an 8-byte boundary (RFC 791, 8200). */
	if ((more && (len == 0 || len % 8 != 0)) ||
	    offset + len > FRAG_MAX_PAYLOAD)
		return VERDICT_MALFORMED;
	end = offset + (uint32_t)len;

	r = frag_find(&s->frags, key);
	if (r == NULL && (r = frag_create(s, key, f->ts)) == NULL)
		return VERDICT_MALFORMED;
	r->nfrags++;
	if (!frag_consistent(r, offset, end, more, data->p) ||
	    frag_reserve(r, end) == -1 || frag_ranges_add(r, offset, end) == -1) {
		frag_drop(s, r);
		return VERDICT_FRAGMENT;
	}
	if (len > 0)
		memcpy(r->buf + offset, data->p, len);
	if (!more) {
		r->total = end;
		r->total_known = true;
	}
	if (offset == 0)
		r->next_header = next_header;
	if (!frag_complete(r))
		return VERDICT_FRAGMENT;
	return frag_finish(s, f, r, pkt);
}

/* ---- IP ---- */

/* The first IP header of a frame is the outermost one. */
static void
note_l3(struct source *s, const struct frame *f, const struct cursor *c)
{
	if (s->l3_offset == SOURCE_NO_L3)
		s->l3_offset = frame_offset(f, c);
}

static enum verdict
decode_ipv4(struct source *s, const struct frame *f, struct cursor *c,
    struct tr_packet *pkt)
{
	struct cursor h = *c;
	struct cursor ip;
	struct frag_key key;
	uint8_t vihl, proto;
	uint16_t total, id, fragw;
	size_t hlen;

	note_l3(s, f, c);
	vihl = cur_u8(&h);
	cur_skip(&h, 1);		/* DSCP/ECN */
	total = cur_u16(&h);
	id = cur_u16(&h);
	fragw = cur_u16(&h);
	cur_skip(&h, 1);		/* TTL */
	proto = cur_u8(&h);
	cur_skip(&h, 2);		/* checksum */
	if (!cur_need(&h, 8))
		return short_read(f);
	addr_from_bytes(&key.addrs.src, AF_INET, h.p);
	addr_from_bytes(&key.addrs.dst, AF_INET, h.p + 4);

	if (vihl >> 4 != 4)
		return VERDICT_MALFORMED;
	hlen = (size_t)(vihl & 0x0f) * 4;
	/*
	 * A zero total length is what a capture on the sending host shows for
	 * a TCP segmentation offload super-packet: the frame length is the truth.
	 */
	if (total == 0 && f->len > frame_offset(f, c))
		total = (uint16_t)(f->len - frame_offset(f, c) > 65535 ?
		    65535 : f->len - frame_offset(f, c));
	if (hlen < 20 || total < hlen)
		return VERDICT_MALFORMED;
	/* The IP length, not the frame length, ends the datagram: Ethernet pads. */
	if (total > cur_left(c))
		return ip_short(f, c, total);
	ip = cur_sub(c, total);
	cur_skip(&ip, hlen);		/* header and options */

	if ((fragw & 0x3fff) != 0) {	/* MF set or offset non-zero */
		key.id = id;
		key.proto = proto;
		return frag_add(s, f, &key, (uint32_t)(fragw & 0x1fff) * 8, &ip,
		    (fragw & 0x2000) != 0, proto, pkt);
	}
	return decode_l4(proto, &ip, &key.addrs, pkt);
}

/* Skip one extension header of the (next header, length in 8-byte units) form. */
static bool
ipv6_skip_ext(struct cursor *c, uint8_t nh, uint8_t *next)
{
	uint8_t hlen;

	*next = cur_u8(c);
	hlen = cur_u8(c);
	if (nh == IPPROTO_V6_AH)	/* AH counts 4-byte units, minus 2 */
		return cur_skip(c, ((size_t)hlen + 2) * 4 - 2);
	return cur_skip(c, ((size_t)hlen + 1) * 8 - 2);
}

static enum verdict
ipv6_fragment(struct source *s, const struct frame *f, struct cursor *c,
    const struct l3_addrs *addrs, uint8_t *nh, bool *atomic,
    struct tr_packet *pkt)
{
	struct frag_key key = { .addrs = *addrs };
	uint8_t next;
	uint16_t offflags;

	*atomic = false;
	next = cur_u8(c);
	cur_skip(c, 1);
	offflags = cur_u16(c);
	key.id = cur_u32(c);
	if (!cur_ok(c))
		return VERDICT_MALFORMED;
	/* An atomic fragment (offset 0, no more) is a whole packet (RFC 6946). */
	if ((offflags & 0xfff9) == 0) {
		*nh = next;
		*atomic = true;
		return VERDICT_FRAGMENT;
	}
	return frag_add(s, f, &key, offflags & 0xfff8, c, (offflags & 1) != 0,
	    next, pkt);
}

/*
 * Walk the extension headers from nh to the upper layer.  A fragment header
 * hands the rest to reassembly; inside a reassembled datagram (allow_frag
 * false) a second one is malformed.
 */
static enum verdict
ipv6_walk(struct source *s, const struct frame *f, uint8_t nh,
    struct cursor *c, const struct l3_addrs *addrs, bool allow_frag,
    struct tr_packet *pkt)
{
	for (int i = 0; i < SOURCE_MAX_IPV6_EXT; i++) {
		enum verdict v;
		bool atomic;

		switch (nh) {
		case IPPROTO_V6_HOPOPTS:
		case IPPROTO_V6_ROUTING:
		case IPPROTO_V6_DSTOPTS:
		case IPPROTO_V6_AH:
			if (!ipv6_skip_ext(c, nh, &nh))
				return VERDICT_MALFORMED;
			break;
		case IPPROTO_V6_FRAGMENT:
			if (!allow_frag)
				return VERDICT_MALFORMED;
			v = ipv6_fragment(s, f, c, addrs, &nh, &atomic, pkt);
			if (!atomic)
				return v;
			break;
		case IPPROTO_V6_ESP:	/* encrypted: nothing to replay */
		case IPPROTO_V6_NONE:
			return VERDICT_OTHER_L4;
		default:
			return decode_l4(nh, c, addrs, pkt);
		}
	}
	return VERDICT_MALFORMED;
}

static enum verdict
decode_ipv6(struct source *s, const struct frame *f, struct cursor *c,
    struct tr_packet *pkt)
{
	struct cursor h = *c;
	struct cursor payload;
	struct l3_addrs addrs;
	uint32_t vtcfl;
	size_t plen;
	uint8_t nh;

	note_l3(s, f, c);
	vtcfl = cur_u32(&h);
	plen = cur_u16(&h);
	nh = cur_u8(&h);
	cur_skip(&h, 1);		/* hop limit */
	if (!cur_need(&h, 32))
		return short_read(f);
	addr_from_bytes(&addrs.src, AF_INET6, h.p);
	addr_from_bytes(&addrs.dst, AF_INET6, h.p + 16);
	cur_skip(&h, 32);
	if (vtcfl >> 28 != 6)
		return VERDICT_MALFORMED;
	/* Zero: a jumbogram or an offload super-packet; the frame length decides. */
	if (plen == 0 && f->len > frame_offset(f, &h))
		plen = f->len - frame_offset(f, &h);
	if (plen > cur_left(&h))
		return ip_short(f, &h, plen);
	payload = cur_sub(&h, plen);
	return ipv6_walk(s, f, nh, &payload, &addrs, true, pkt);
}

/* An IP packet of either version, told apart by the version nibble. */
static enum verdict
decode_ip_any(struct source *s, const struct frame *f, struct cursor *c,
    struct tr_packet *pkt, enum verdict otherwise)
{
	if (!cur_need(c, 1))
		return short_read(f);
	switch (c->p[0] >> 4) {
	case 4:
		return decode_ipv4(s, f, c, pkt);
	case 6:
		return decode_ipv6(s, f, c, pkt);
	default:
		return otherwise;
	}
}

/* ---- link layers ---- */

/* An MPLS label stack, then a guess at the payload from its first nibble. */
static enum verdict
decode_mpls(struct source *s, const struct frame *f, struct cursor *c,
    struct tr_packet *pkt)
{
	for (int i = 0; i < SOURCE_MAX_MPLS_LABELS; i++) {
		uint32_t entry = cur_u32(c);

		if (!cur_ok(c))
			return short_read(f);
		if (entry & 0x100)	/* bottom of stack */
			/* Anything else (a pseudowire control word, Ethernet) is not decoded. */
			return decode_ip_any(s, f, c, pkt, VERDICT_NOT_IP);
	}
	return VERDICT_MALFORMED;
}

static enum verdict
decode_ethertype(struct source *s, const struct frame *f, struct cursor *c,
    uint16_t type, struct tr_packet *pkt)
{
	for (int tags = 0; tags <= SOURCE_MAX_VLAN_TAGS; tags++) {
		switch (type) {
		case ETYPE_IPV4:
			return decode_ipv4(s, f, c, pkt);
		case ETYPE_IPV6:
			return decode_ipv6(s, f, c, pkt);
		case ETYPE_MPLS:
		case ETYPE_MPLS_MCAST:
			return decode_mpls(s, f, c, pkt);
		case ETYPE_VLAN:
		case ETYPE_QINQ:
		case ETYPE_QINQ_OLD:
			cur_skip(c, 2);		/* priority, DEI, VLAN id */
			type = cur_u16(c);
			if (!cur_ok(c))
				return short_read(f);
			break;
		default:
			if (type == ETYPE_ARP)
				s->arp_offset = frame_offset(f, c);
			return VERDICT_NOT_IP;
		}
	}
	return VERDICT_MALFORMED;
}

static enum verdict
decode_ethernet(struct source *s, const struct frame *f, struct cursor *c,
    struct tr_packet *pkt)
{
	uint16_t type;

	cur_skip(c, 12);		/* destination and source MAC */
	type = cur_u16(c);
	if (!cur_ok(c))
		return short_read(f);
	if (type < ETYPE_MIN)		/* 802.3 length: LLC/SNAP, never IP here */
		return VERDICT_NOT_IP;
	return decode_ethertype(s, f, c, type, pkt);
}

/* Linux cooked v1: packet type, ARPHRD, address length, 8 address bytes, protocol. */
static enum verdict
decode_sll(struct source *s, const struct frame *f, struct cursor *c,
    struct tr_packet *pkt)
{
	uint16_t type;

	cur_skip(c, 14);
	type = cur_u16(c);
	if (!cur_ok(c))
		return short_read(f);
	return decode_ethertype(s, f, c, type, pkt);
}

/* Linux cooked v2: protocol first, then reserved, ifindex, ARPHRD, type, address. */
static enum verdict
decode_sll2(struct source *s, const struct frame *f, struct cursor *c,
    struct tr_packet *pkt)
{
	uint16_t type;

	type = cur_u16(c);
	cur_skip(c, 18);
	if (!cur_ok(c))
		return short_read(f);
	return decode_ethertype(s, f, c, type, pkt);
}

/*
 * BSD loopback: a 4-byte address family, host order for DLT_NULL and
 * network order for DLT_LOOP.  The writer's host order is unknown, but
 * family values are small, so a value in the upper half is byte-swapped.
 */
static enum verdict
decode_bsd_loopback(struct source *s, const struct frame *f,
    struct cursor *c, struct tr_packet *pkt)
{
	uint32_t af = cur_u32(c);

	if (!cur_ok(c))
		return short_read(f);
	if ((af & 0xffff0000u) != 0)
		af = __builtin_bswap32(af);
	switch (af) {
	case BSD_AF_INET:
		return decode_ipv4(s, f, c, pkt);
	case BSD_AF_INET6_NETBSD:
	case BSD_AF_INET6_FREEBSD:
	case BSD_AF_INET6_DARWIN:
		return decode_ipv6(s, f, c, pkt);
	default:
		return VERDICT_NOT_IP;
	}
}

static enum verdict
decode_link(struct source *s, const struct frame *f, struct tr_packet *pkt)
{
	struct cursor c = cur_init(f->base, f->caplen);

	switch (s->linktype) {
	case DLT_EN10MB:
		return decode_ethernet(s, f, &c, pkt);
	case DLT_LINUX_SLL:
		return decode_sll(s, f, &c, pkt);
	case DLT_LINUX_SLL2:
		return decode_sll2(s, f, &c, pkt);
	case DLT_RAW:
	case SOURCE_LINKTYPE_RAW:
		return decode_ip_any(s, f, &c, pkt, VERDICT_MALFORMED);
	case DLT_IPV4:
		return decode_ipv4(s, f, &c, pkt);
	case DLT_IPV6:
		return decode_ipv6(s, f, &c, pkt);
	case DLT_NULL:
	case DLT_LOOP:
		return decode_bsd_loopback(s, f, &c, pkt);
	default:
		return VERDICT_NOT_IP;
	}
}

static void
count_verdict(struct source_stats *st, enum verdict v)
{
	switch (v) {
	case VERDICT_PACKET:
		st->packets++;
		break;
	case VERDICT_REASSEMBLED:
		st->fragments++;
		st->reassembled++;
		st->packets++;
		break;
	case VERDICT_FRAGMENT:
		st->fragments++;
		break;
	case VERDICT_TRUNCATED:
		st->truncated++;
		break;
	case VERDICT_NOT_IP:
		st->not_ip++;
		break;
	case VERDICT_OTHER_L4:
		st->other_l4++;
		break;
	case VERDICT_MALFORMED:
		st->malformed++;
		break;
	}
}

/* ---- public API ---- */

struct source *
source_new_decoder(int linktype)
{
	struct source *s;

	if (!linktype_supported(linktype)) {
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->linktype = linktype;
	return s;
}

int
source_feed(struct source *s, const uint8_t *frame, uint32_t caplen,
    uint32_t len, tr_ns ts, struct tr_packet *pkt)
{
	/* len below caplen is a writer bug; what was captured did exist. */
	struct frame f = {
		.base = frame,
		.caplen = caplen,
		.len = len < caplen ? caplen : len,
		.ts = ts,
	};
	enum verdict v;

	s->frame++;
	s->stats.frames++;
	frag_expire(s, ts);
	s->l3_offset = SOURCE_NO_L3;
	s->arp_offset = SOURCE_NO_L3;
	v = decode_link(s, &f, pkt);
	count_verdict(&s->stats, v);
	if (s->on_frame != NULL)
		s->on_frame(s->on_frame_ctx, &(struct source_frame){
			.number = s->frame, .linktype = s->linktype, .ts = ts,
			.data = frame, .caplen = caplen, .len = f.len,
			.l3_offset = s->l3_offset, .arp_offset = s->arp_offset });
	if (v != VERDICT_PACKET && v != VERDICT_REASSEMBLED)
		return 0;
	pkt->frame = s->frame;
	pkt->ts = ts;
	return 1;
}

void
source_on_frame(struct source *s, source_frame_fn *fn, void *ctx)
{
	s->on_frame = fn;
	s->on_frame_ctx = ctx;
}

void
source_flush(struct source *s)
{
	while (s->frags.oldest != NULL)
		frag_drop(s, s->frags.oldest);
}

static const char *
linktype_name(int linktype)
{
	const char *name = pcap_datalink_val_to_name(linktype);

	return name != NULL ? name : "unknown";
}

/* What a path that is not a regular file is, for messages. */
static const char *
file_kind(mode_t mode)
{
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISBLK(mode))
		return "a block device";
	if (S_ISFIFO(mode))
		return "a pipe";
	if (S_ISSOCK(mode))
		return "a socket";
	return "not a regular file";
}

static int
open_error(char *err, size_t errlen, const char *path, const char *errbuf,
    const struct stat *st)
{
	bool unknown = strstr(errbuf, "unknown file format") != NULL;

	/* A device's size is 0 whatever it gives (/dev/zero gives zeros): say what it is. */
	if (!S_ISREG(st->st_mode))
		snprintf(err, errlen, "%s: %s, and what it gives is not a "
		    "capture (%s)", path, file_kind(st->st_mode), unknown ?
		    "no pcap or pcapng magic number" : errbuf);
	else if (st->st_size == 0)
		snprintf(err, errlen, "%s: empty file, not a capture", path);
	else if (unknown)
		snprintf(err, errlen,
		    "%s: not a pcap or pcapng capture file (libpcap: %s)",
		    path, errbuf);
	else
		snprintf(err, errlen, "%s: cannot read as a capture: %s",
		    path, errbuf);
	return -1;
}

struct source *
source_open(const char *path, char *err, size_t errlen)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	struct source *s;
	struct stat st;
	pcap_t *p;
	FILE *fp;
	long off;

	/* Our own fopen gives errno for the message and the size for progress. */
	if ((fp = fopen(path, "rb")) == NULL) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(fp), &st) == -1) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		fclose(fp);
		return NULL;
	}
	/* fopen() accepts a directory; reading it would fail with a vaguer message. */
	if (S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: cannot open: is a directory", path);
		fclose(fp);
		return NULL;
	}
	/* Nanosecond precision: libpcap scales microsecond files up, so ts is always ns. */
	p = pcap_fopen_offline_with_tstamp_precision(fp,
	    PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (p == NULL) {
		open_error(err, errlen, path, errbuf, &st);
		fclose(fp);
		return NULL;
	}
	if (!linktype_supported(pcap_datalink(p))) {
		snprintf(err, errlen, "%s: unsupported link type %s (%d); "
		    "supported: EN10MB (Ethernet), LINUX_SLL, LINUX_SLL2, RAW, "
		    "IPV4, IPV6, NULL, LOOP", path,
		    linktype_name(pcap_datalink(p)), pcap_datalink(p));
		pcap_close(p);
		return NULL;
	}
	if ((s = source_new_decoder(pcap_datalink(p))) == NULL ||
	    (s->path = strdup(path)) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(ENOMEM));
		free(s);
		pcap_close(p);
		return NULL;
	}
	s->pcap = p;
	s->size = (uint64_t)st.st_size;
	s->classic = pcap_major_version(p) == 2;
	/* A pipe cannot tell its position; a classic pcap's header is 24 bytes. */
	off = ftell(pcap_file(p));
	s->offset = off >= 0 ? (uint64_t)off : s->classic ? PCAP_FILE_HDR : 0;
	if (s->classic)
		map_start(s, fp, &st);
	return s;
}

static void
record_damage(struct source *s, const char *why)
{
	s->failed = true;
	snprintf(s->err, sizeof(s->err),
	    "%s: damaged after frame %llu (byte offset %llu): %s; "
	    "the %llu frames before it were read", s->path,
	    (unsigned long long)s->frame, (unsigned long long)s->offset, why,
	    (unsigned long long)s->frame);
	/* Nothing more will come to complete them. */
	source_flush(s);
}

/*
 * A frame's time in ns, or NULL with the reason it has none.  Classic pcap
 * stores seconds in 32 unsigned bits (to 2106) that libpcap reads signed:
 * past 2038 they come negative, and are read back as unsigned.  pcapng's 64
 * bits can go past what tr_ns holds (2262-04-11T23:47:16Z); the sub-second
 * part is in ns (see source_open) and must stay under a second.
 */
static const char *
frame_time(const struct source *s, const struct pcap_pkthdr *h, tr_ns *ts)
{
	uint64_t secs = s->classic ? (uint32_t)h->ts.tv_sec :
	    (uint64_t)h->ts.tv_sec;

	if (h->ts.tv_usec < 0 || h->ts.tv_usec >= TR_NS_PER_SEC)
		return "the frame's sub-second timestamp is a second or more";
	if ((!s->classic && h->ts.tv_sec < 0) ||
	    secs > (uint64_t)(INT64_MAX / TR_NS_PER_SEC) ||
	    (secs == (uint64_t)(INT64_MAX / TR_NS_PER_SEC) &&
	    h->ts.tv_usec > INT64_MAX % TR_NS_PER_SEC))
		return "the frame's timestamp is past "
		    "2262-04-11T23:47:16.854775807Z, the latest this tool can "
		    "represent";
	*ts = (tr_ns)secs * TR_NS_PER_SEC + h->ts.tv_usec;
	return NULL;
}

/* ---- pcapng whose interfaces differ in link type ------------------------ */

/*
 * libpcap reads one link type per file and stops at an interface of
 * another (a capture of an Ethernet and a Linux SLL or raw IP interface
 * together).  Such a file is read again here, per interface: the section
 * header, interface descriptions (link type, timestamp resolution) and
 * packet blocks, skipping the frames libpcap already gave.
 */
#define NG_SHB			0x0A0D0D0Au
#define NG_IDB			1u
#define NG_PB			2u	/* obsolete packet block */
#define NG_SPB			3u
#define NG_EPB			6u
#define NG_BOM			0x1A2B3C4Du
#define NG_MAX_BLOCK		(16u << 20)	/* as libpcap's largest block */
#define NG_MAX_IFACES		4096

struct ng_iface {
	int		 linktype;
	uint64_t	 units;		/* timestamp units per second */
};

struct ng {
	FILE		*fp;
	bool		 swap;		/* the section is of the other byte order */
	struct ng_iface	*ifs;
	size_t		 nifs, cap_ifs;
	uint8_t		*block;
	size_t		 cap;
	uint64_t	 skip;		/* frames already read by libpcap */
};

static uint32_t
ng_u32(const struct ng *ng, const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return ng->swap ? __builtin_bswap32(v) : v;
}

static uint16_t
ng_u16(const struct ng *ng, const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return ng->swap ? __builtin_bswap16(v) : v;
}

static void
ng_free(struct ng *ng)
{
	if (ng == NULL)
		return;
	if (ng->fp != NULL)
		fclose(ng->fp);
	free(ng->ifs);
	free(ng->block);
	free(ng);
}

/* The next block's type and body (after type and length, before the trailing length); 0 at the end, -1 with why. */
static int
ng_block(struct ng *ng, uint32_t *type, size_t *len, const char **why)
{
	uint8_t hdr[8];
	uint32_t blen, magic;
	size_t n = fread(hdr, 1, sizeof(hdr), ng->fp);

	if (n == 0 && feof(ng->fp))
		return 0;
	*why = "a block header is truncated";
	if (n != sizeof(hdr))
		return -1;
	memcpy(type, hdr, 4);
	/* A section header says its byte order: its body starts with the byte-order magic. */
	if (*type == NG_SHB) {
		if (fread(&magic, 1, 4, ng->fp) != 4)
			return -1;
		ng->swap = magic != NG_BOM;
		if (ng->swap && __builtin_bswap32(magic) != NG_BOM) {
			*why = "a section header has no byte-order magic";
			return -1;
		}
		ng->nifs = 0;	/* interfaces are numbered per section */
	}
	*type = ng->swap ? __builtin_bswap32(*type) : *type;
	blen = ng_u32(ng, hdr + 4);
	*why = "a block length is impossible";
	if (blen < 12 + (*type == NG_SHB ? 4u : 0u) || blen % 4 != 0 ||
	    blen > NG_MAX_BLOCK)
		return -1;
	*len = blen - 12 - (*type == NG_SHB ? 4 : 0);
	if (*len + 4 > ng->cap) {
		uint8_t *b = realloc(ng->block, *len + 4);

		*why = "out of memory";
		if (b == NULL)
			return -1;
		ng->block = b;
		ng->cap = *len + 4;
	}
	*why = "a block is truncated";
	if (fread(ng->block, 1, *len + 4, ng->fp) != *len + 4)
		return -1;
	return 1;
}

/* An interface description: its link type and if_tsresol (option 9). */
static const char *
ng_interface(struct ng *ng, const uint8_t *b, size_t len)
{
	struct ng_iface f = { .units = 1000000 };
	size_t off = 8;

	if (len < 8)
		return "an interface description is truncated";
	f.linktype = ng_u16(ng, b);
	while (off + 4 <= len) {
		uint16_t code = ng_u16(ng, b + off), olen = ng_u16(ng, b + off + 2);

		if (code == 0 || off + 4 + olen > len)
			break;
		if (code == 9 && olen >= 1) {
			uint8_t r = b[off + 4];
			uint8_t e = r & 0x7f;

			if ((r & 0x80 ? e > 63 : e > 19) || e == 0)
				return "an interface's timestamp resolution is "
				    "not supported";
			f.units = 1;
			for (uint8_t i = 0; i < e; i++)
				f.units *= r & 0x80 ? 2 : 10;
		}
		off += 4 + ((olen + 3u) & ~3u);
	}
	if (ng->nifs == NG_MAX_IFACES)
		return "more than 4096 interfaces";
	if (grow_array(&ng->ifs, &ng->cap_ifs, sizeof(*ng->ifs), ng->nifs + 1,
	    NG_MAX_IFACES) == -1)
		return "out of memory";
	ng->ifs[ng->nifs++] = f;
	return NULL;
}

/* A packet block's interface, time and frame; NULL when it is not a packet, else the reason it cannot be read. */
static const char *
ng_packet(struct ng *ng, uint32_t type, size_t len, uint32_t *iface,
    uint64_t *ticks, const uint8_t **data, uint32_t *caplen, uint32_t *wire)
{
	const uint8_t *b = ng->block;
	size_t hdr = type == NG_EPB ? 20 : type == NG_PB ? 20 : 4;

	if (len < hdr)
		return "a packet block is truncated";
	if (type == NG_SPB) {
		*iface = 0;
		*ticks = 0;
		*wire = ng_u32(ng, b);
		*caplen = *wire < len - hdr ? *wire : (uint32_t)(len - hdr);
	} else {
		*iface = type == NG_EPB ? ng_u32(ng, b) : ng_u16(ng, b);
		*ticks = (uint64_t)ng_u32(ng, b + 4) << 32 | ng_u32(ng, b + 8);
		*caplen = ng_u32(ng, b + 12);
		*wire = ng_u32(ng, b + 16);
		if (*caplen > len - hdr)
			return "a packet block's captured length runs past it";
	}
	*data = b + hdr;
	if (*iface >= ng->nifs)
		return "a packet names an interface not described before it";
	return "";
}

static const char *
ng_time(const struct ng_iface *f, uint64_t ticks, tr_ns *ts)
{
	uint64_t secs = ticks / f->units;
	uint64_t ns = (uint64_t)((unsigned __int128)(ticks % f->units) *
	    (uint64_t)TR_NS_PER_SEC / f->units);

	if (secs > (uint64_t)(INT64_MAX / TR_NS_PER_SEC) ||
	    (secs == (uint64_t)(INT64_MAX / TR_NS_PER_SEC) &&
	    ns > (uint64_t)(INT64_MAX % TR_NS_PER_SEC)))
		return "the frame's timestamp is past "
		    "2262-04-11T23:47:16.854775807Z, the latest this tool can "
		    "represent";
	*ts = (tr_ns)secs * TR_NS_PER_SEC + (tr_ns)ns;
	return NULL;
}

/* Switch s to reading its file per interface, from the frame after those read; false when it cannot be reopened. */
static bool
ng_start(struct source *s)
{
	struct ng *ng = calloc(1, sizeof(*ng));

	if (ng == NULL || (ng->fp = fopen(s->path, "rb")) == NULL) {
		ng_free(ng);
		return false;
	}
	ng->skip = s->frame;
	s->ng = ng;
	return true;
}

static int
ng_next(struct source *s, struct tr_packet *pkt)
{
	struct ng *ng = s->ng;
	const char *why = NULL;
	char msg[256];
	const uint8_t *data;
	uint32_t type, iface, caplen, wire;
	uint64_t ticks;
	size_t len;
	tr_ns ts;
	int rc;

	while ((rc = ng_block(ng, &type, &len, &why)) == 1) {
		long off = ftell(ng->fp);

		if (type == NG_IDB) {
			if ((why = ng_interface(ng, ng->block, len)) != NULL)
				break;
			continue;
		}
		if (type != NG_EPB && type != NG_SPB && type != NG_PB)
			continue;
		if ((why = ng_packet(ng, type, len, &iface, &ticks, &data,
		    &caplen, &wire))[0] != '\0')
			break;
		why = NULL;
		if (ng->skip > 0) {
			ng->skip--;
			continue;
		}
		s->offset = off < 0 ? s->offset : (uint64_t)off;
		if (!linktype_supported(ng->ifs[iface].linktype)) {
			snprintf(msg, sizeof(msg), "interface %u has link type "
			    "%s (%d), which is not supported", iface,
			    linktype_name(ng->ifs[iface].linktype),
			    ng->ifs[iface].linktype);
			record_damage(s, msg);
			return -1;
		}
		if ((why = ng_time(&ng->ifs[iface], ticks, &ts)) != NULL)
			break;
		s->linktype = ng->ifs[iface].linktype;
		if (source_feed(s, data, caplen, wire, ts, pkt) == 1)
			return 1;
	}
	if (rc == 0 && why == NULL) {
		source_flush(s);
		s->at_eof = true;
		return 0;
	}
	record_damage(s, why);
	return -1;
}

/* ---- classic pcap read in place ------------------------------------------ */

/* Pages read are given back every so often, so the mapping does not count in the RSS as a whole file would. */
#define MAP_RELEASE_STEP	(256u << 10)

static uint32_t
map_u32(const struct mapped *m, const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return m->swap ? __builtin_bswap32(v) : v;
}

/*
 * Map the classic pcap file libpcap has just opened (its header read and
 * checked), when it is a regular file of version 2.4.  A file libpcap
 * would post-process (Linux cooked headers of the other byte order: their
 * CAN frames) stays with libpcap.  Failing to map is no error: libpcap
 * reads it.
 */
static void
map_start(struct source *s, FILE *fp, const struct stat *st)
{
	struct mapped *m = &s->map;
	uint32_t magic;
	uint16_t major, minor;
	void *base;

	if (!S_ISREG(st->st_mode) || st->st_size < PCAP_FILE_HDR ||
	    (uint64_t)st->st_size > SIZE_MAX)
		return;
	base = mmap(NULL, (size_t)st->st_size, PROT_READ, MAP_PRIVATE,
	    fileno(fp), 0);
	if (base == MAP_FAILED)
		return;
	m->base = base;
	m->len = m->size = (size_t)st->st_size;
	memcpy(&magic, m->base, 4);
	m->swap = magic == __builtin_bswap32(PCAP_MAGIC_US) ||
	    magic == __builtin_bswap32(PCAP_MAGIC_NS);
	magic = m->swap ? __builtin_bswap32(magic) : magic;
	m->nano = magic == PCAP_MAGIC_NS;
	m->pos = PCAP_FILE_HDR;
	m->snaplen = (uint32_t)pcap_snapshot(s->pcap);
	memcpy(&major, m->base + 4, 2);
	memcpy(&minor, m->base + 6, 2);
	if (m->swap) {
		major = __builtin_bswap16(major);
		minor = __builtin_bswap16(minor);
	}
	if ((magic != PCAP_MAGIC_US && magic != PCAP_MAGIC_NS) || major != 2 ||
	    minor != 4 || (m->swap && (s->linktype == DLT_LINUX_SLL ||
	    s->linktype == DLT_LINUX_SLL2))) {
		munmap(base, m->len);
		m->base = NULL;
		return;
	}
}

static void
map_stop(struct mapped *m)
{
	if (m->base != NULL)
		munmap((void *)(uintptr_t)m->base, m->len);
	m->base = NULL;
}

/* libpcap reads on from the record at m->pos: the end of the mapping, or one the fast path does not take. */
static int
map_hand_over(struct source *s)
{
	FILE *fp = pcap_file(s->pcap);
	size_t pos = s->map.pos;
	char why[128];

	map_stop(&s->map);
	if (fseeko(fp, (off_t)pos, SEEK_SET) == -1) {
		snprintf(why, sizeof(why), "cannot seek to the next record: %s",
		    strerror(errno));
		record_damage(s, why);
		return -1;
	}
	return 0;
}

/* Give the pages before the current record back (they stay in the page cache). */
static void
map_release(struct mapped *m, size_t upto)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	upto &= ~(page - 1);
	if (upto > m->released) {
		(void)madvise((void *)(uintptr_t)(m->base + m->released),
		    upto - m->released, MADV_DONTNEED);
		m->released = upto;
	}
}

/*
 * A mapped page past the file's end faults (SIGBUS) where read() would
 * report a short file: a capture cut while it is replayed stops being read
 * in place at its new end, and libpcap reports the cut.  Checked every
 * MAP_RELEASE_STEP: a cut in the same moment is not caught.
 */
static bool
map_shrunk(struct source *s)
{
	struct mapped *m = &s->map;
	struct stat st;

	if (fstat(fileno(pcap_file(s->pcap)), &st) == -1 ||
	    (uint64_t)st.st_size >= m->size)
		return false;
	m->size = (size_t)st.st_size < m->pos ? m->pos : (size_t)st.st_size;
	return true;
}

/*
 * The next packet from the mapping: 1, or 0 when libpcap must go on (at
 * m->pos, the mapping gone), -1 when that could not be arranged.  A record
 * is taken here only when it is whole, no longer than the snapshot length
 * and its sub-second part is in range: libpcap would hand it over as is.
 */
static int
map_next(struct source *s, struct tr_packet *pkt)
{
	struct mapped *m = &s->map;
	uint32_t frac_max = m->nano ? TR_NS_PER_SEC : 1000000;

	for (;;) {
		const uint8_t *rec = m->base + m->pos;
		uint32_t secs, frac, caplen, len;
		tr_ns ts;

		if (m->size - m->pos < PCAP_REC_HDR)
			break;
		secs = map_u32(m, rec);
		frac = map_u32(m, rec + 4);
		caplen = map_u32(m, rec + 8);
		len = map_u32(m, rec + 12);
		if (caplen > m->snaplen || frac >= frac_max ||
		    m->size - m->pos - PCAP_REC_HDR < caplen)
			break;
		ts = (tr_ns)secs * TR_NS_PER_SEC +
		    (tr_ns)frac * (m->nano ? 1 : 1000);
		if (m->pos - m->released >= MAP_RELEASE_STEP) {
			map_release(m, m->pos);
			if (map_shrunk(s))
				continue;	/* the record may be gone */
		}
		m->pos += PCAP_REC_HDR + caplen;
		/* The next record's headers, while this one is decoded (a prefetch past the mapping does not fault). */
		__builtin_prefetch(m->base + m->pos);
		__builtin_prefetch(m->base + m->pos + 64);
		s->offset = m->pos;
		if (source_feed(s, rec + PCAP_REC_HDR, caplen, len, ts, pkt) == 1)
			return 1;
	}
	return map_hand_over(s) == -1 ? -1 : 0;
}

int
source_next(struct source *s, struct tr_packet *pkt)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	long off;
	int rc;

	if (s->failed)
		return -1;
	if (s->pcap == NULL || s->at_eof)
		return 0;
	if (s->ng != NULL)
		return ng_next(s, pkt);
	if (s->map.base != NULL && (rc = map_next(s, pkt)) != 0)
		return rc;
	for (;;) {
		rc = pcap_next_ex(s->pcap, &h, &data);
		if (rc == 1) {
			const char *bad;
			tr_ns ts;

			if ((bad = frame_time(s, h, &ts)) != NULL) {
				record_damage(s, bad);
				return -1;
			}

			/*
			 * ftell costs a system call per frame; classic pcap
			 * records have a known size, so only pcapng asks.
			 */
			if (s->classic)
				s->offset += 16 + h->caplen;
			else if ((off = ftell(pcap_file(s->pcap))) >= 0)
				s->offset = (uint64_t)off;
			if (source_feed(s, data, h->caplen, h->len, ts, pkt) == 1)
				return 1;
			continue;
		}
		if (rc == PCAP_ERROR_BREAK) {
			source_flush(s);
			s->at_eof = true;
			return 0;
		}
		/* libpcap's message for an interface of another link type. */
		if (rc == PCAP_ERROR && !s->classic && strstr(pcap_geterr(
		    s->pcap), "different from the type of the first") != NULL &&
		    ng_start(s))
			return ng_next(s, pkt);
		record_damage(s, rc == PCAP_ERROR ? pcap_geterr(s->pcap) :
		    "unexpected result from pcap_next_ex");
		return -1;
	}
}

const char *
source_error(const struct source *s)
{
	return s->err;
}

const struct source_stats *
source_stats(const struct source *s)
{
	return &s->stats;
}

void
source_progress(const struct source *s, uint64_t *offset, uint64_t *size)
{
	*offset = s->offset;
	*size = s->size;
}

void
source_close(struct source *s)
{
	if (s == NULL)
		return;
	while (s->frags.oldest != NULL)
		frag_free(&s->frags, s->frags.oldest);
	map_stop(&s->map);
	if (s->pcap != NULL)
		pcap_close(s->pcap);
	ng_free(s->ng);
	free(s->done_buf);
	free(s->path);
	free(s);
}
