/* Keyed text tokens: HMAC-SHA256 of the text, in counter mode for long ones, read as letters and digits. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "anon_text.h"

#define SHA256_LEN	32

struct anon_text {
	uint8_t	key[SHA256_LEN];
};

struct anon_text *
anon_text_new(const uint8_t key[ANON_KEY_LEN])
{
	static const char label[] = "traffic-reproducer text tokens";
	struct anon_text *t = calloc(1, sizeof(*t));
	unsigned int len = sizeof(t->key);

	if (t == NULL)
		return NULL;
	if (HMAC(EVP_sha256(), key, ANON_KEY_LEN, (const uint8_t *)label,
	    sizeof(label) - 1, t->key, &len) == NULL) {
		free(t);
		errno = EIO;
		return NULL;
	}
	return t;
}

void
anon_text_free(struct anon_text *t)
{
	if (t == NULL)
		return;
	OPENSSL_cleanse(t->key, sizeof(t->key));
	free(t);
}

int
anon_text_token(struct anon_text *t, uint8_t *p, size_t len)
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	uint8_t digest[SHA256_LEN], block[SHA256_LEN + 4];
	unsigned int dlen = sizeof(digest);

	/* The text's digest first: every token byte depends on all of it. */
	if (HMAC(EVP_sha256(), t->key, sizeof(t->key), p, len, digest,
	    &dlen) == NULL) {
		errno = EIO;
		return -1;
	}
	memcpy(block, digest, SHA256_LEN);
	for (size_t done = 0, counter = 0; done < len; counter++) {
		uint8_t out[SHA256_LEN];
		unsigned int olen = sizeof(out);

		block[SHA256_LEN] = (uint8_t)(counter >> 24);
		block[SHA256_LEN + 1] = (uint8_t)(counter >> 16);
		block[SHA256_LEN + 2] = (uint8_t)(counter >> 8);
		block[SHA256_LEN + 3] = (uint8_t)counter;
		if (HMAC(EVP_sha256(), t->key, sizeof(t->key), block,
		    sizeof(block), out, &olen) == NULL) {
			errno = EIO;
			return -1;
		}
		for (size_t i = 0; i < SHA256_LEN && done < len; i++, done++)
			p[done] = (uint8_t)alphabet[out[i] % (sizeof(alphabet) - 1)];
	}
	return 0;
}
