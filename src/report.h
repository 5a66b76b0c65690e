/* Report: counters from every stage, lag, a periodic table, a progress bar, the final summary and --stats-json. */
#ifndef TR_REPORT_H
#define TR_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "monotime.h"

struct source_stats;

struct report_section {
	uint64_t	sent;		/* datagrams/messages the socket took (TCP: whole) */
	uint64_t	bytes;
	uint64_t	filtered;	/* dropped by a message filter (ipfix_h, bmp_h, bgp_h) */
	uint64_t	not_replayed;	/* selected, but no collector would take it (BGP before an OPEN) */
	uint64_t	refused;	/* collector answered ICMP port unreachable */
	uint64_t	dropped;	/* could not be sent at all */
};

/* NetFlow/IPFIX messages of one version and observation domain (v9 source id, v5 engine). */
struct report_nf_domain {
	uint16_t	version;
	uint32_t	domain;
	uint64_t	messages;
	uint64_t	template_sets;	/* template and options template sets */
	uint64_t	data_sets;
};

/* What the flow fidelity layer saw and changed (flowfix.h). */
struct report_flows {
	struct report_nf_domain *domains;	/* in order of first appearance */
	size_t		n_domains, cap_domains;
	uint64_t	templates_primed;	/* template records sent ahead of data that needed them */
	uint64_t	primed_messages;	/* the messages that carried them */
	uint64_t	orphan_sets_dropped;	/* drop-orphans: data sets without a template sent before */
	uint64_t	orphan_sets_sent;	/* data sets sent before their template reached the collector */
	uint64_t	messages_emptied;	/* every set removed: the message was not sent */
	uint64_t	malformed;		/* sets that could not be walked: sent as captured */
	uint64_t	sequence_rewritten;	/* messages sent with another sequence number */
	uint64_t	not_tracked;		/* template, sequence, domain state past a cap (flowfix.c) */
	bool		shifted;		/* timestamps: shift applied */
	int64_t		shift_secs;		/* the last delta applied */
};

struct report {
	struct report_section section[SECTION_COUNT];
	uint64_t	unknown_peer;	/* selected, but the source address is not in network.map */
	uint64_t	unknown_proto;	/* UDP/TCP packets no section selected */

	/* Capture-side accounting, summed over every capture played. */
	uint64_t	frames, truncated, not_ip, other_l4, malformed;
	uint64_t	fragments, reassembled, frag_dropped;

	uint64_t	captures_played, captures_skipped, captures_damaged;
	const char	*ended_by;	/* "--duration" or "--limit" when one ended the run, else NULL */

	/* --shard K/N (n 0: not sharded): the exporters this process kept, the packets it left to the others. */
	uint32_t	shard_k, shard_n;
	size_t		shard_exporters, shard_exporters_total;
	uint64_t	shard_skipped;

	/* TCP sessions (bmp, bgp, tcp_generic). */
	uint64_t	tcp_sessions;		/* captured sessions replayed */
	uint64_t	tcp_connect_failures;	/* connections that could not be opened */
	uint64_t	tcp_closed_by_collector; /* closed or reset by the collector mid-session */
	uint64_t	tcp_reconnects;		/* sessions connected again after that */
	uint64_t	tcp_sessions_joined;	/* mid-stream continuations sent on a live session's connection */
	uint64_t	tcp_sessions_stalled;	/* ended by tcp_stall_limit */
	uint64_t	tcp_collector_segments;	/* the captured collector's side: read, never sent */
	uint64_t	tcp_retransmitted;	/* captured bytes dropped as retransmissions/probes */
	uint64_t	tcp_gap_bytes;		/* bytes never captured (holes in a stream) */
	uint64_t	tcp_skipped_bytes;	/* bytes skipped to find a message boundary */
	uint64_t	tcp_framing_errors;	/* impossible BMP/BGP headers */
	uint64_t	tcp_unfinished_bytes;	/* a message cut by the end of the captures, not sent */
	uint64_t	tcp_lost_bytes;		/* queued, but the connection went away first */
	uint64_t	tcp_sessions_held;	/* sessions held back by a slow collector (backpressure) */
	tr_ns		tcp_held_lag_max;	/* the longest a held message waited */
	uint64_t	bgp_keepalives_added;	/* KEEPALIVEs sent to keep idle sessions up */
	uint64_t	bgp_notifications_received;
	uint64_t	bgp_open_refusals;	/* connections closed before the OPEN's answer: retried, messages kept */

	struct report_flows flows;

	/* Lag: how late a packet went out against its deadline (0 when on time). */
	tr_ns		lag_current, lag_max, lag_sum;
	uint64_t	lag_count;

	tr_ns		started;	/* CLOCK_MONOTONIC at report_init */
	tr_ns		first_sent_wall; /* CLOCK_REALTIME when the first packet was due; 0 before */
	tr_ns		next_table;	/* when the periodic table prints next */
	tr_ns		next_bar;	/* when the progress bar redraws next */
	bool		show_table;	/* -v or -d */
	bool		show_bar;	/* stderr is a terminal */
	bool		bar_drawn;	/* a bar is on screen and must be cleared before other output */
	const struct config *cfg;
};

void	report_init(struct report *, const struct config *cfg, bool verbose);
void	report_free(struct report *);
void	report_lag(struct report *, tr_ns lag);
void	report_add_source(struct report *, const struct source_stats *);

/* The current capture, for the progress bar. */
struct report_progress {
	const char	*path;
	size_t		 index, total;	/* 1-based position in the play list */
	uint64_t	 offset, size;	/* bytes read of the capture file */
	tr_ns		 file_started;	/* CLOCK_MONOTONIC when it started */
};

/* Called from the replay loop and during long waits; prints only when due. */
void	report_tick(struct report *, tr_ns now, const struct report_progress *);
/* Remove the progress bar before other output, so lines do not mix (a log_set_before_output hook). */
void	report_clear_bar(void *report);

void	report_print_final(struct report *, FILE *out, tr_ns now);
/* Write the same figures as JSON; 0 or -1 with errno. */
int	report_write_json(const struct report *, const char *path, tr_ns now);

#endif
