/* The anonymizer's key file: 32 random bytes, made once, read by every run that must give the same pseudonyms. */
#ifndef TR_ANON_KEY_H
#define TR_ANON_KEY_H

#include <stddef.h>
#include <stdint.h>

#include "anon_addr.h"

/*
 * Make a new key file at path from getrandom(): mode 0600, never over an
 * existing file.  Returns 0, or -1 with a message naming the file in err.
 */
int	anon_key_create(const char *path, char *err, size_t errlen);

/* Read a key file, which must hold exactly ANON_KEY_LEN bytes; 0, or -1 with a message in err. */
int	anon_key_load(const char *path, uint8_t key[ANON_KEY_LEN], char *err,
	    size_t errlen);

#endif
