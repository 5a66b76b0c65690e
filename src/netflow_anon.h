/* NetFlow v5, v9 and IPFIX payloads pseudonymized: the ipfix descriptor's anon hook. */
#ifndef TR_NETFLOW_ANON_H
#define TR_NETFLOW_ANON_H

#include <stdbool.h>
#include <stdint.h>

#include "anon_proto.h"

/* Whether IETF information element ie holds an address (IANA abstract type ipv4Address, ipv6Address or macAddress), and of how many bytes (4, 16, 6). */
bool	nf_anon_address_ie(uint16_t ie, uint16_t *len);

extern const struct proto_anon ipfix_anon;

#endif
