/* Keyed pseudonyms for AS numbers (anonymize's `as_numbers: map`): a permutation within each range of like ASes. */
#ifndef TR_ANON_AS_H
#define TR_ANON_AS_H

#include <stdint.h>

#include "anon_addr.h"

struct anon_as;

/*
 * A mapper for one key (the anonymizer's 32-byte key: its round keys are
 * derived from it, so AS pseudonyms share no bits with address ones).
 * NULL with errno set (ENOMEM).
 */
struct anon_as	*anon_as_new(const uint8_t key[ANON_KEY_LEN]);
void		 anon_as_free(struct anon_as *);

/*
 * The pseudonym of an AS number: a keyed permutation within its range
 * (public 16-bit 1-64495, private 16-bit 64512-65534, public 32-bit
 * 131072-4199999999, private 32-bit 4200000000-4294967294), so a 2-byte AS
 * stays a 2-byte one and a private AS a private one.  Reserved values (0,
 * AS_TRANS 23456, the documentation ranges, 65535, 65536-131071,
 * 4294967295) stay as they are.  0 with *out set, -1 (EIO) when libcrypto
 * fails.
 */
int	anon_as_map(struct anon_as *, uint32_t as, uint32_t *out);
/* The way back, for the key holder (and the tests). */
int	anon_as_unmap(struct anon_as *, uint32_t as, uint32_t *out);

#endif
