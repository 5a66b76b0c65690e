/* Sockets to the collector: one per (exporter, protocol section), bound to repro_ip, batched sends. */
#ifndef TR_TRANSPORT_H
#define TR_TRANSPORT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

struct transport;

struct transport_opts {
	const char	*interface;	/* SO_BINDTODEVICE (a VRF or a device); NULL for none */
	int		 so_sndbuf;	/* 0 = system default */
	int		 so_rcvbuf;	/* 0 = system default */
	volatile sig_atomic_t *stop;	/* a set flag ends waits for buffer space */
};

/* What happened to one socket's datagrams. */
struct transport_udp_stats {
	uint64_t	sent;		/* datagrams the kernel accepted */
	uint64_t	bytes;
	uint64_t	refused;	/* ICMP port unreachable reported by the kernel (ECONNREFUSED) */
	uint64_t	dropped;	/* datagrams that could not be sent (EMSGSIZE, other errors) */
};

struct transport *transport_new(const struct transport_opts *opts);
void		 transport_free(struct transport *);

/*
 * Open a UDP socket bound to repro_ip (ephemeral port) and connected to the
 * collector host:port, resolved for repro_ip's address family.  Returns the
 * socket's id (>= 0) or -1 with a message in err that says what to fix
 * (an address that is not local, a name that does not resolve, a missing
 * interface or privilege).  errno is EAFNOSUPPORT when the collector's
 * name has addresses, but none of repro_ip's family.
 */
int		 transport_udp_open(struct transport *,
		    const struct tr_addr *repro_ip, const char *host,
		    uint16_t port, char *err, size_t errlen);

/*
 * Queue one datagram on socket id; datagrams are sent in sendmmsg batches.
 * The batch goes out when it is full, when a datagram for another socket
 * is queued, or at transport_flush().  The bytes are copied.
 */
int		 transport_udp_queue(struct transport *, int id,
		    const uint8_t *data, size_t len);
/* Send everything queued; returns 0, or -1 if interrupted by the stop flag. */
int		 transport_flush(struct transport *);

const struct transport_udp_stats *transport_udp_stats(const struct transport *,
		    int id);
/* Text for logs: "192.0.2.1 -> 198.51.100.1:4739". */
const char	*transport_describe(const struct transport *, int id);

#endif
