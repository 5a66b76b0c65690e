/* sFlow v5 datagrams pseudonymized: the sflow descriptor's anon hook. */
#ifndef TR_SFLOW_ANON_H
#define TR_SFLOW_ANON_H

#include "anon_proto.h"

extern const struct proto_anon sflow_anon;

#endif
