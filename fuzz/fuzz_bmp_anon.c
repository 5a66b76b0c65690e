/*
 * libFuzzer harness: the BMP message rewriter (bmp_anon.c) on arbitrary
 * messages, through anon_messages.h (the same body as the other message
 * rewriters').
 */
#include "bmp_anon.h"

#define ANON_FUZZ_HOOK	bmp_anon
#include "anon_messages.h"
