/* Capture source: reads pcap/pcapng with libpcap and decapsulates every frame down to UDP/TCP. */
#ifndef TR_SOURCE_H
#define TR_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "packet.h"

struct source;

/*
 * Why frames did not become packets; every frame lands in exactly one bucket:
 *
 *   frames = (packets - reassembled) + truncated + not_ip + other_l4
 *            + malformed + fragments
 *
 * A fragment frame counts in `fragments` only, whatever becomes of its
 * datagram; a completed datagram then counts once more, at datagram level,
 * as `reassembled` (and in `packets`) when it is UDP/TCP, or as
 * `reassembled_other` when it is not (a big ping) or its L4 header is bad.
 * Once the input has ended (source_next returned 0 or -1, or source_flush):
 *
 *   fragments = fragments of reassembled and reassembled_other datagrams
 *               + frag_dropped
 *
 * A truncated or malformed fragment frame counts as truncated/malformed,
 * not as a fragment.
 */
struct source_stats {
	uint64_t	frames;		/* frames read from the file */
	uint64_t	packets;	/* UDP/TCP packets handed out (reassembled ones count once) */
	uint64_t	truncated;	/* caplen < len where the cut hides L3/L4 or payload bytes */
	uint64_t	not_ip;		/* ARP, LLDP, other ethertypes */
	uint64_t	other_l4;	/* IP but neither UDP nor TCP (ICMP, OSPF, ...) */
	uint64_t	malformed;	/* headers that contradict their lengths */
	uint64_t	fragments;	/* IP fragments consumed into a reassembly */
	uint64_t	reassembled;	/* datagrams completed from fragments */
	uint64_t	frag_dropped;	/* fragments given up on (incomplete, overlapping, too many) */
	uint64_t	reassembled_other; /* datagrams completed but not UDP/TCP, or with a bad L4 header */
};

/*
 * Open a capture file (pcap or pcapng, any link type listed in the README).
 * On failure returns NULL and writes a message naming the file into err.
 */
struct source	*source_open(const char *path, char *err, size_t errlen);

/*
 * Next UDP/TCP packet: 1 with *pkt filled, 0 at the end of the file,
 * -1 when the file is damaged; source_error() then says where (frame number
 * and byte offset) and what libpcap reported.  Packets before the damage
 * were all delivered.
 */
int		 source_next(struct source *, struct tr_packet *pkt);
const char	*source_error(const struct source *);
const struct source_stats *source_stats(const struct source *);
/* Byte offset reached in the file and its size, for progress display. */
void		 source_progress(const struct source *, uint64_t *offset,
		    uint64_t *size);
void		 source_close(struct source *);

/*
 * A decoder without a file, for frames of one link type (a DLT_* value):
 * the unit tests feed hand-built frames through the same code path.
 * source_feed() returns 1 with *pkt filled when the frame completed a
 * UDP/TCP packet, 0 when it was consumed (counted in the stats).
 */
struct source	*source_new_decoder(int linktype);
int		 source_feed(struct source *, const uint8_t *frame,
		    uint32_t caplen, uint32_t len, tr_ns ts,
		    struct tr_packet *pkt);
/*
 * End of input for a decoder: give up on datagrams still waiting for
 * fragments, counting those fragments as frag_dropped.  source_next() does
 * this itself at the end of the file.
 */
void		 source_flush(struct source *);

/*
 * Every frame as read, whatever it becomes (a packet, a fragment, ARP...),
 * for code that rewrites frames rather than packets (the anonymizer).
 * l3_offset is where the outermost IPv4/IPv6 header starts in data, past
 * the link header, VLAN tags and MPLS labels, or SOURCE_NO_L3 when the
 * frame holds none (it may still be cut short: check against caplen).
 * arp_offset is where an ARP body starts, or SOURCE_NO_L3.
 */
#define SOURCE_NO_L3	SIZE_MAX

struct source_frame {
	uint64_t	 number;	/* 1-based, in its capture file */
	int		 linktype;	/* DLT_* value */
	tr_ns		 ts;
	const uint8_t	*data;
	uint32_t	 caplen;
	uint32_t	 len;
	size_t		 l3_offset;
	size_t		 arp_offset;
};

/* Called for each frame once it is decoded, before source_next() returns or reads on. */
typedef void	 source_frame_fn(void *ctx, const struct source_frame *);
void		 source_on_frame(struct source *, source_frame_fn *, void *ctx);

#endif
