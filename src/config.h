/* The YAML config (the older Python tool's schema), validated, with every default filled in. */
#ifndef TR_CONFIG_H
#define TR_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "addr.h"
#include "proto.h"

extern const char *const templates_names[3];	/* "prime", "as-captured", "drop-orphans" */
extern const char *const sequence_names[2];
extern const char *const timestamps_names[2];
extern const char *const agent_address_names[2];	/* "as-captured", "repro_ip" */

/*
 * time_factor's accepted range: beyond a million (a microsecond of capture
 * becomes a second) there is no use, and sched clamps deadlines anyway.
 */
#define CFG_TIME_FACTOR_MAX		1e6
#define CFG_TCP_STALL_LIMIT_DEFAULT	30.0	/* seconds */
/* A day: "never" in practice, and far from overflowing a tr_ns. */
#define CFG_TCP_STALL_LIMIT_MAX		86400.0

/* The pre-processing mode writes this where only the user knows the value; loading refuses it. */
#define CFG_MISSING_PARAM	"<MISSING_PARAM>"

/* --loop's exporters from the second play on (loop_exporters). */
enum loop_exporters {
	LOOP_EXPORTERS_SAME,	/* the same repro_ip every play */
	LOOP_EXPORTERS_SHIFT,	/* play k: each repro_ip plus k x loop_block: new exporters */
};
extern const char *const loop_exporters_names[2];	/* "same", "shift" */

enum repeat_pattern {
	REPEAT_ROUND_ROBIN,
	REPEAT_BULK,
};

extern const char *const repeat_pattern_names[2];	/* "round-robin", "bulk" */

/* Where a key stood in the file, to point the user at it. */
struct cfg_pos {
	int	line;	/* 1-based; 0 when the value is a default */
	int	col;	/* 1-based */
};

struct cfg_u32_list {
	bool		 set;	/* the key was present */
	uint32_t	*v;
	size_t		 n;
};

struct cfg_addr_list {
	bool		 set;
	struct tr_addr	*v;
	size_t		 n;
};

/* A section's `select`: every key present must match (AND); a list matches any of its values (OR). */
struct cfg_select {
	bool			set;		/* `select` present */
	struct cfg_addr_list	ip_src, ip_dst;
	bool			udp, tcp;	/* `udp:` / `tcp:` present: the packet must be that transport */
	struct cfg_u32_list	udp_sport, udp_dport;
	struct cfg_u32_list	tcp_sport, tcp_dport;
	/* The section's protocol's header filter (ipfix_h: version, domain; bmp_h, bgp_h: type), by its keys' order. */
	struct cfg_u32_list	header[PROTO_FILTER_KEYS];
	struct cfg_addr_list	header_addr[PROTO_FILTER_KEYS];	/* its keys whose values are addresses */
};

/* Whether the header filter (NAME_h) has a key given. */
static inline bool
cfg_select_has_header(const struct cfg_select *s)
{
	for (size_t k = 0; k < PROTO_FILTER_KEYS; k++)
		if (s->header[k].set || s->header_addr[k].set)
			return true;
	return false;
}

/* bgp.open: rewrites of the replayed OPEN (the captured one is sent as it is otherwise). */
struct cfg_bgp_open {
	bool		has_bgp_id;
	struct tr_addr	bgp_id;		/* an IPv4 address: the BGP identifier */
	bool		has_hold_time;
	uint16_t	hold_time;	/* seconds: 0 or at least 3 (RFC 4271) */
	bool		trim_capabilities; /* drop what the captured collector did not offer */
};

/* ipfix: how flow exports are made acceptable to a collector (see flowfix.h). */
enum cfg_templates {
	TEMPLATES_PRIME,	/* send a template before data the collector has no template for */
	TEMPLATES_AS_CAPTURED,
	TEMPLATES_DROP_ORPHANS,	/* remove data sets sent before their template */
};

enum cfg_sequence {
	SEQUENCE_AS_CAPTURED,
	SEQUENCE_CONTINUE,	/* no gaps or restarts across repeats, files and removed data */
};

enum cfg_agent_address {
	AGENT_ADDRESS_AS_CAPTURED,
	AGENT_ADDRESS_REPRO_IP,	/* the agent address inside the datagram becomes the repro_ip */
};

enum cfg_timestamps {
	TIMESTAMPS_AS_CAPTURED,
	TIMESTAMPS_SHIFT,	/* the first export time becomes now; every absolute time moves with it */
};

struct cfg_flow_fidelity {
	enum cfg_templates	templates;	/* default prime */
	enum cfg_sequence	sequence;	/* default continue when repeated or a list, else as-captured */
	bool			sequence_set;	/* given in the file; else the default above */
	enum cfg_timestamps	timestamps;	/* default as-captured */
	bool			preserve_src_port; /* bind the captured source port when it is free */
	enum cfg_agent_address	agent_address;	/* a flow agent address inside the datagram */
};

struct cfg_section {
	bool			enabled;	/* the section is in the file */
	struct cfg_pos		pos;
	struct cfg_select	select;
	bool			has_collector;
	char		       *collector_host;	/* literal address or hostname */
	uint16_t		collector_port;
	struct cfg_pos		collector_pos;
	struct cfg_bgp_open	open;		/* bgp only */
	struct cfg_flow_fidelity flow;		/* ipfix only */
};

struct cfg_map_entry {
	struct tr_addr	src_ip;
	struct tr_addr	repro_ip;
	struct cfg_pos	pos;		/* the entry (for a src_ip given twice: the last) */
	struct cfg_pos	src_pos;	/* its src_ip, for the duplicate warning */
};

struct cfg_pcap_processing {
	bool	set;
	double	initial_delay;		/* seconds, default 5 */
	double	inter_packet_delay;	/* seconds, default 0.001 */
	double	inter_protocol_delay;	/* seconds, default 1 */
	char   *output_folder;		/* NULL: the first pcap's path without extension */
	uint32_t desired_tcp_payload_size; /* default 1424; also read from tcp_payload_size */
	bool	exit;			/* default true */
};

/*
 * network.spoof: sending from repro_ips that no interface owns.  freebind:
 * sockets bound with IP_FREEBIND / IPV6_FREEBIND (TCP still needs the
 * address routed here, Linux AnyIP); raw: UDP datagrams built whole on a
 * raw socket (any source address and port; TCP as with freebind).
 */
enum cfg_spoof {
	CFG_SPOOF_NONE,
	CFG_SPOOF_FREEBIND,
	CFG_SPOOF_RAW,
};
extern const char *const cfg_spoof_names[3];

struct config {
	char		       *path;		/* the file it was loaded from */
	char		      **pcaps;		/* as written (relative to the working directory) */
	size_t			n_pcaps;
	struct cfg_pos		pcap_pos;

	bool			has_repeat;
	uint32_t	       *repeat_count;	/* n_pcaps entries when has_repeat */
	enum repeat_pattern	repeat_pattern;

	double			time_factor;	/* default 1; 0 = as fast as possible */
	enum loop_exporters	loop_exporters;	/* default same */
	uint32_t		loop_block;	/* addresses a shift moves by; 0 (default): n_map */
	bool			keep_open;	/* default false */
	bool			no_sync;	/* default false */
	bool			reconnect;	/* reconnect TCP sessions the collector closed */
	bool			reconnect_set;	/* given; else it follows keep_open */
	/*
	 * Seconds a TCP session may have bytes queued while its connection
	 * takes none; past it the session ends, named, its queued messages
	 * count as not sent and the exit code is 1.  Default 30.
	 */
	double			tcp_stall_limit;
	/* strict: true or --strict: unknown keys and a src_ip mapped twice are errors */
	bool			strict;

	bool			threading;	/* optimize.threading: accepted, one thread does it all */
	bool			preload;	/* optimize.preload: accepted, reading streams anyway */
	int			so_sndbuf;	/* 0 = system default */
	int			so_rcvbuf;	/* 0 = system default */

	struct cfg_map_entry   *map;
	size_t			n_map;
	struct cfg_pos		map_pos;
	char		       *interface;	/* NULL: none; else VRF or device for SO_BINDTODEVICE */
	enum cfg_spoof		spoof;		/* network.spoof: how repro_ips that are not local are sent from */

	struct cfg_section	section[SECTION_COUNT];
	struct cfg_pcap_processing pcap_processing;
};

/* What the command line adds to a load. */
struct config_load_opts {
	bool	strict;		/* --strict: as strict: true in the file */
	/* Called with each warning ("FILE:LINE:COL: KEY: message"); NULL: log_warnx. */
	void	(*warn)(void *arg, const char *msg);
	void	*warn_arg;
};

/*
 * Load and validate a config file.  Every key of the schema is type-checked;
 * wrong types, bad addresses or ports, "<MISSING_PARAM>" placeholders and a
 * repro_ip that can reach none of its collectors (all literal addresses of
 * the other family) are errors.  What
 * the older tool let pass, unknown keys and a src_ip mapped twice (the last
 * wins), is a warning, or an error when strict (opts or `strict: true`
 * anywhere at the top of the file); keys starting with "x-" are the user's
 * own (YAML anchors, notes) and pass silently.  opts may be NULL.  On error
 * returns -1 and writes one message of the form "FILE:LINE:COL: KEY: what is
 * wrong and what to write instead" into err.  Requirements that depend on the
 * mode (a collector per section and a network.map for replay) are checked by
 * config_check_replay().
 */
int	config_load(const char *path, const struct config_load_opts *opts,
	    struct config *cfg, char *err, size_t errlen);

/* For replay: at least one protocol section, each with a collector, and a non-empty network.map. */
int	config_check_replay(const struct config *cfg, char *err,
	    size_t errlen);

/* The normalized config as YAML, every default filled in (the -n output). */
void	config_print(FILE *out, const struct config *cfg);
/*
 * A section's flow fidelity keys that its protocol takes (keys:
 * PROTO_KEY_*), as YAML at section depth: -n with every value
 * (sequence_always), -p with sequence only when the input set it (its
 * default depends on the new config's repeat).
 */
void	config_print_flow_keys(FILE *out, unsigned keys,
	    const struct cfg_flow_fidelity *, bool sequence_always);

void	config_free(struct config *cfg);

/*
 * Every key a config may hold, as dotted paths, one per line (a section's
 * keys under each section that takes them; list entries as network.map[].KEY),
 * from the tables config_load() walks: the yml(5) page is tested against it.
 */
void	config_list_keys(FILE *out);

/*
 * The list plays more than once (--loop): sequence numbers continue where
 * the file does not say otherwise, as with repeat.
 */
void	config_played_again(struct config *cfg);

/* Whether TCP sessions reconnect: as configured, else on when kept open (config or --keep-open). */
bool	config_reconnect(const struct config *cfg, bool cli_keep_open);

#endif
