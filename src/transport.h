/* Sockets to the collector, bound to repro_ip: UDP with batched sends, non-blocking TCP on one epoll loop. */
#ifndef TR_TRANSPORT_H
#define TR_TRANSPORT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "monotime.h"

struct transport;

/* What the owner of TCP connections hears about them, from transport_poll(). */
struct transport_tcp_events {
	void	(*connected)(void *ctx, int id);
	/* Bytes the collector sent; they are always read, so its window never fills. */
	void	(*received)(void *ctx, int id, const uint8_t *data, size_t len);
	/* The socket took more bytes: `total` is how many it took since the connection opened. */
	void	(*written)(void *ctx, int id, uint64_t total);
	/* The connection is gone: err 0 when the collector closed it, else an errno. */
	void	(*closed)(void *ctx, int id, int err);
	/*
	 * Its queue, which had reached TRANSPORT_TCP_HIGH_WATER, is down to
	 * TRANSPORT_TCP_LOW_WATER (NULL: not told; the sessions need not be:
	 * what they hold is already in the queue, counted by `written`).
	 */
	void	(*drained)(void *ctx, int id);
};

/* Sending from addresses that are not this host's (network.spoof). */
enum transport_spoof {
	TRANSPORT_SPOOF_NONE,		/* repro_ips must be local addresses */
	TRANSPORT_SPOOF_FREEBIND,	/* IP_FREEBIND / IPV6_FREEBIND before every bind */
	TRANSPORT_SPOOF_RAW,		/* UDP built whole on raw sockets; TCP as freebind */
};

struct transport_opts {
	const char	*interface;	/* SO_BINDTODEVICE (a VRF or a device); NULL for none */
	enum transport_spoof spoof;
	int		 so_sndbuf;	/* 0 = system default */
	int		 so_rcvbuf;	/* 0 = system default */
	volatile sig_atomic_t *stop;	/* a set flag ends waits for buffer space */
	struct transport_tcp_events tcp; /* callbacks; ctx is the one given to transport_tcp_open */
};

/* What happened to datagrams: of one socket, or of every socket with one tag. */
struct transport_udp_stats {
	uint64_t	sent;		/* datagrams the kernel accepted */
	uint64_t	bytes;
	uint64_t	refused;	/* ICMP port unreachable that came back for them */
	uint64_t	dropped;	/* datagrams that could not be sent (EMSGSIZE, other errors) */
};

/* Tags group UDP sockets for totals (the replay tags them by section). */
#define TRANSPORT_UDP_TAGS	8

struct transport *transport_new(const struct transport_opts *opts);
void		 transport_free(struct transport *);

/*
 * Open a UDP socket bound to repro_ip (local_port, or an ephemeral port
 * when 0; errno EADDRINUSE when it is taken) and connected to the
 * collector host:port, resolved for repro_ip's address family; its figures
 * add up in the totals of `tag` (< TRANSPORT_UDP_TAGS).  Returns the
 * socket's id (>= 0) or -1 with a message in err that says what to fix
 * (an address that is not local, a name that does not resolve, a missing
 * interface or privilege).  errno is EAFNOSUPPORT when the collector's
 * name has addresses, but none of repro_ip's family.
 */
int		 transport_udp_open(struct transport *,
		    const struct tr_addr *repro_ip, uint16_t local_port,
		    const char *host, uint16_t port, unsigned tag, char *err,
		    size_t errlen);

/*
 * Whether a TCP connection (tcp), or a UDP socket on a chosen port (not
 * tcp), from repro_ip to the collector could be set up (the address is
 * local, the device exists, the name resolves for that family): 0, or -1
 * with errno and a message as transport_udp_open's.  With spoof, a UDP
 * repro_ip need not be local, but a TCP one must still be routed to this
 * host (Linux AnyIP: 'ip route add local PREFIX dev lo'), or the
 * collector's replies could not come back; the message names the command.
 * Connections are opened when sessions start; this finds errors first.
 */
int		 transport_check_bind(struct transport *,
		    const struct tr_addr *repro_ip, const char *host,
		    uint16_t port, bool tcp, char *err, size_t errlen);

/*
 * Queue one datagram on socket id; datagrams are sent in sendmmsg batches.
 * The batch goes out when it is full, when a datagram for another socket
 * is queued, or at transport_flush().  The bytes are copied.  Nothing
 * waits for a full socket: its batch stays queued until EPOLLOUT (served
 * by transport_poll), and until then a datagram that needs the batch's
 * place is refused with -1 and errno EAGAIN: the caller serves the loop
 * (transport_poll) and queues it again.
 */
int		 transport_udp_queue(struct transport *, int id,
		    const uint8_t *data, size_t len);
/* Send what is queued, as far as the socket takes it now; returns 0. */
int		 transport_flush(struct transport *);
/* Whether a batch waits for its socket to have room. */
bool		 transport_udp_waiting(const struct transport *);

const struct transport_udp_stats *transport_udp_stats(const struct transport *,
		    int id);
const struct transport_udp_stats *transport_udp_totals(
		    const struct transport *, unsigned tag);
/*
 * The end of the UDP traffic: serve the loop until a batch that waits for
 * room went (or the stop flag), wait until the ICMP errors of the last
 * datagrams can have come back (a short grace after the last send), count
 * them, and say in one line how many sockets were refused beyond those
 * already named.
 */
void		 transport_udp_finish(struct transport *);

/*
 * TCP: one connection per captured session, from repro_ip to the
 * collector, non-blocking.  Bytes are queued and written as the socket
 * takes them.  Queues are not capped here, so nothing queued is ever
 * refused: a connection's queue is the one place its session's bytes
 * wait, before the connect, behind a hold (BGP's OPEN gate), for a slow
 * collector, and kept from a closed connection for its successor
 * (transport_tcp_keep).  The caller bounds them (backpressure), per
 * connection: past the high water mark (transport_tcp_above_high()) the
 * session counts what it queues as held (lag, stall limit), up to a bound
 * of its own, past which only its feed waits; other connections go on.
 */
#define TRANSPORT_TCP_CONN_QUEUE_MAX	(4u * 1024 * 1024)
#define TRANSPORT_TCP_HIGH_WATER	TRANSPORT_TCP_CONN_QUEUE_MAX
#define TRANSPORT_TCP_LOW_WATER		(TRANSPORT_TCP_HIGH_WATER / 2)
/*
 * Work per socket per loop pass is capped, so one busy peer cannot delay
 * the timeline or the other connections: a connection writes at most this
 * much, and reads at most this much, before the loop moves on.  Epoll is
 * level-triggered, so what is left is picked up at the next pass.
 */
#define TRANSPORT_TCP_PASS_WRITE_MAX	(512u * 1024)
#define TRANSPORT_TCP_PASS_READ_MAX	(256u * 1024)

struct transport_tcp_stats {
	uint64_t	bytes_sent;	/* written to the socket */
	uint64_t	bytes_received;
	uint64_t	bytes_lost;	/* still queued (or held) when the connection went away */
	bool		established;	/* the connect completed */
};

/*
 * Start connecting; returns the connection id, or -1 with a message in err.
 * after: -1, or a connection this one waits for: bytes queue up, and the
 * connect starts once that one is gone (a router's next session to a
 * collector starts after its last one closed, or the collector would see
 * two sessions of one peer).
 */
int		 transport_tcp_open(struct transport *,
		    const struct tr_addr *repro_ip, const char *host,
		    uint16_t port, int after, void *ctx, char *err,
		    size_t errlen);
/*
 * Queue bytes; 0, or -1 with errno ENOTCONN (the connection is closed or
 * closing) or ENOMEM.  They are written with what is queued after them:
 * at transport_tcp_flush(), before transport_poll() sleeps, before a UDP
 * datagram is queued, or once enough is queued.
 */
int		 transport_tcp_send(struct transport *, int id,
		    const uint8_t *data, size_t len);
/* Write what transport_tcp_send() queued, as far as the sockets take it. */
void		 transport_tcp_flush(struct transport *);
/*
 * Hold back every byte queued from now on until transport_tcp_release():
 * BGP must not send past its OPEN before the collector's OPEN arrived.
 */
void		 transport_tcp_hold(struct transport *, int id);
void		 transport_tcp_release(struct transport *, int id);
/*
 * In the `closed` callback only: the bytes the connection never wrote
 * (held back ones included), e.g. to send them on another connection.
 */
size_t		 transport_tcp_unsent(const struct transport *, int id,
		    const uint8_t **bytes);
/*
 * In the `closed` callback only: keep the connection's queue, less its
 * first `skip` bytes, for a new connection (BGP's retry of a refused
 * OPEN).  Bytes sent to it meanwhile are queued behind, and nothing is
 * written until transport_tcp_adopt() moves them all to the new
 * connection's queue (behind what that has), or transport_tcp_discard()
 * drops them.  One queue per session, wherever its bytes wait.
 */
void		 transport_tcp_keep(struct transport *, int id, size_t skip);
void		 transport_tcp_adopt(struct transport *, int id, int from);
void		 transport_tcp_discard(struct transport *, int id);
/* Waiting for another connection to be gone before its connect. */
bool		 transport_tcp_waiting(const struct transport *, int id);
/* Bytes queued on one TCP connection (held back ones included). */
size_t		 transport_tcp_queued(const struct transport *, int id);
/* The queue reached the high water mark and is not down to the low one yet: hold this session's feed. */
bool		 transport_tcp_above_high(const struct transport *, int id);
/* Connecting or open, and not asked to close: bytes queued now will be sent. */
bool		 transport_tcp_can_send(const struct transport *, int id);
/*
 * Since when the connection has made no progress while it has something
 * to do (bytes queued, held back included, or a connect under way): the
 * last connect, write or close step; 0 when it has nothing to do, or waits
 * for another connection.
 */
tr_ns		 transport_tcp_stalled_since(const struct transport *, int id);
/* Waiting for the collector's FIN after ours, since when (0: not in that state). */
tr_ns		 transport_tcp_closing_since(const struct transport *, int id);
/*
 * Close once the queue is written (FIN), or at once when `now`: with an
 * RST, unless our FIN is out already and only the collector's is awaited.
 */
void		 transport_tcp_close(struct transport *, int id, bool now);
const struct transport_tcp_stats *transport_tcp_stats(const struct transport *,
		    int id);
/* Bytes still queued on open connections, plus one per connection still connecting. */
size_t		 transport_tcp_unwritten(const struct transport *);
/* Connections not yet fully closed (queue not written, or FIN not answered). */
size_t		 transport_tcp_active(const struct transport *);

/*
 * Wait for socket events until CLOCK_MONOTONIC reaches `until` (or the
 * first event), and handle them: connects, writes, reads, closes.
 * Returns the number of events handled, or -1 on an epoll failure.
 */
int		 transport_poll(struct transport *, tr_ns until);
/* Text for logs: "192.0.2.1 -> 198.51.100.1:4739" (IPv6: "[2001:db8::1]:4739"). */
const char	*transport_describe(const struct transport *, int id);
/* The same for a TCP connection: "192.0.2.1 -> [2001:db8::1]:179 (tcp)". */
const char	*transport_tcp_describe(const struct transport *, int id);

#endif
