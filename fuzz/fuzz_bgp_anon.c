/*
 * libFuzzer harness: the BGP message rewriter (bgp_anon.c) on arbitrary
 * messages, through anon_messages.h (the same body as the other message
 * rewriters').
 */
#include "bgp_anon.h"

#define ANON_FUZZ_HOOK	bgp_anon
#include "anon_messages.h"
