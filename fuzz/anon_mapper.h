/*
 * The address mapper of the anonymize harnesses (fuzz_anon.c,
 * fuzz_sflow_anon.c, fuzz_anon_frag.c): one fixed key, made once per
 * process, so every input is rewritten by the same pseudonyms.
 */
#ifndef TR_FUZZ_ANON_MAPPER_H
#define TR_FUZZ_ANON_MAPPER_H

#include <stdint.h>
#include <stdlib.h>

#include "anon_addr.h"

static struct anon_addr *
mapper(void)
{
	static struct anon_addr *a;
	static const uint8_t key[ANON_KEY_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8 };

	if (a == NULL && (a = anon_addr_new(key)) == NULL)
		abort();
	return a;
}

#endif
