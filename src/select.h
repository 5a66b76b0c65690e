/* Selection: which protocol section a packet belongs to, and which exporter sent it. */
#ifndef TR_SELECT_H
#define TR_SELECT_H

#include <stdbool.h>

#include "config.h"
#include "packet.h"

struct selector;

/* Index the config's selectors and exporter map; NULL only on allocation failure. */
struct selector	*selector_new(const struct config *cfg);
void		 selector_free(struct selector *);

/*
 * The first enabled section (in section_id order, as the older tool tries
 * them) whose transport and `select` (ip/udp/tcp keys) match; -1 if none.
 * Message-level keys (ipfix_h, bmp_h, bgp_h) are not looked at here.
 */
int		 select_section(const struct selector *,
		    const struct tr_packet *pkt);

/* Whether a datagram passes the section's header filter (ipfix_h: version and domain; true when there is none). */
bool		 select_datagram(const struct cfg_section *, enum section_id,
		    const uint8_t *payload, size_t len);
/* Whether a TCP protocol's message type passes the section's header filter (bmp_h.type, bgp_h.type; true when absent). */
bool		 select_message_type(const struct cfg_section *, uint8_t type);

/*
 * A TCP segment the captured collector sent on a selected exporter's
 * session (its reverse selects, from a mapped exporter): that section, else
 * -1.  Never replayed, but BGP learns the original negotiation from it.
 */
int		 select_collector_side(const struct selector *,
		    const struct tr_packet *pkt);

/* Which side of a selected flow a packet is. */
enum select_side {
	SELECT_NONE,			/* no section selects it, either way */
	SELECT_EXPORTER,		/* a mapped exporter's packet for a section */
	SELECT_COLLECTOR,		/* TCP: the captured collector's side of such a session */
	SELECT_UNKNOWN_EXPORTER,	/* a section selects it, but its source is not mapped */
};

/*
 * What a packet is: section and exporter (network.map index) for
 * SELECT_EXPORTER and SELECT_COLLECTOR (the exporter being the destination
 * then).  A section without `select` takes every packet of its transport,
 * so a TCP packet from an unmapped address to a mapped one is the
 * collector's side, not an unknown exporter.
 */
enum select_side select_side(struct selector *,
		    const struct tr_packet *pkt, int *section, int *exporter);

/* Whether a message-level list (bmp_h.type, bgp_h.type, ...) takes value: true when the key is absent. */
bool		 select_u32_match(const struct cfg_u32_list *list,
		    uint32_t value);

/* The network.map entry (its index) for a captured source address; -1 if unmapped. */
int		 select_exporter(const struct selector *,
		    const struct tr_addr *src);

#endif
