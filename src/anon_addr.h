/* Keyed pseudonyms for addresses: Crypto-PAn for IPv4/IPv6 (prefix-preserving, invertible), HMAC for MAC addresses. */
#ifndef TR_ANON_ADDR_H
#define TR_ANON_ADDR_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

/*
 * A key is 32 bytes, as in the Crypto-PAn reference implementation: the
 * first 16 are the AES-128 key, the last 16 are encrypted into the pad that
 * fills the cipher's input beyond an address's prefix.  The MAC mapping
 * takes its HMAC key from all 32.
 */
#define ANON_KEY_LEN	32

struct anon_addr;

/* A mapper for one key; NULL with errno set (ENOMEM, or EIO when libcrypto fails). */
struct anon_addr *anon_addr_new(const uint8_t key[ANON_KEY_LEN]);
void	 anon_addr_free(struct anon_addr *);

/*
 * The pseudonym of an address of len bytes (4: IPv4, 16: IPv6) into out
 * (which may be in).  Two addresses that share a k-bit prefix have
 * pseudonyms that share a k-bit prefix, and no more.  Returns 0, or -1
 * with errno set (EINVAL for another length, EIO when libcrypto fails).
 */
int	 anon_addr_map_bytes(struct anon_addr *, const uint8_t *in,
	    uint8_t *out, size_t len);
/*
 * The same for a prefix of bits bits (in: its address, len bytes, zero
 * past the prefix): out's first bits bits are those of the address's
 * pseudonym, the rest unspecified.  Cheaper than the whole address (AES
 * blocks for the prefix's bits only); the same as it with a hook on new
 * pairs (anon_addr_on_seen), which then hears of the whole address.
 */
int	 anon_addr_map_prefix(struct anon_addr *, const uint8_t *in,
	    uint8_t *out, size_t len, unsigned bits);
/* The original address of a pseudonym (the key holder's way back). */
int	 anon_addr_unmap_bytes(struct anon_addr *, const uint8_t *in,
	    uint8_t *out, size_t len);

/* The same on address values; out keeps in's family. */
int	 anon_addr_map(struct anon_addr *, const struct tr_addr *in,
	    struct tr_addr *out);
int	 anon_addr_unmap(struct anon_addr *, const struct tr_addr *in,
	    struct tr_addr *out);

/*
 * The pseudonym of a MAC address: a keyed hash of it, with the original's
 * group (multicast) and locally-administered bits, so that a frame's kind
 * of destination stays what it was.  The broadcast address stays itself.
 * Not invertible (a collision is possible but does not matter: MACs only
 * tell hosts apart on a link).  Returns 0, or -1 (EIO) when libcrypto fails.
 */
int	 anon_mac_map(struct anon_addr *, const uint8_t in[6], uint8_t out[6]);

/*
 * Ranges whose addresses the map functions keep as they are (--preserve):
 * a bit each, any subset; none by default.  A kept address is its own
 * "pseudonym", so it stays readable, but the prefix property no longer
 * holds between it and the others, and a pseudonym of another address may
 * fall into such a range too (--reverse cannot tell them apart).
 */
enum anon_preserve {
	ANON_PRESERVE_PRIVATE = 1 << 0,		/* 10/8, 172.16/12, 192.168/16, 100.64/10 (RFC 1918, 6598); fc00::/7 (RFC 4193) */
	ANON_PRESERVE_LOOPBACK = 1 << 1,	/* 127/8; ::1 */
	ANON_PRESERVE_MULTICAST = 1 << 2,	/* 224/4; ff00::/8 */
	ANON_PRESERVE_DOCUMENTATION = 1 << 3,	/* 192.0.2/24, 198.51.100/24, 203.0.113/24 (RFC 5737); 2001:db8::/32 (RFC 3849) */
	ANON_PRESERVE_LINK_LOCAL = 1 << 4,	/* 169.254/16; fe80::/10 */
};

/* Keep the addresses of these ranges (a mask of anon_preserve) from now on; recent pseudonyms are forgotten. */
void	 anon_addr_preserve(struct anon_addr *, unsigned ranges);
/* Which of ranges holds the address of len bytes (4 or 16): its bit, or 0. */
unsigned anon_addr_preserved(unsigned ranges, const uint8_t *p, size_t len);
/* "private,loopback,..." (names as anon_preserve_name gives them) into *ranges: 0, or -1 at an unknown name. */
int	 anon_preserve_parse(const char *list, unsigned *ranges);
/* A range's name ("private", "link-local", ...) by its bit. */
const char *anon_preserve_name(unsigned bit);
#define ANON_PRESERVE_ALL	0x1fu

/*
 * Called with every new (address, pseudonym) pair the mapper computes (len:
 * 4, 16, or 6 for a MAC), at least once per distinct address (pairs of
 * preserved addresses and of the broadcast MAC are not); -1 fails the
 * mapping (errno set).  For --map-out.  NULL: none.  Setting it forgets
 * recent pseudonyms, so a pair computed before is told when next mapped.
 */
typedef int anon_addr_seen_fn(void *ctx, const uint8_t *in, const uint8_t *out,
	    size_t len);
void	 anon_addr_on_seen(struct anon_addr *, anon_addr_seen_fn *, void *ctx);

#endif
