/* What info mode counts: the summary's data, filled by info.c and rendered as JSON by info_json.c. */
#ifndef TR_INFO_MODEL_H
#define TR_INFO_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "bgp.h"
#include "bmp.h"
#include "config.h"
#include "framer.h"
#include "netflow.h"
#include "monotime.h"
#include "nf_templates.h"
#include "sniff.h"
#include "stream.h"

struct selector;
struct stream;

#define CONN_BUCKETS		4096
#define EXPORTER_BUCKETS	1024
/* Caps on what the wire decides the number of: beyond them, things are counted, not itemised. */
#define MAX_REASONS		32
#define MAX_FAMILIES		64
#define MAX_NOTIFICATIONS	32

/*
 * Caps on the state whose size hostile input decides, so that memory stays
 * bounded (peak RSS well under 256 MB) whatever a capture holds.  Real
 * captures stay far below them: the corpus's largest has 14 exporters, 2
 * domains per exporter, 15 templates per domain, 22 TCP sessions, 42 BMP
 * peers.  Past a cap, what is not itemised is counted in `not_tracked` and
 * the cap is named once on stderr.
 */
#define MAX_EXPORTERS		65536	/* every router of a large network in one capture */
#define MAX_DOMAINS		256	/* (version, domain) pairs per exporter: line cards, VRFs (as the sink) */
#define MAX_TEMPLATES_TOTAL	65536	/* template ids over every exporter and domain */
#define MAX_FIELDS_TOTAL	(1u << 20)	/* fields of the definitions held: 8 MiB of nf_field */
#define MAX_CONNS		16384	/* TCP sessions itemised (ended ones too): ~7 KiB each */
#define MAX_PEERS_TOTAL		16384	/* BMP monitored peers over every session (route servers: a few thousand) */
#define MAX_HELD_TOTAL		(64u << 20)	/* out-of-order bytes held by every TCP stream together */
/* The JSON document: past this many values (~100 bytes each in memory), lists are cut. */
#define MAX_JSON_VALUES		1000000

enum info_cap {
	CAP_EXPORTERS,
	CAP_DOMAINS,
	CAP_TEMPLATES,
	CAP_FIELDS,
	CAP_CONNS,
	CAP_PEERS,
	CAP_COUNT
};

/* ---- what is counted ---------------------------------------------------- */

/* Malformed input, by reason: a reason is a static string, so equal reasons are one pointer. */
struct reason {
	const char	*why;
	uint64_t	 count;
	uint64_t	 first_frame;
	size_t		 first_file;
};

/* Arrays grow as items come (most directions and peers have none or a few): */
struct reasons {
	struct reason	*r;
	size_t		 n, cap;
	uint64_t	 other;		/* past MAX_REASONS distinct reasons (or memory) */
};

/* A template id's counts; the definition in force, to walk data records, is in info's template store. */
struct tmpl {
	uint16_t	 id;
	bool		 options, sampling;
	uint16_t	 field_count, scope_count;
	uint64_t	 definitions, withdrawals;
	uint64_t	 data_sets, data_records;
};

/* One NetFlow/IPFIX version and observation domain (v9 source id, v5 engine type << 8 | id) of an exporter. */
struct flow_domain {
	uint16_t	 version;
	uint32_t	 domain;
	uint64_t	 messages, records;	/* records: v5 flows */
	uint64_t	 template_sets, options_template_sets, data_sets;
	uint64_t	 data_sets_without_template, other_sets, withdraw_all;
	uint64_t	 templates_not_tracked;	/* sets and definitions past MAX_TEMPLATES ids */
	struct tmpl	*t;
	size_t		 nt, capt;
};

struct family {
	uint16_t	 afi;
	uint8_t		 safi;
	uint64_t	 updates, announced, withdrawn, end_of_rib;
	uint64_t	 add_path_guessed;	/* UPDATEs read with path identifiers no OPEN announced */
};

struct families {
	struct family	*f;
	size_t		 n, cap;	/* n <= MAX_FAMILIES */
};

struct notification {
	uint8_t		 code, subcode;
	uint64_t	 count;
};

/* One direction of a BGP session. */
struct bgp_dir {
	uint64_t	 msgs[BGP_TYPE_MAX + 1];	/* [0]: unknown types */
	uint8_t		*open;		/* the first OPEN, whole */
	size_t		 open_len;
	uint64_t	 updates_before_open;	/* read without the OPENs' ADD-PATH (guessed) */
	struct families	 fam;
	struct notification notif[MAX_NOTIFICATIONS];
	size_t		 n_notif;
};

#define BMP_IDX_RPAT	BMP_TYPE_COUNT
#define BMP_IDX_OTHER	(BMP_TYPE_COUNT + 1)
#define BMP_IDX_COUNT	(BMP_TYPE_COUNT + 2)

struct bmp_peer {
	struct bmp_peer_hdr hdr;	/* the latest per-peer header */
	uint64_t	 msgs[BMP_IDX_COUNT];
	struct families	 fam;
	bool		 ap_known;	/* a Peer Up told what ADD-PATH the session negotiated */
	struct bgp_addpath ap;
	uint8_t		*recv_open;	/* the Peer Up's received OPEN: the peer's own */
	size_t		 recv_len;
	uint64_t	 rm_trailing;	/* route monitoring with bytes after its BGP message */
	uint64_t	 updates_before_peer_up;	/* read without the OPENs' ADD-PATH (guessed) */
	struct reasons	 bad;
};

struct bmp_dir {
	uint8_t		 version;
	uint64_t	 msgs[BMP_IDX_COUNT];
	uint8_t		*sys_name, *sys_descr;
	size_t		 sys_name_len, sys_descr_len;
	struct bmp_peer	*peers;
	size_t		 np, capp;
	uint64_t	 peers_not_tracked;
};

/* What a direction carries: the section id of a framed protocol (BMP, BGP), or one of these. */
enum {
	KIND_NONE = SECTION_COUNT,	/* nothing carried yet */
	KIND_GENERIC,
	KIND_IGNORED,	/* the collector's side of a BMP or generic session (-t) */
};

struct conn;

struct dir {
	struct conn	*conn;
	int		 side;
	int		 kind;		/* a section or KIND_* */
	struct stream	*stream;	/* NULL once the connection ended */
	struct framer	 fr;
	uint64_t	 segments, bytes, gap_bytes, skipped_bytes;
	uint64_t	 retransmitted, unfinished_bytes;
	struct sniff	 sniff;		/* the first bytes, until the kind is known */
	struct bgp_dir	 bgp;
	struct bmp_dir	 bmp;
	struct reasons	 bad;
};

/* A TCP connection; side 0 is the exporter's. */
struct conn {
	struct info	*inf;
	struct tr_addr	 addr[2];
	uint16_t	 port[2];
	int		 section;	/* -t: the section that selected it; else -1 */
	uint64_t	 capture_gen;	/* the capture file its streams hold */
	uint64_t	 order;		/* creation order: a tie-break for output */
	bool		 ended;
	struct dir	 d[2];
	struct conn	*next;		/* hash chain */
};

struct exporter {
	struct tr_addr	 addr;
	int		 map_index;	/* -t: network.map entry; else -1 */
	uint64_t	 packets, bytes;	/* UDP datagrams and their payload bytes */
	uint64_t	 udp_generic_packets, udp_generic_bytes;
	void		*proto[SECTION_COUNT];	/* the count hook's state of each protocol that has one, once it sent */
	struct flow_domain *dom;
	size_t		 nd, capd;
	struct reasons	 bad;
	struct exporter	*next;
};

struct capture {
	char		*path;
	uint64_t	 frames, packets;
	char		*error;
};

struct dropped {
	uint64_t	 truncated, not_ip, other_l4, malformed_frames;
	uint64_t	 fragments_dropped, reassembled_other;
	uint64_t	 not_selected, unknown_exporter, filtered;
	uint64_t	 collector_segments;
};

struct info {
	const struct config	*cfg;
	struct selector		*sel;
	struct capture		*files;
	size_t			 nfiles;
	uint64_t		 capture_gen;
	uint64_t		 frame;		/* of the packet being handled */
	uint64_t		 packets, udp_packets, tcp_segments, payload_bytes;
	tr_ns			 first_ts, last_ts;
	struct dropped		 drop;
	struct exporter		*exp_buckets[EXPORTER_BUCKETS];
	size_t			 n_exporters;
	struct conn		*conn_buckets[CONN_BUCKETS];
	struct conn	       **conns;
	size_t			 n_conns, cap_conns;
	size_t			 n_templates, n_peers;	/* against the caps above */
	struct nf_templates	 templates;	/* definitions in force: MAX_TEMPLATES_TOTAL, MAX_FIELDS_TOTAL */
	struct stream_pool	 held;		/* MAX_HELD_TOTAL */
	uint64_t		 not_tracked;	/* packets, messages, definitions past a cap */
	unsigned		 caps_hit;	/* 1 << enum info_cap */
	bool			 oom;
};

/* The limit and name of each cap, for messages and the JSON. */
extern const unsigned info_cap_limit[CAP_COUNT];
extern const char *const info_cap_names[CAP_COUNT];

/* The entry for exporter address a, added on first use; NULL past MAX_EXPORTERS or when out of memory (inf->oom set). */
struct exporter	*info_exporter_get(struct info *inf, const struct tr_addr *a);

/*
 * The ADD-PATH families of a BGP direction's UPDATEs, from both OPENs (the
 * other side's missing means this side's offer stands); false, with none,
 * when this side's OPEN was not captured.
 */
bool		 info_dir_addpath(const struct dir *d, struct bgp_addpath *ap);

#endif
