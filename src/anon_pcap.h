/* Captures anonymized into one pcap: every frame of every input, in order, rewritten by anon_frame. */
#ifndef TR_ANON_PCAP_H
#define TR_ANON_PCAP_H

#include <signal.h>
#include <stddef.h>

#include "anon_addr.h"
#include "anon_frag.h"
#include "anon_frame.h"
#include "anon_proto.h"
#include "anon_tcp.h"
#include "config.h"
#include "proto.h"

/* What the protocols' rewriters did to the payloads, summed over a run. */
struct anon_payload_stats {
	/* Per protocol (section id): datagrams by anon_msg_result. */
	uint64_t		rewritten[SECTION_COUNT];
	uint64_t		malformed[SECTION_COUNT];
	struct anon_counts	counts;
	/* Datagrams left as captured: their exporter came past the cap on exporters (hostile input). */
	uint64_t		over_exporters;
	/* TCP (BMP, BGP): messages by result, and what stayed as captured. */
	struct anon_tcp_stats	tcp;
	/* Fragmented UDP datagrams: rewritten whole, or given up. */
	struct anon_frag_stats	frag;
};

enum anon_pcap_result {
	ANON_PCAP_OK,
	ANON_PCAP_BAD_INPUT,	/* an input does not open as a capture: nothing was written */
	ANON_PCAP_FAILED,	/* a damaged input, mixed link types, a write or libcrypto error, a signal: nothing was written */
};

/*
 * Read every frame of inputs[0..n) (pcap or pcapng, in the order given,
 * each file in its own order) and write it, pseudonymized, to out: a
 * classic pcap with nanosecond timestamps and the inputs' link type (one
 * for all; an output of no frame says Ethernet).  out is written under a
 * temporary name in its folder and renamed into place only when whole, so
 * a failed run leaves no partial capture (and out may be an input).  The
 * output depends only on the key and the inputs.  A signal that sets
 * *stop ends the run as a failure.  On failure err says what, naming the
 * file and frame.  Each whole UDP datagram goes to the rewriter of the
 * protocol whose section of cfg selects it (select, then NAME_h; none: it
 * stays as captured), or without cfg of the protocol its content says (as
 * --info classifies without a config).  Each TCP connection's directions
 * are reassembled and framed (sections as for UDP: -t's, else by content)
 * and each whole BMP or BGP message rewritten, its new bytes written into
 * the segments that carried it: so every input is read twice, and must be
 * a file (not a pipe).  as (NULL: AS numbers kept) and text are the
 * rewriters' AS and string pseudonyms.
 */
enum anon_pcap_result anon_pcap_run(struct anon_addr *, struct anon_as *as,
		    struct anon_text *text,
		    const char *const *inputs, size_t n, const char *out,
		    const struct config *cfg, volatile sig_atomic_t *stop,
		    struct anon_frame_stats *,
		    struct anon_payload_stats *, char *err, size_t errlen);

#endif
