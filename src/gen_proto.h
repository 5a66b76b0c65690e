/*
 * A protocol's generator, the `gen` hook of its descriptor (proto.h): the
 * spec sections it reads, per stream (one exporter and domain) the
 * messages of each export interval, and its oracle, what the spec asks for
 * computed from the spec alone.  A new protocol's generator is one module
 * and this one hook in its descriptor; gen_spec and gen_run name no
 * protocol.
 */
#ifndef TR_GEN_PROTO_H
#define TR_GEN_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "gen_spec.h"
#include "monotime.h"

/*
 * Where a stream's messages go: the run writes each as one datagram from
 * the exporter to the collector (UDP), or into the exporter's TCP session
 * with the collector, cut into segments (TCP: one session per exporter and
 * section, opened before its first message, closed after the last tick).
 */
struct gen_out {
	uint8_t		*buf;		/* room for one message ... */
	size_t		 cap;		/* ... of at most this many bytes */
	int		(*emit)(struct gen_out *, size_t len);	/* the message in buf */
	/* TCP: the message in buf is the collector's, in its direction of the session (a BGP OPEN's answer). */
	int		(*reply)(struct gen_out *, size_t len);
	void		*run;
};

/* What a stream sends over the whole duration, by the spec's arithmetic. */
struct gen_counts {
	uint64_t	flows;		/* flow records */
	uint64_t	messages;	/* datagrams */
	uint64_t	templates;	/* messages that carry templates */
	uint64_t	options;	/* options data records */
	uint64_t	bytes;		/* of the messages: 0 when the oracle cannot tell */
	/* BMP */
	uint64_t	peers;		/* monitored peers */
	uint64_t	peer_up;	/* Peer Up messages (a peer's again after a Peer Down) */
	uint64_t	peer_down;
	uint64_t	route_monitoring;	/* messages, End-of-RIBs included */
	uint64_t	prefixes;	/* announced, over all Route Monitoring */
	uint64_t	withdrawn;	/* prefixes withdrawn */
	uint64_t	end_of_rib;
	uint64_t	stats;		/* Statistics Reports */
	/* BGP (prefixes, withdrawn and end_of_rib too) */
	uint64_t	sessions;
	uint64_t	updates;	/* End-of-RIBs included */
	uint64_t	adj_rib_in;	/* prefixes the collector holds at the end */
};

struct proto_gen {
	/* The spec keys it reads, each a variant ("ipfix", "netflow_v9", "netflow_v5"). */
	const char *const *keys;
	size_t		   n_keys;
	/* One section: conf owned by the hook, 0 or -1 through gen_yaml_fail. */
	int	 (*parse)(struct gen_yaml *, yaml_node_t *, size_t key,
		    const struct gen_spec *, void **conf);
	void	 (*free)(void *conf);
	/* One exporter's stream in a domain; NULL when out of memory. */
	void	*(*stream_new)(const void *conf, const struct gen_spec *,
		    const struct gen_exporter *, uint32_t domain);
	void	 (*stream_free)(void *);
	/*
	 * Export interval tick (0-based) at Unix time when: its messages
	 * through out. 0, or -1.  A TCP protocol's stream is one per
	 * exporter (domain 0 is the first of its list).
	 */
	int	 (*tick)(void *stream, uint64_t tick, tr_ns when,
		    struct gen_out *out);
	/*
	 * The oracle: the counts of one stream of an exporter that has
	 * n_domains domains, from the spec alone (streams differ only by
	 * their exporter's domain count, which is how the run sums them).
	 */
	void	 (*expect)(const void *conf, const struct gen_spec *,
		    size_t n_domains, struct gen_counts *);
	/*
	 * TCP: the capture ends with the sessions up, as one taken while they
	 * are (BGP: the replay then holds them open with keep_open, and the
	 * collector's RIB can be read); otherwise they end with FIN.
	 */
	bool	 stays_up;
};

/* The flow generators' (gen_nf.c): IPFIX, NetFlow v9 and v5, in the ipfix descriptor. */
extern const struct proto_gen nf_gen;
/* The BMP generator (gen_bmp.c): monitored peers and their synthetic tables, in the bmp descriptor. */
extern const struct proto_gen bmp_gen;
/* The BGP generator (gen_bgp.c): one session per router and its tables, in the bgp descriptor. */
extern const struct proto_gen bgp_gen;

#endif
