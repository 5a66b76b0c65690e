/* Keyed tokens for text (BMP sysName, sysDescr and other strings): same length, printable, the same for the same text. */
#ifndef TR_ANON_TEXT_H
#define TR_ANON_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "anon_addr.h"

struct anon_text;

/* A tokenizer for one key (its HMAC key derived from it); NULL with errno set. */
struct anon_text *anon_text_new(const uint8_t key[ANON_KEY_LEN]);
void	 anon_text_free(struct anon_text *);

/*
 * Replace len bytes at p with a token of the same length: lower-case
 * letters and digits drawn from a keyed hash of the whole text, so equal
 * texts get equal tokens and nothing of the text is left.  Not invertible.
 * 0, or -1 (EIO) when libcrypto fails.
 */
int	 anon_text_token(struct anon_text *, uint8_t *p, size_t len);

#endif
