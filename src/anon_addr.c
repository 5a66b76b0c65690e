/* Keyed pseudonyms for addresses: Crypto-PAn (Xu, Fan, Ammar, Moon 2002) with AES-128 from libcrypto, and MAC addresses by HMAC-SHA256. */
#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "anon_addr.h"

#define AES_BLOCK	16
#define MAX_ADDR_LEN	16
#define MAX_ADDR_BITS	(MAX_ADDR_LEN * 8)

/*
 * Captures repeat a few addresses millions of times, and one IPv6 pseudonym
 * costs 128 AES blocks: a direct-mapped cache of recent ones makes the
 * common case a lookup.  Its size bounds its memory (about 140 KiB).
 */
#define CACHE_SLOTS	4096u
_Static_assert((CACHE_SLOTS & (CACHE_SLOTS - 1)) == 0,
    "CACHE_SLOTS must be a power of two");

/* Prefixed to a MAC before hashing, so the MAC mapping's HMAC never computes anything else the key is used for. */
static const char mac_label[] = "traffic-reproducer anonymize mac";

struct cache_slot {
	uint8_t		len;		/* 0: empty */
	uint8_t		in[MAX_ADDR_LEN];
	uint8_t		out[MAX_ADDR_LEN];
};

/* A frame has two MACs and a link few hosts: one HMAC each, then lookups (one-shot HMAC costs more than the rest of a frame). */
#define MAC_CACHE_SLOTS	1024u
_Static_assert((MAC_CACHE_SLOTS & (MAC_CACHE_SLOTS - 1)) == 0,
    "MAC_CACHE_SLOTS must be a power of two");

struct mac_slot {
	bool		used;
	uint8_t		in[6];
	uint8_t		out[6];
};

/* The IPv6 prefix lengths whose pseudonyms' prefixes are cached (whole bytes), longest first (IPv4 has tables of its own). */
static const struct {
	size_t		len;		/* of the addresses: 16 */
	unsigned	bits;
} prefix_levels[] = {
	{ 16, 112 },
	{ 16, 96 },
	{ 16, 64 },
	{ 16, 48 },
};
#define PREFIX_LEVELS	(int)(sizeof(prefix_levels) / sizeof(prefix_levels[0]))
#define PREFIX_SLOTS	4096u
_Static_assert((PREFIX_SLOTS & (PREFIX_SLOTS - 1)) == 0,
    "PREFIX_SLOTS must be a power of two");

struct prefix_slot {
	bool		used;
	uint8_t		in[14];		/* the longest cached prefix: 112 bits */
	uint8_t		out[14];
};

/*
 * IPv4 subnets in tables of their own, with 32-bit arithmetic and no
 * hashing of bytes; what they store is flips (a pseudonym is its address
 * XOR its bits' flips).  Every /16's, indexed by the /16 itself; and a
 * direct-mapped table of /24s: 65,536 slots hold a BGP table's cycle of
 * /24s without conflicts (4,096 did not), in 512 KiB.  A host's 8 bits
 * are 8 AES blocks in one call: remembering the flips of a /24's host
 * bits (a tree of 255) cost more in lookups than those blocks.
 */
#define V4_NET24_SLOTS	65536u
#define V4_KNOWN	0x80000000u	/* in a table entry: computed */

struct v4_net24 {
	uint32_t	net;		/* the /24 (address >> 8) | V4_KNOWN; 0: empty */
	uint32_t	flips;		/* of its bits 16..23 */
};

struct v4_tables {
	uint32_t	net16[65536];	/* flips of bits 0..15 | V4_KNOWN; 0: not yet */
	struct v4_net24	net24[V4_NET24_SLOTS];
};

struct anon_addr {
	EVP_CIPHER_CTX	*aes;		/* AES-128-ECB under the key's first half */
	struct v4_tables *v4;		/* mmap'ed: pages touched only as used, and unmapped (not left in the heap) */
	uint8_t		 pad[AES_BLOCK];
	uint8_t		 key[ANON_KEY_LEN];	/* the HMAC key of the MAC mapping */
	unsigned	 preserve;	/* anon_preserve bits: ranges kept as they are */
	anon_addr_seen_fn *seen;	/* --map-out: each new pair, NULL: none */
	void		*seen_ctx;
	struct cache_slot cache[CACHE_SLOTS];
	struct prefix_slot prefix_cache[PREFIX_LEVELS][PREFIX_SLOTS];
	struct mac_slot	 mac_cache[MAC_CACHE_SLOTS];
};

/* One range of addresses (len bytes) that --preserve may keep. */
struct range {
	unsigned	bit;
	uint8_t		len;
	uint8_t		prefix[MAX_ADDR_LEN];
	unsigned	bits;
};

/* The README's list ("Anonymize"): keep the two in step. */
static const struct range ranges[] = {
	{ ANON_PRESERVE_PRIVATE, 4, { 10 }, 8 },
	{ ANON_PRESERVE_PRIVATE, 4, { 172, 16 }, 12 },
	{ ANON_PRESERVE_PRIVATE, 4, { 192, 168 }, 16 },
	{ ANON_PRESERVE_PRIVATE, 4, { 100, 64 }, 10 },
	{ ANON_PRESERVE_PRIVATE, 16, { 0xfc }, 7 },
	{ ANON_PRESERVE_LOOPBACK, 4, { 127 }, 8 },
	{ ANON_PRESERVE_LOOPBACK, 16, { [15] = 1 }, 128 },
	{ ANON_PRESERVE_MULTICAST, 4, { 224 }, 4 },
	{ ANON_PRESERVE_MULTICAST, 16, { 0xff }, 8 },
	{ ANON_PRESERVE_DOCUMENTATION, 4, { 192, 0, 2 }, 24 },
	{ ANON_PRESERVE_DOCUMENTATION, 4, { 198, 51, 100 }, 24 },
	{ ANON_PRESERVE_DOCUMENTATION, 4, { 203, 0, 113 }, 24 },
	{ ANON_PRESERVE_DOCUMENTATION, 16, { 0x20, 0x01, 0x0d, 0xb8 }, 32 },
	{ ANON_PRESERVE_LINK_LOCAL, 4, { 169, 254 }, 16 },
	{ ANON_PRESERVE_LINK_LOCAL, 16, { 0xfe, 0x80 }, 10 },
};

static const char *const range_names[] = {
	"private", "loopback", "multicast", "documentation", "link-local",
};
_Static_assert(sizeof(range_names) / sizeof(range_names[0]) ==
    5, "a name per anon_preserve bit");

/* ECB over whole blocks: each block is one independent pseudo-random function call. */
static int
aes_blocks(struct anon_addr *a, const uint8_t *in, uint8_t *out, size_t nblocks)
{
	int outlen = 0;

	if (EVP_EncryptUpdate(a->aes, out, &outlen, in,
	    (int)(nblocks * AES_BLOCK)) != 1 ||
	    (size_t)outlen != nblocks * AES_BLOCK) {
		errno = EIO;
		return -1;
	}
	return 0;
}

struct anon_addr *
anon_addr_new(const uint8_t key[ANON_KEY_LEN])
{
	struct anon_addr *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return NULL;
	memcpy(a->key, key, ANON_KEY_LEN);
	a->v4 = mmap(NULL, sizeof(*a->v4), PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a->v4 == MAP_FAILED) {
		a->v4 = NULL;
		anon_addr_free(a);
		errno = ENOMEM;
		return NULL;
	}
	if ((a->aes = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_EncryptInit_ex(a->aes, EVP_aes_128_ecb(), NULL, key, NULL) != 1 ||
	    EVP_CIPHER_CTX_set_padding(a->aes, 0) != 1 ||
	    /* The reference implementation's pad: the second half, encrypted. */
	    aes_blocks(a, key + AES_BLOCK, a->pad, 1) == -1) {
		anon_addr_free(a);
		errno = EIO;
		return NULL;
	}
	return a;
}

void
anon_addr_free(struct anon_addr *a)
{
	if (a == NULL)
		return;
	EVP_CIPHER_CTX_free(a->aes);
	/* Unmapped pages go back to the kernel, which zeroes them before any reuse. */
	if (a->v4 != NULL)
		munmap(a->v4, sizeof(*a->v4));
	/* The key must not linger in freed memory. */
	OPENSSL_cleanse(a, sizeof(*a));
	free(a);
}

static bool
in_range(const struct range *r, const uint8_t *p)
{
	unsigned whole = r->bits / 8, rest = r->bits % 8;

	return memcmp(p, r->prefix, whole) == 0 && (rest == 0 ||
	    ((p[whole] ^ r->prefix[whole]) & (uint8_t)(0xff << (8 - rest))) == 0);
}

unsigned
anon_addr_preserved(unsigned mask, const uint8_t *p, size_t len)
{
	for (size_t i = 0; mask != 0 && i < sizeof(ranges) / sizeof(ranges[0]);
	    i++)
		if ((mask & ranges[i].bit) && ranges[i].len == len &&
		    in_range(&ranges[i], p))
			return ranges[i].bit;
	return 0;
}

const char *
anon_preserve_name(unsigned bit)
{
	for (unsigned i = 0; i < sizeof(range_names) / sizeof(range_names[0]);
	    i++)
		if (bit == 1u << i)
			return range_names[i];
	return NULL;
}

int
anon_preserve_parse(const char *list, unsigned *mask)
{
	const char *p = list;

	*mask = 0;
	for (;;) {
		size_t n = strcspn(p, ",");
		unsigned i;

		for (i = 0; i < sizeof(range_names) / sizeof(range_names[0]);
		    i++)
			if (strlen(range_names[i]) == n &&
			    strncmp(p, range_names[i], n) == 0)
				break;
		if (i == sizeof(range_names) / sizeof(range_names[0]))
			return -1;
		*mask |= 1u << i;
		if (p[n] == '\0')
			return 0;
		p += n + 1;
	}
}

void
anon_addr_preserve(struct anon_addr *a, unsigned mask)
{
	a->preserve = mask & ANON_PRESERVE_ALL;
	/* Kept addresses are checked before the cache, but a slot computed before must not stand in for one. */
	memset(a->cache, 0, sizeof(a->cache));
}

void
anon_addr_on_seen(struct anon_addr *a, anon_addr_seen_fn *fn, void *ctx)
{
	a->seen = fn;
	a->seen_ctx = ctx;
	/* Pairs computed before were not told: forget them, so each is told when next mapped. */
	memset(a->cache, 0, sizeof(a->cache));
	memset(a->mac_cache, 0, sizeof(a->mac_cache));
}

/* The cipher's input for bit i: the address's first i bits, then the pad's bits from i on. */
static void
prefix_block(const uint8_t *pad, const uint8_t *addr, unsigned i,
    uint8_t block[AES_BLOCK])
{
	unsigned whole = i / 8, rest = i % 8;

	memcpy(block, pad, AES_BLOCK);
	memcpy(block, addr, whole);
	if (rest != 0) {
		uint8_t mask = (uint8_t)(0xff << (8 - rest));

		block[whole] = (uint8_t)((addr[whole] & mask) |
		    (pad[whole] & ~mask));
	}
}

static bool
bit_of(const uint8_t *p, unsigned i)
{
	return (p[i / 8] >> (7 - i % 8)) & 1;
}

static void
flip_bit(uint8_t *p, unsigned i)
{
	p[i / 8] ^= (uint8_t)(0x80 >> (i % 8));
}

/*
 * A slot index for the caches: the bytes (up to 16) folded into two 64-bit
 * words and mixed by multiplication, its top bits taken.  Cheaper than
 * FNV-1a's multiplication per byte, asked several times for every address.
 */
static uint64_t
load_u64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t
load_u32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint32_t
slot_hash(const uint8_t *p, size_t len)
{
	uint64_t w0, w1 = 0, h;

	/*
	 * Fixed-size loads, overlapping for the lengths between (2 to 16
	 * bytes): a copy of a variable length into words, then their loads,
	 * stalled on store forwarding, which cost more than the rest.
	 */
	if (len >= 8) {
		w0 = load_u64(p);
		w1 = load_u64(p + len - 8);
	} else if (len >= 4)
		w0 = load_u32(p) | load_u32(p + len - 4) << 32;
	else
		w0 = (uint64_t)p[0] | (uint64_t)p[len / 2] << 8 |
		    (uint64_t)p[len - 1] << 16;
	h = (w0 ^ (uint64_t)len) * 0x9e3779b97f4a7c15ull;
	h = (h ^ (h >> 32) ^ w1) * 0xc2b2ae3d27d4eb4full;
	return (uint32_t)(h >> 40);
}

static struct cache_slot *
cache_slot(struct anon_addr *a, const uint8_t *in, size_t len)
{
	return &a->cache[slot_hash(in, len) & (CACHE_SLOTS - 1)];
}

/*
 * Bit i of the pseudonym is bit i of the address flipped by the first bit
 * of AES(first i bits of the address, padded): it depends only on the
 * prefix before it, which is what preserves prefixes.  The inputs of bits
 * from..nbits (len * 8 for an address, fewer for a prefix: the bits past
 * it are left as they are in in) are known at once, so they go through AES as one ECB batch;
 * each is the one before with one more bit of the address in it.  The
 * pseudonym's first `from` bits are in out already (a prefix cache's).
 */
static int
map_bits(struct anon_addr *a, const uint8_t *in, uint8_t *out, size_t len,
    unsigned from, unsigned nbits)
{
	uint8_t blocks[MAX_ADDR_BITS][AES_BLOCK];
	uint8_t addr[MAX_ADDR_LEN];
	uint64_t hi, lo, bits_hi, bits_lo, flip_hi = 0, flip_lo = 0, word[2];
	uint64_t keep_hi, keep_lo, hi_be;
	unsigned i;

	/*
	 * The blocks are built in two 64-bit words, not byte by byte in
	 * memory, and the address is read in words of a fixed size: a byte
	 * (or a copy of a variable length) stored then read back as a word
	 * stalls the store forwarding, which cost more than AES itself.
	 */
	if (len == 4) {
		bits_hi = (uint64_t)be32toh((uint32_t)load_u32(in)) << 32;
		bits_lo = 0;
	} else {
		bits_hi = be64toh(load_u64(in));
		bits_lo = be64toh(load_u64(in + 8));
	}
	/* The first block: the address's first `from` bits, then the pad's (prefix_block's, in words). */
	keep_hi = from == 0 ? 0 : from >= 64 ? ~(uint64_t)0 :
	    ~(uint64_t)0 << (64 - from);
	keep_lo = from <= 64 ? 0 : from >= 128 ? ~(uint64_t)0 :
	    ~(uint64_t)0 << (128 - from);
	hi = (bits_hi & keep_hi) | (be64toh(load_u64(a->pad)) & ~keep_hi);
	lo = (bits_lo & keep_lo) | (be64toh(load_u64(a->pad + 8)) & ~keep_lo);
	/* Each block is the one before with bit i of the address in it (scalars: no array the compiler must keep in memory). */
	for (i = from; i < nbits && i < 64; i++) {
		uint64_t m = (uint64_t)1 << (63 - i), block[2] = { htobe64(hi),
		    htobe64(lo) };

		memcpy(blocks[i], block, AES_BLOCK);
		hi = (hi & ~m) | (bits_hi & m);
	}
	/* Past the first word, only the second changes: an IPv6 host's bits. */
	hi_be = htobe64(hi);
	for (; i < nbits; i++) {
		uint64_t m = (uint64_t)1 << (127 - i), block[2] = { hi_be,
		    htobe64(lo) };

		memcpy(blocks[i], block, AES_BLOCK);
		lo = (lo & ~m) | (bits_lo & m);
	}
	if (aes_blocks(a, blocks[from], blocks[from], nbits - from) == -1)
		return -1;
	/* Bits from..nbits of the address, each flipped by its block's first bit. */
	/* No branch (the bits are random), and words in registers, not an array in memory. */
	for (i = from; i < nbits && i < 64; i++)
		flip_hi |= (uint64_t)(blocks[i][0] >> 7) << (63 - i);
	for (i = from > 64 ? from : 64; i < nbits; i++)
		flip_lo |= (uint64_t)(blocks[i][0] >> 7) << (127 - i);
	word[0] = htobe64(bits_hi ^ flip_hi);
	word[1] = htobe64(bits_lo ^ flip_lo);
	memcpy(addr, word, AES_BLOCK);
	/* from is a whole number of bytes (the cached prefixes' lengths are). */
	memcpy(out + from / 8, addr + from / 8, len - from / 8);
	return 0;
}

/*
 * A pseudonym's first k bits depend on the address's first k bits only, so
 * those of a subnet's addresses are computed once: a direct-mapped cache
 * per prefix length (IPv6 /112, /96, /64 and /48; IPv4's tables are below)
 * of the pseudonyms' prefixes.  A new address in a known subnet then costs
 * the AES blocks of its host bits only.
 */
static struct prefix_slot *
prefix_slot(struct anon_addr *a, int level, const uint8_t *in)
{
	unsigned n = prefix_levels[level].bits / 8;

	return &a->prefix_cache[level][slot_hash(in, n) &
	    (PREFIX_SLOTS - 1)];
}

/* The longest prefix of in whose pseudonym's prefix is cached: its bits copied into res, and how many (0: none). */
static unsigned
known_prefix(struct anon_addr *a, const uint8_t *in, size_t len, uint8_t *res)
{
	for (int level = 0; level < PREFIX_LEVELS; level++) {
		const struct prefix_slot *p;
		unsigned n = prefix_levels[level].bits / 8;

		if (prefix_levels[level].len != len)
			continue;
		p = prefix_slot(a, level, in);
		if (p->used && memcmp(p->in, in, n) == 0) {
			memcpy(res, p->out, n);
			return prefix_levels[level].bits;
		}
	}
	return 0;
}

/* The prefix caches learn res's prefixes of in longer than from bits and at most upto. */
static void
learn_prefixes(struct anon_addr *a, const uint8_t *in, const uint8_t *res,
    size_t len, unsigned from, unsigned upto)
{
	for (int level = 0; level < PREFIX_LEVELS; level++) {
		struct prefix_slot *p;
		unsigned n = prefix_levels[level].bits / 8;

		if (prefix_levels[level].len != len ||
		    prefix_levels[level].bits <= from ||
		    prefix_levels[level].bits > upto)
			continue;
		p = prefix_slot(a, level, in);
		memcpy(p->in, in, n);
		memcpy(p->out, res, n);
		p->used = true;
	}
}

static struct v4_net24 *
v4_net24_slot(struct anon_addr *a, uint32_t net)
{
	/*
	 * By the /24's last two bytes, offset by its first: neighbouring
	 * /24s (a flow's next addresses, a table's next routes) are
	 * neighbouring slots, in cache lines fetched already.
	 */
	return &a->v4->net24[(net + (net >> 16) * 0x9e37u) &
	    (V4_NET24_SLOTS - 1)];
}

/* The mask of an IPv4 address's first bits bits (1 to 32). */
static uint32_t
v4_first(unsigned bits)
{
	return ~(~0u >> (bits - 1) >> 1);
}

/*
 * The pseudonym of in's first bits bits (1 to 32; the rest of in zero)
 * into out, its bits past them zero: what the tables know, the rest by
 * map_bits (one AES batch), then learned.
 */
static int
map_v4(struct anon_addr *a, const uint8_t *in, uint8_t *out, unsigned bits)
{
	uint32_t addr = be32toh((uint32_t)load_u32(in)), flips = 0, res;
	uint32_t *n16 = &a->v4->net16[addr >> 16];
	struct v4_net24 *n24 = NULL;
	unsigned from = 0;
	uint8_t bytes[4];

	if (bits >= 16 && (*n16 & V4_KNOWN)) {
		flips = (*n16 & 0xffff) << 16;
		from = 16;
	}
	if (bits >= 24) {
		n24 = v4_net24_slot(a, addr >> 8);
		if (n24->net == ((addr >> 8) | V4_KNOWN)) {
			flips |= n24->flips << 8;
			from = 24;
		}
	}
	res = htobe32(addr ^ flips);
	memcpy(bytes, &res, 4);
	if (from < bits && map_bits(a, in, bytes, 4, from, bits) == -1)
		return -1;
	flips = be32toh((uint32_t)load_u32(bytes)) ^ addr;
	if (bits >= 16 && from < 16)
		*n16 = V4_KNOWN | flips >> 16;
	if (n24 != NULL && from < 24) {
		n24->net = (addr >> 8) | V4_KNOWN;
		n24->flips = flips >> 8 & 0xff;
	}
	res = htobe32((addr ^ flips) & v4_first(bits));
	memcpy(out, &res, 4);
	return 0;
}

static int
map_uncached(struct anon_addr *a, const uint8_t *in, uint8_t *out, size_t len)
{
	uint8_t res[MAX_ADDR_LEN] = { 0 };
	unsigned from;

	if (len == 4)
		return map_v4(a, in, out, 32);
	from = known_prefix(a, in, len, res);
	if (map_bits(a, in, res, len, from, (unsigned)len * 8) == -1)
		return -1;
	/* Remember the prefixes shorter than the address, longer than the one known. */
	learn_prefixes(a, in, res, len, from, (unsigned)len * 8);
	memcpy(out, res, len);
	return 0;
}

int
anon_addr_map_bytes(struct anon_addr *a, const uint8_t *in, uint8_t *out,
    size_t len)
{
	struct cache_slot *slot;

	if (len != 4 && len != 16) {
		errno = EINVAL;
		return -1;
	}
	/* Before the cache: whatever it holds, a kept address stays itself. */
	if (a->preserve != 0 && anon_addr_preserved(a->preserve, in, len)) {
		memmove(out, in, len);
		return 0;
	}
	slot = cache_slot(a, in, len);
	/* Constant lengths, so the compiler compares and copies inline (no library call per address). */
	if (slot->len == len && (len == 4 ? memcmp(slot->in, in, 4) :
	    memcmp(slot->in, in, 16)) == 0) {
		if (len == 4)
			memcpy(out, slot->out, 4);
		else
			memcpy(out, slot->out, 16);
		return 0;
	}
	memcpy(slot->in, in, len);
	/* A new pair is told once it is computed: every distinct address reaches here at least once. */
	if (map_uncached(a, in, slot->out, len) == -1 || (a->seen != NULL &&
	    a->seen(a->seen_ctx, in, slot->out, len) == -1)) {
		slot->len = 0;
		return -1;
	}
	slot->len = (uint8_t)len;
	memcpy(out, slot->out, len);
	return 0;
}

/*
 * A prefix's pseudonym needs only its own bits, each an AES block: a /24
 * costs 24 blocks at most, not the 32 of its address (128 for IPv6).  The
 * prefix caches give what they know (a cached prefix as long as it, or the
 * longest shorter one) and learn the prefixes it covers; the address cache
 * is not asked (a prefix's address is seldom one in use: a probe that
 * misses costs a cache miss) nor taught (no whole pseudonym is computed).  With a
 * hook on new pairs (--map-out), the whole address is mapped as before, so
 * the hook hears of it.
 */
int
anon_addr_map_prefix(struct anon_addr *a, const uint8_t *in, uint8_t *out,
    size_t len, unsigned bits)
{
	uint8_t res[MAX_ADDR_LEN] = { 0 };
	unsigned from;

	if ((len != 4 && len != 16) || bits >= len * 8 || a->seen != NULL ||
	    (a->preserve != 0 && anon_addr_preserved(a->preserve, in, len)))
		return anon_addr_map_bytes(a, in, out, len);
	if (len == 4 && bits == 0) {	/* no bits of its own: nothing to map */
		memset(out, 0, 4);
		return 0;
	}
	if (len == 4)
		return map_v4(a, in, out, bits);
	from = known_prefix(a, in, len, res);
	if (from < bits && map_bits(a, in, res, len, from, bits) == -1)
		return -1;
	learn_prefixes(a, in, res, len, from, bits);
	memcpy(out, res, len);
	return 0;
}

/* Bit by bit from the top: each original bit makes the prefix that decides the next one's flip. */
int
anon_addr_unmap_bytes(struct anon_addr *a, const uint8_t *in, uint8_t *out,
    size_t len)
{
	uint8_t orig[MAX_ADDR_LEN] = { 0 };
	uint8_t block[AES_BLOCK];
	unsigned nbits = (unsigned)len * 8;

	if (len != 4 && len != 16) {
		errno = EINVAL;
		return -1;
	}
	for (unsigned i = 0; i < nbits; i++) {
		prefix_block(a->pad, orig, i, block);
		if (aes_blocks(a, block, block, 1) == -1)
			return -1;
		if (bit_of(in, i) != ((block[0] & 0x80) != 0))
			flip_bit(orig, i);
	}
	memcpy(out, orig, len);
	return 0;
}

static uint8_t *
addr_bytes(struct tr_addr *a, size_t *len)
{
	*len = a->family == AF_INET ? 4 : 16;
	return a->family == AF_INET ? (uint8_t *)&a->v4 : a->v6.s6_addr;
}

int
anon_addr_map(struct anon_addr *a, const struct tr_addr *in,
    struct tr_addr *out)
{
	size_t len;
	uint8_t *p;

	*out = *in;
	p = addr_bytes(out, &len);
	return anon_addr_map_bytes(a, p, p, len);
}

int
anon_addr_unmap(struct anon_addr *a, const struct tr_addr *in,
    struct tr_addr *out)
{
	size_t len;
	uint8_t *p;

	*out = *in;
	p = addr_bytes(out, &len);
	return anon_addr_unmap_bytes(a, p, p, len);
}

static int
mac_uncached(struct anon_addr *a, const uint8_t in[6], uint8_t out[6])
{
	uint8_t msg[sizeof(mac_label) - 1 + 6];
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;

	memcpy(msg, mac_label, sizeof(mac_label) - 1);
	memcpy(msg + sizeof(mac_label) - 1, in, 6);
	if (HMAC(EVP_sha256(), a->key, ANON_KEY_LEN, msg, sizeof(msg), md,
	    &mdlen) == NULL || mdlen < 6) {
		errno = EIO;
		return -1;
	}
	/* Bit 0 of the first byte: group; bit 1: locally administered. */
	md[0] = (uint8_t)((md[0] & ~0x03) | (in[0] & 0x03));
	memcpy(out, md, 6);
	return 0;
}

int
anon_mac_map(struct anon_addr *a, const uint8_t in[6], uint8_t out[6])
{
	static const uint8_t broadcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct mac_slot *slot;

	if (memcmp(in, broadcast, 6) == 0) {
		memcpy(out, in, 6);
		return 0;
	}
	slot = &a->mac_cache[slot_hash(in, 6) & (MAC_CACHE_SLOTS - 1)];
	if (!slot->used || memcmp(slot->in, in, 6) != 0) {
		memcpy(slot->in, in, 6);
		slot->used = mac_uncached(a, in, slot->out) == 0 &&
		    (a->seen == NULL ||
		    a->seen(a->seen_ctx, in, slot->out, 6) == 0);
		if (!slot->used)
			return -1;
	}
	memcpy(out, slot->out, 6);
	return 0;
}
