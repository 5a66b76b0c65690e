/* The IPFIX information elements (IANA registry) a generate spec names in its templates: id, length, kind. */
#ifndef TR_GEN_IE_H
#define TR_GEN_IE_H

#include <stddef.h>
#include <stdint.h>

enum gen_ie_kind {
	GEN_IE_UNSIGNED,	/* counters, ports, identifiers */
	GEN_IE_IPV4,
	GEN_IE_IPV6,
	GEN_IE_FLOW_START,	/* a flow's start time: its unit is the element's */
	GEN_IE_FLOW_END,
};

struct gen_ie {
	const char	*name;		/* "sourceIPv4Address" */
	uint16_t	 id;
	uint16_t	 len;		/* the default length in a template */
	enum gen_ie_kind kind;
};

/* By IANA name (exact, case and all); NULL if the table does not have it. */
const struct gen_ie *gen_ie_find(const char *name);
/* Every element of the table, for messages and the README. */
extern const struct gen_ie gen_ie_table[];
extern const size_t gen_ie_count;

/* Flow time elements: NetFlow v9's uptimes (21, 22), IPFIX's seconds to nanoseconds (150-157). */
#define GEN_IE_FLOW_END_SYSUPTIME	21
#define GEN_IE_FLOW_START_SYSUPTIME	22

#endif
