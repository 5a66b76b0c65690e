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

#endif
