/* The hook a protocol gives the anonymizer to rewrite the addresses inside its messages (struct proto's anon). */
#ifndef TR_ANON_PROTO_H
#define TR_ANON_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "anon_addr.h"
#include "anon_as.h"
#include "anon_text.h"

/*
 * The anonymizer hands each protocol its messages as the other modes do
 * (UDP: one datagram, classified by -t's sections or by content like
 * --info.  TCP: the framer's messages out of the reassembled stream of
 * each direction, whole).  A rewriter changes bytes in place and never a length, so a
 * TCP message's new bytes go back into the very segments (by sequence
 * number) that carried it, and segmentation stays as captured.  The frame
 * rewriter (anon_frame) still does the IP headers and, last, the
 * checksums over the rewritten payloads.
 */

/* One message to rewrite, and where it came from (addresses as captured, before their own mapping). */
struct anon_msg {
	uint8_t			*data;		/* rewritten in place */
	size_t			 len;		/* never changes */
	const struct tr_addr	*exporter;	/* the side that exports: NetFlow's sender, BMP's router, BGP's speaker */
	uint16_t		 exporter_port;
	bool			 from_exporter;	/* TCP: this direction; the collector's BGP OPEN has a BGP identifier too */
	uint64_t		 frame;		/* where the message starts, for messages naming it */
};

/* What rewriters count besides each message's result, summed over a run. */
struct anon_counts {
	/* Parts of messages left as captured because their layout is unknown: NetFlow v9/IPFIX data sets before their template (or past the template caps). */
	uint64_t	no_layout;
};

/*
 * What a rewriter may change and use: the key's mappings and the run's
 * options (ranges kept as they are, AS numbers kept or mapped).
 */
struct anon_rewriter {
	struct anon_addr	*addr;
	struct anon_counts	*counts;
	/* as_numbers: map (BGP, BMP): the AS pseudonyms; NULL for keep, the default. */
	struct anon_as		*as;
	/* Text that names things (BMP sysName, sysDescr): keyed tokens. */
	struct anon_text	*text;
	/* Later: `preserve` ranges, names for enterprise fields. */
};

/* How one message went: counted per protocol in the closing summary. */
enum anon_msg_result {
	ANON_MSG_REWRITTEN,	/* walked to its end; every address in it mapped */
	ANON_MSG_CUT,		/* the capture ends inside it: mapped up to the cut */
	ANON_MSG_MALFORMED,	/* a length or type that contradicts the walk: mapped up to there, the rest left as captured and reported */
	ANON_MSG_FAILED,	/* libcrypto failed: the run stops */
};

struct proto_anon {
	/*
	 * State per exporter and direction that a message's meaning depends
	 * on (NetFlow v9/IPFIX: templates, to know which fields hold
	 * addresses; BGP: ADD-PATH and 4-byte AS from both OPENs).  The
	 * protocol caps it (hostile input).  NULL: stateless.
	 */
	void			*(*new)(void);
	void			 (*free)(void *state);
	/* Rewrite one message (a UDP datagram, or one framed TCP message). */
	enum anon_msg_result	 (*message)(void *state,
				    const struct anon_rewriter *,
				    struct anon_msg *);
};

#endif
