/* Sockets bound to repro_ip: UDP connected to the collector with sendmmsg batching, TCP non-blocking on epoll. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <linux/errqueue.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bytebuf.h"
#include "slab.h"
#include "fault.h"
#include "grow.h"
#include "log.h"
#include "rawsend.h"
#include "route_local.h"
#include "transport.h"

/* Datagrams per sendmmsg: large enough to amortize the syscall, small enough to keep the timeline fine-grained. */
#define BATCH_MAX	64
#define DGRAM_MAX	65535
/* A batch slot: room for a raw socket's IP and UDP headers, then the payload. */
#define SLOT_SIZE	(RAWSEND_HDR_MAX + DGRAM_MAX)

/* Older C libraries lack it (the kernel has it since 4.15). */
#ifndef IPV6_FREEBIND
#define IPV6_FREEBIND	78
#endif

/* network.spoof: raw without preserve_src_port: sockets take source ports from here up, in turn. */
#define RAW_PORT_FIRST	49152

/*
 * TCP bytes queued while packets are due back to back are written together
 * (one send for many messages) before the next wait, or sooner once a
 * connection has this many unwritten, or all of them together
 * TCP_DIRTY_FLUSH.  Then only connections with TCP_WRITE_MIN or more go:
 * with thousands of sessions whose messages come in turn, each has a
 * message or two, and a send each would cost a syscall per message.  The
 * rest waits for the next wait, or for the total to double.
 */
#define TCP_WRITE_BATCH	(64u * 1024)
#define TCP_DIRTY_FLUSH	(16 * TCP_WRITE_BATCH)
#define TCP_WRITE_MIN	(3u * 1024)
#define TCP_MANY_DIRTY	256

/*
 * A queue written empty keeps its buffer this long: a busy connection
 * empties its queue on every pass, and freeing the buffer each time made
 * the next burst grow it again (realloc and fresh pages: a fifth to a
 * third of a bulk replay over 11 to 100 sessions).  An idle one gives it
 * back, so that thousands of idle sessions hold no queue buffer.
 */
#define TCP_IDLE_TRIM_NS	(100 * TR_NS_PER_MS)

/*
 * Epoll carries UDP sockets too, for their error queues (ICMP errors):
 * their ids have this bit set, TCP connection ids do not.
 */
#define EV_UDP		0x80000000u

/* ICMP errors come back within this of the last datagram on any sane path: the end waits that long for them. */
#define ICMP_GRACE	(200 * TR_NS_PER_MS)

/* Sockets named when the collector refuses them; the rest are counted in one line. */
#define REFUSED_NAMED	3
/* Datagrams named when they cannot be sent; the rest are counted in one line. */
#define DROPPED_NAMED	5

struct udp_socket {
	int			 fd;
	unsigned		 tag;
	bool			 want_out;	/* EPOLLOUT registered: its batch waits for room */
	bool			 raw;		/* network.spoof: raw: datagrams carry the headers of flow */
	struct rawsend_flow	 flow;
	char			 desc[2 * TR_ENDPOINT_STRLEN + 32];
	struct transport_udp_stats stats;
};

enum tcp_state {
	TCP_WAITING,		/* queued bytes wait for another connection to be gone before the connect */
	TCP_CONNECTING,
	TCP_OPEN,
	TCP_CLOSING,		/* FIN sent after the queue drained; reading until the collector's FIN */
	TCP_CLOSED,
};

struct tcp_conn {
	int			 fd;
	enum tcp_state		 state;
	bool			 close_when_drained;
	bool			 want_out;	/* EPOLLOUT registered: only while bytes wait */
	bool			 full;		/* the socket refused bytes: write again at EPOLLOUT only */
	bool			 above_high;	/* the queue reached the high water mark, not yet down to the low */
	bool			 dirty;		/* queued bytes not yet tried on the socket */
	bool			 kept;		/* closed, its queue kept for a new connection (transport_tcp_keep) */
	bool			 on_idle_list;	/* its id waits on the idle list (t->idle) */
	void			*ctx;
	char			 desc[2 * TR_ENDPOINT_STRLEN + 32];
	struct bytebuf		 q;		/* queued bytes */
	size_t			 gate;		/* only the first gate bytes of q may go; SIZE_MAX: all */
	int			 successor;	/* the connection waiting for this one to be gone; -1: none */
	struct sockaddr_storage	 remote;	/* for a connect that waits */
	socklen_t		 remote_len;
	tr_ns			 progress;	/* the last connect, write or close step */
	tr_ns			 closing_since;	/* our FIN went out */
	tr_ns			 emptied_at;	/* its queue was last written empty */
	struct transport_tcp_stats stats;
};

struct transport {
	struct transport_opts	 opts;
	struct udp_socket	*socks;
	size_t			 n_socks, cap_socks;
	int			 epfd;
	struct tcp_conn		*conns;
	size_t			 n_conns, cap_conns;
	size_t			 queued_total;	/* bytes queued on every connection */
	size_t			 n_live;	/* connections not closed */
	size_t			 n_starting;	/* waiting or connecting */
	int			*dirty;		/* connections with bytes not yet tried */
	size_t			 n_dirty, cap_dirty;
	size_t			 dirty_bytes;	/* queued on them since */
	size_t			 dirty_flush;	/* dirty_bytes that start writing the larger ones */
	bool			 flushing;	/* going through the list: callbacks only add to it */
	/*
	 * Connections whose queue was written empty, oldest first (a ring):
	 * past TCP_IDLE_TRIM_NS still empty, their buffer is freed.
	 */
	struct idle_entry {
		int	 id;
		tr_ns	 at;	/* its emptied_at when it joined */
	}			*idle;
	size_t			 idle_head, n_idle, cap_idle;
	/*
	 * Where the queues' buffers come from: slabs of their own, so that
	 * the burst's buffers, once freed, are given back rather than left
	 * as holes between the sessions' objects (slab.h).
	 */
	struct slab		 slab;

	/*
	 * The collector's address as last resolved: every session's connect
	 * needs it, and 10,000 sessions must not be 10,000 lookups (a name
	 * would read /etc/hosts or ask DNS each time).  Resolved once a run,
	 * as the older tool did.
	 */
	struct {
		char			*host;
		uint16_t		 port;
		sa_family_t		 family;
		struct sockaddr_storage	 addr;
		socklen_t		 len;
	} resolved;

	struct transport_udp_stats udp_totals[TRANSPORT_UDP_TAGS];
	tr_ns			 last_udp_send;
	size_t			 refused_sockets;	/* sockets with a refusal, named or not */
	unsigned		 raw_ports;	/* raw sockets given a port of their own */
	uint64_t		 dropped_datagrams;	/* named or not */

	/*
	 * The one pending batch, always for a single socket: msgs[batch_done,
	 * batch_n) are still to send.  A full socket keeps them here until
	 * EPOLLOUT says it has room.
	 */
	int			 batch_sock;
	size_t			 batch_n;
	size_t			 batch_done;
	struct mmsghdr		 msgs[BATCH_MAX];
	struct iovec		 iovs[BATCH_MAX];
	uint8_t			*bufs;		/* BATCH_MAX slots of SLOT_SIZE bytes */
};

struct transport *
transport_new(const struct transport_opts *opts)
{
	struct transport *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	if ((t->bufs = malloc((size_t)BATCH_MAX * SLOT_SIZE)) == NULL) {
		free(t);
		return NULL;
	}
	if ((t->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		free(t->bufs);
		free(t);
		return NULL;
	}
	t->opts = *opts;
	t->batch_sock = -1;
	t->dirty_flush = TCP_DIRTY_FLUSH;
	for (size_t i = 0; i < BATCH_MAX; i++) {
		t->msgs[i].msg_hdr.msg_iov = &t->iovs[i];
		t->msgs[i].msg_hdr.msg_iovlen = 1;
	}
	return t;
}

void
transport_free(struct transport *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n_socks; i++)
		close(t->socks[i].fd);
	for (size_t i = 0; i < t->n_conns; i++) {
		if (t->conns[i].fd != -1)
			close(t->conns[i].fd);
		bytebuf_free(&t->conns[i].q);
	}
	free(t->conns);
	free(t->dirty);
	free(t->idle);
	slab_destroy(&t->slab);
	free(t->resolved.host);
	close(t->epfd);
	free(t->socks);
	free(t->bufs);
	free(t);
}

/*
 * "localhost" names the loopback address of whichever family is asked for
 * (RFC 6761), even where /etc/hosts lists only 127.0.0.1: the older tool's
 * configs pair IPv6 repro addresses with "localhost".
 */
static bool
is_localhost(const char *host)
{
	size_t n = strlen(host);

	return strcasecmp(host, "localhost") == 0 ||
	    (n > 10 && strcasecmp(host + n - 10, ".localhost") == 0);
}

static int
resolve_collector(const char *host, uint16_t port, sa_family_t family,
    struct sockaddr_storage *out, socklen_t *outlen, char *err, size_t errlen)
{
	struct addrinfo hints = {
		.ai_family = family,
		.ai_socktype = SOCK_DGRAM,
	};
	struct addrinfo *res;
	char service[8];
	int rc;

	if (is_localhost(host)) {
		struct tr_addr loopback = { .family = family };

		if (family == AF_INET)
			loopback.v4.s_addr = htonl(INADDR_LOOPBACK);
		else
			loopback.v6 = in6addr_loopback;
		*outlen = addr_to_sockaddr(&loopback, port, out);
		return 0;
	}
	snprintf(service, sizeof(service), "%u", port);
	if ((rc = getaddrinfo(host, service, &hints, &res)) != 0) {
		/* Tell a family mismatch apart from a name that does not resolve at all. */
		if (rc == EAI_ADDRFAMILY || rc == EAI_FAMILY) {
			snprintf(err, errlen, "collector '%s' has no %s address: "
			    "use an address of the same family as repro_ip, or "
			    "a name that resolves to one", host,
			    family == AF_INET ? "IPv4" : "IPv6");
			errno = EAFNOSUPPORT;
		} else {
			snprintf(err, errlen, "collector '%s' does not resolve "
			    "(%s): fix collector.ip", host, gai_strerror(rc));
			errno = EHOSTUNREACH;
		}
		return -1;
	}
	memcpy(out, res->ai_addr, res->ai_addrlen);
	*outlen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static void
explain_bind_error(const char *repro, int saved, char *err, size_t errlen)
{
	if (saved == EADDRNOTAVAIL)
		snprintf(err, errlen, "repro_ip %s is not an address of this "
		    "host: add it (e.g. 'ip addr add %s/%s dev lo%s') or map "
		    "the exporter to a local address", repro, repro,
		    strchr(repro, ':') ? "128" : "32",
		    strchr(repro, ':') ? " nodad" : "");
	else if (saved == EADDRINUSE)
		snprintf(err, errlen, "the port is in use at repro_ip %s",
		    repro);
	else
		snprintf(err, errlen, "cannot bind to repro_ip %s: %s", repro,
		    strerror(saved));
}

static int
bind_device(int fd, const char *ifname, char *err, size_t errlen)
{
	if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname,
	    (socklen_t)strlen(ifname) + 1) == 0)
		return 0;
	if (errno == ENODEV)
		snprintf(err, errlen, "network.interface '%s' does not exist "
		    "(see 'ip link show')", ifname);
	else if (errno == EPERM)
		snprintf(err, errlen, "binding to network.interface '%s' "
		    "needs root or CAP_NET_RAW", ifname);
	else
		snprintf(err, errlen, "cannot bind to network.interface "
		    "'%s': %s", ifname, strerror(errno));
	return -1;
}

static void
set_buffer(int fd, int opt, int size, const char *name)
{
	if (size > 0 && setsockopt(fd, SOL_SOCKET, opt, &size,
	    sizeof(size)) == -1)
		log_warn("cannot set %s to %d", name, size);
}

/*
 * network.spoof: a bind to an address no interface owns succeeds.  IPv6
 * then sends from it; IPv4's route lookup still refuses a source that is
 * not local (ENETUNREACH) unless the socket is also IP_TRANSPARENT,
 * which needs CAP_NET_ADMIN or CAP_NET_RAW: asked for, and without it
 * only addresses routed here (AnyIP) can send (udp_connect_error says so).
 */
static int
set_freebind(int fd, sa_family_t family, char *err, size_t errlen)
{
	int on = 1, rc;

	if (family == AF_INET) {
		rc = setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &on, sizeof(on));
		if (rc == 0)
			(void)setsockopt(fd, IPPROTO_IP, IP_TRANSPARENT, &on,
			    sizeof(on));
	} else
		rc = setsockopt(fd, IPPROTO_IPV6, IPV6_FREEBIND, &on,
		    sizeof(on));
	if (rc == -1)
		snprintf(err, errlen, "network.spoof: the kernel refuses %s: "
		    "%s", family == AF_INET ? "IP_FREEBIND" : "IPV6_FREEBIND",
		    strerror(errno));
	return rc;
}

/* Why a UDP socket cannot be connected to the collector, and what to do. */
static void
udp_connect_error(const struct transport *t, const struct tr_addr *repro_ip,
    const char *repro, const char *coll, int saved, char *err, size_t errlen)
{
	if (saved == ENETUNREACH && repro_ip->family == AF_INET &&
	    t->opts.spoof == TRANSPORT_SPOOF_FREEBIND)
		snprintf(err, errlen, "cannot send from %s to collector %s: "
		    "Linux sends IPv4 from an address that is not local only "
		    "with IP_TRANSPARENT, which needs CAP_NET_ADMIN or "
		    "CAP_NET_RAW (run as root, or 'setcap cap_net_admin+ep "
		    "traffic-reproducer'); else route it here ('ip route add "
		    "local %s/32 dev lo', Linux AnyIP) or use network.spoof: "
		    "raw", repro, coll, repro);
	else
		snprintf(err, errlen, "cannot reach collector %s from %s: %s",
		    coll, repro, strerror(saved));
}

static struct udp_socket *
new_slot(struct transport *t)
{
	if (grow_array(&t->socks, &t->cap_socks, sizeof(*t->socks),
	    t->n_socks + 1, INT_MAX) == -1)
		return NULL;
	memset(&t->socks[t->n_socks], 0, sizeof(t->socks[0]));
	return &t->socks[t->n_socks];
}

/* The collector's address for a family, resolved once a run (t->resolved). */
static int
collector_address(struct transport *t, const char *host, uint16_t port,
    sa_family_t family, struct sockaddr_storage *remote,
    socklen_t *remote_len, char *err, size_t errlen)
{
	char *copy;

	if (t->resolved.host != NULL && t->resolved.port == port &&
	    t->resolved.family == family &&
	    strcmp(t->resolved.host, host) == 0) {
		memcpy(remote, &t->resolved.addr, t->resolved.len);
		*remote_len = t->resolved.len;
		return 0;
	}
	if (resolve_collector(host, port, family, remote, remote_len, err,
	    errlen) == -1)
		return -1;
	if ((copy = strdup(host)) != NULL) {	/* else: resolved again next time */
		free(t->resolved.host);
		t->resolved.host = copy;
		t->resolved.port = port;
		t->resolved.family = family;
		memcpy(&t->resolved.addr, remote, *remote_len);
		t->resolved.len = *remote_len;
	}
	return 0;
}

/*
 * A socket of `type` bound to repro_ip (ephemeral port) and to the
 * configured device, with the configured buffer sizes, and the collector's
 * address resolved for repro_ip's family.  Returns the fd or -1 with err set.
 */
static int
bound_socket(struct transport *t, int type, const struct tr_addr *repro_ip,
    uint16_t local_port, const char *host, uint16_t port,
    struct sockaddr_storage *remote, socklen_t *remote_len, char *err,
    size_t errlen)
{
	struct sockaddr_storage local;
	socklen_t local_len;
	char repro[TR_ADDR_STRLEN];
	int fd, saved;

	addr_format(repro_ip, repro, sizeof(repro));
	if (collector_address(t, host, port, repro_ip->family, remote,
	    remote_len, err, errlen) == -1)
		return -1;
	if ((fd = socket(repro_ip->family, type | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	fault_watch(fd);
	if (t->opts.interface != NULL &&
	    bind_device(fd, t->opts.interface, err, errlen) == -1)
		goto fail;
	if (t->opts.spoof != TRANSPORT_SPOOF_NONE &&
	    set_freebind(fd, repro_ip->family, err, errlen) == -1)
		goto fail;
	set_buffer(fd, SO_SNDBUF, t->opts.so_sndbuf, "so_sndbuf");
	set_buffer(fd, SO_RCVBUF, t->opts.so_rcvbuf, "so_rcvbuf");
	local_len = addr_to_sockaddr(repro_ip, local_port, &local);
	if (bind(fd, (struct sockaddr *)&local, local_len) == -1) {
		explain_bind_error(repro, errno, err, errlen);
		goto fail;
	}
	return fd;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/*
 * With freebind a TCP socket binds to any address, but the collector's
 * SYN-ACK must come back to this host: the address must have a local
 * route (an address of an interface, or Linux AnyIP), which rtnetlink
 * tells.  With network.interface (a VRF has tables of its own), or where
 * rtnetlink cannot be asked, a bind without freebind on that device tells
 * for IPv4 (IPv6 binds only to interfaces' addresses: there it would
 * refuse an AnyIP prefix that works, so the connect will tell).
 */
static int
check_routed_here(struct transport *t, const struct tr_addr *repro_ip,
    char *err, size_t errlen)
{
	struct sockaddr_storage local_sa;
	socklen_t local_len;
	char repro[TR_ADDR_STRLEN];
	bool v6 = repro_ip->family == AF_INET6, local = true;
	int fd, rc;

	addr_format(repro_ip, repro, sizeof(repro));
	if (t->opts.interface == NULL &&
	    route_is_local(repro_ip, &local) == 0) {
		if (local)
			return 0;
		snprintf(err, errlen, "repro_ip %s is not routed to this host, "
		    "so the collector's TCP replies cannot come back "
		    "(network.spoof sends from it, but TCP needs its replies): "
		    "route it here with Linux AnyIP, e.g. 'ip %sroute add local "
		    "%s/%s dev lo' (or the prefix of every repro_ip), and give "
		    "the collector a route to it through this host", repro,
		    v6 ? "-6 " : "", repro, v6 ? "128" : "32");
		errno = EADDRNOTAVAIL;
		return -1;
	}
	if (v6)
		return 0;
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (t->opts.interface != NULL &&
	    bind_device(fd, t->opts.interface, err, errlen) == -1) {
		close(fd);
		return -1;
	}
	local_len = addr_to_sockaddr(repro_ip, 0, &local_sa);
	rc = bind(fd, (struct sockaddr *)&local_sa, local_len);
	if (rc == -1 && errno == EADDRNOTAVAIL)
		snprintf(err, errlen, "repro_ip %s is not routed to this host "
		    "(in network.interface's table), so the collector's TCP "
		    "replies cannot come back: route it here with Linux AnyIP, "
		    "e.g. 'ip route add local %s/32 dev lo' (in that table)",
		    repro, repro);
	else if (rc == -1)
		explain_bind_error(repro, errno, err, errlen);
	close(fd);
	return rc;
}

int
transport_check_bind(struct transport *t, const struct tr_addr *repro_ip,
    const char *host, uint16_t port, bool tcp, char *err, size_t errlen)
{
	struct sockaddr_storage remote;
	socklen_t remote_len;
	int fd;

	if (!tcp && t->opts.spoof == TRANSPORT_SPOOF_RAW) {
		/* No bind: whether raw sockets are allowed is what can fail. */
		if (collector_address(t, host, port, repro_ip->family, &remote,
		    &remote_len, err, errlen) == -1 ||
		    (fd = rawsend_socket(repro_ip->family, err, errlen)) == -1)
			return -1;
		close(fd);
		return 0;
	}
	if ((fd = bound_socket(t, tcp ? SOCK_STREAM : SOCK_DGRAM, repro_ip, 0,
	    host, port, &remote, &remote_len, err, errlen)) == -1)
		return -1;
	close(fd);
	if (tcp && t->opts.spoof != TRANSPORT_SPOOF_NONE)
		return check_routed_here(t, repro_ip, err, errlen);
	return 0;
}

/*
 * ICMP errors on the socket's error queue, one per refused datagram (a
 * connected socket without it only remembers the last one, and tells it
 * on the next send): refusals are counted exactly, and the last datagrams'
 * too, however they are batched.
 */
static void
want_icmp_errors(int fd, sa_family_t family)
{
	int on = 1;

	if (family == AF_INET)
		(void)setsockopt(fd, IPPROTO_IP, IP_RECVERR, &on, sizeof(on));
	else
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &on,
		    sizeof(on));
}

/*
 * network.spoof: raw: a raw socket connected to the collector, for the
 * datagrams of one flow (repro_ip and local_port to the collector), whose
 * headers the slot's flow makes.  No bind: nothing is received on it.
 */
static int
raw_socket(struct transport *t, struct udp_socket *slot,
    const struct tr_addr *repro_ip, uint16_t local_port, const char *host,
    uint16_t port, struct sockaddr_storage *remote, socklen_t *remote_len,
    char *err, size_t errlen)
{
	struct tr_addr dst = { .family = repro_ip->family };
	int fd, saved;

	if (collector_address(t, host, port, repro_ip->family, remote,
	    remote_len, err, errlen) == -1)
		return -1;
	if (repro_ip->family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)remote;

		dst.v4 = sin->sin_addr;
		sin->sin_port = 0;	/* a raw socket's "port" is its protocol */
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)remote;

		dst.v6 = sin6->sin6_addr;
		sin6->sin6_port = 0;
	}
	if ((fd = rawsend_socket(repro_ip->family, err, errlen)) == -1)
		return -1;
	fault_watch(fd);
	if (t->opts.interface != NULL &&
	    bind_device(fd, t->opts.interface, err, errlen) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	set_buffer(fd, SO_SNDBUF, t->opts.so_sndbuf, "so_sndbuf");
	slot->raw = true;
	rawsend_flow_init(&slot->flow, repro_ip, local_port, &dst, port);
	return fd;
}

int
transport_udp_open(struct transport *t, const struct tr_addr *repro_ip,
    uint16_t local_port, const char *host, uint16_t port, unsigned tag,
    char *err, size_t errlen)
{
	struct sockaddr_storage remote;
	socklen_t remote_len;
	char repro[TR_ADDR_STRLEN], coll[TR_ENDPOINT_STRLEN];
	struct udp_socket *slot;
	struct epoll_event ev = { .events = 0 };	/* EPOLLERR is always reported */
	int fd;

	if ((slot = new_slot(t)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (t->opts.spoof == TRANSPORT_SPOOF_RAW) {
		if (local_port == 0)	/* no kernel picks one: take the next */
			local_port = (uint16_t)(RAW_PORT_FIRST + t->raw_ports++ %
			    (65536 - RAW_PORT_FIRST));
		fd = raw_socket(t, slot, repro_ip, local_port, host, port,
		    &remote, &remote_len, err, errlen);
	} else
		fd = bound_socket(t, SOCK_DGRAM, repro_ip, local_port, host,
		    port, &remote, &remote_len, err, errlen);
	if (fd == -1)
		return -1;
	addr_format(repro_ip, repro, sizeof(repro));
	host_format_endpoint(host, port, coll, sizeof(coll));
	if (connect(fd, (struct sockaddr *)&remote, remote_len) == -1) {
		udp_connect_error(t, repro_ip, repro, coll, errno, err, errlen);
		close(fd);
		return -1;
	}
	want_icmp_errors(fd, repro_ip->family);
	ev.data.u32 = (uint32_t)t->n_socks | EV_UDP;
	if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, fd, &ev) == -1) {
		snprintf(err, errlen, "epoll: %s", strerror(errno));
		close(fd);
		return -1;
	}
	slot->fd = fd;
	slot->tag = tag < TRANSPORT_UDP_TAGS ? tag : TRANSPORT_UDP_TAGS - 1;
	if (local_port != 0)
		snprintf(slot->desc, sizeof(slot->desc), "%s port %u -> %s",
		    repro, local_port, coll);
	else
		snprintf(slot->desc, sizeof(slot->desc), "%s -> %s", repro,
		    coll);
	return (int)t->n_socks++;
}

/* A datagram that will never leave: counted, named while few, summed up at the end. */
static void
udp_dropped(struct transport *t, struct udp_socket *s, size_t len, int err)
{
	s->stats.dropped++;
	t->udp_totals[s->tag].dropped++;
	if (++t->dropped_datagrams > DROPPED_NAMED)
		return;
	if (err == EMSGSIZE && s->raw && len <= rawsend_payload_max(&s->flow))
		log_warnx("%s: a datagram of %zu bytes is not sent: larger "
		    "than the path's MTU, and network.spoof: raw does not "
		    "fragment", s->desc, len);
	else if (err == EMSGSIZE)
		log_warnx("%s: a datagram of %zu bytes is not sent: larger "
		    "than a UDP datagram can be over %s (%u bytes)", s->desc, len,
		    strchr(s->desc, '[') ? "IPv6" : "IPv4",
		    strchr(s->desc, '[') ? 65527 : 65507);
	else
		log_warnx("%s: a datagram of %zu bytes is not sent: %s",
		    s->desc, len, strerror(err));
}

static void
note_refused(struct transport *t, struct udp_socket *s, int err)
{
	s->stats.refused++;
	t->udp_totals[s->tag].refused++;
	if (s->stats.refused > 1)
		return;
	if (++t->refused_sockets > REFUSED_NAMED)
		return;
	if (err == ECONNREFUSED)
		log_warnx("%s: the collector refused a datagram (ICMP port "
		    "unreachable): is it listening? The replay goes on, as a "
		    "router would; refusals are counted in the report",
		    s->desc);
	else
		log_warnx("%s: a datagram came back as undeliverable (ICMP: "
		    "%s); the replay goes on, as a router would; such "
		    "datagrams are counted as refused in the report", s->desc,
		    strerror(err));
}

/* Count the ICMP errors the kernel queued for the socket's datagrams. */
static void
drain_icmp_errors(struct transport *t, struct udp_socket *s)
{
	for (;;) {
		union {
			char buf[CMSG_SPACE(sizeof(struct sock_extended_err) +
			    sizeof(struct sockaddr_in6))];
			struct cmsghdr align;
		} control;
		uint8_t data[1];
		struct iovec iov = { .iov_base = data, .iov_len = sizeof(data) };
		struct msghdr mh = {
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = control.buf,
			.msg_controllen = sizeof(control.buf),
		};
		struct cmsghdr *cm;

		if (recvmsg(s->fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT) == -1) {
			if (errno == EINTR)
				continue;
			return;	/* EAGAIN: the queue is empty */
		}
		for (cm = CMSG_FIRSTHDR(&mh); cm != NULL;
		    cm = CMSG_NXTHDR(&mh, cm)) {
			const struct sock_extended_err *ee;

			if (!((cm->cmsg_level == IPPROTO_IP &&
			    cm->cmsg_type == IP_RECVERR) ||
			    (cm->cmsg_level == IPPROTO_IPV6 &&
			    cm->cmsg_type == IPV6_RECVERR)))
				continue;
			ee = (const struct sock_extended_err *)CMSG_DATA(cm);
			if (ee->ee_origin == SO_EE_ORIGIN_ICMP ||
			    ee->ee_origin == SO_EE_ORIGIN_ICMP6)
				note_refused(t, s, (int)ee->ee_errno);
		}
	}
}

/* Register EPOLLOUT for a UDP socket only while its batch waits for room (EPOLLERR is always reported). */
static void
udp_want_out(struct transport *t, int id, bool want)
{
	struct udp_socket *s = &t->socks[id];
	struct epoll_event ev = {
		.events = want ? EPOLLOUT : 0,
		.data.u32 = (uint32_t)id | EV_UDP,
	};

	if (want != s->want_out &&
	    epoll_ctl(t->epfd, EPOLL_CTL_MOD, s->fd, &ev) == 0)
		s->want_out = want;
}

/*
 * Send the pending batch as far as its socket takes it, never waiting:
 * 0 when every datagram went (or was counted as dropped), 1 when the
 * socket is full and the rest stays queued.
 */
static int
udp_send_batch(struct transport *t)
{
	struct udp_socket *s = &t->socks[t->batch_sock];

	while (t->batch_done < t->batch_n) {
		size_t done = t->batch_done;
		int n = sendmmsg(s->fd, &t->msgs[done],
		    (unsigned int)(t->batch_n - done), 0);

		if (n > 0) {
			uint64_t bytes = 0;

			for (int i = 0; i < n; i++)
				bytes += t->iovs[done + i].iov_len;
			/* Of the payloads: a raw socket's headers do not count. */
			if (s->raw)
				bytes -= (uint64_t)n * s->flow.hdr_len;
			s->stats.bytes += bytes;
			s->stats.sent += (uint64_t)n;
			t->udp_totals[s->tag].bytes += bytes;
			t->udp_totals[s->tag].sent += (uint64_t)n;
			t->last_udp_send = tr_mono_now();
			t->batch_done += (size_t)n;
			continue;
		}
		switch (errno) {
		case EINTR:
			break;
		case EAGAIN:
		case ENOBUFS:
			return 1;
		case ECONNREFUSED:
		case EHOSTUNREACH:
		case ENETUNREACH:
			/*
			 * The error belongs to an earlier datagram (the ICMP
			 * came back after it), and its error queue has it;
			 * this one was not sent yet, so try it again.
			 */
			drain_icmp_errors(t, s);
			break;
		default:
			udp_dropped(t, s, t->iovs[done].iov_len -
			    (s->raw ? s->flow.hdr_len : 0), errno);
			t->batch_done++;
			break;
		}
	}
	t->batch_n = t->batch_done = 0;
	return 0;
}

/* Send what is queued; a full socket keeps its batch and asks for EPOLLOUT, and the loop goes on. */
int
transport_flush(struct transport *t)
{
	int id = t->batch_sock;

	/* A batch that waits for room is tried again when EPOLLOUT comes. */
	if (t->batch_n == 0 || t->socks[id].want_out)
		return 0;
	udp_want_out(t, id, udp_send_batch(t) == 1);
	return 0;
}

/* EPOLLOUT on a UDP socket: its waiting batch goes on. */
static void
udp_writable(struct transport *t, int id)
{
	if (t->batch_n > 0 && t->batch_sock == id) {
		if (udp_send_batch(t) == 1)
			return;	/* still full: EPOLLOUT stays registered */
	}
	udp_want_out(t, id, false);
}

bool
transport_udp_waiting(const struct transport *t)
{
	return t->batch_n > 0;
}

/* Datagrams that never went, because the run stopped while their socket was full. */
static void
udp_drop_batch(struct transport *t)
{
	struct udp_socket *s;
	size_t left = t->batch_n - t->batch_done;

	if (t->batch_n == 0)
		return;
	s = &t->socks[t->batch_sock];
	s->stats.dropped += left;
	t->udp_totals[s->tag].dropped += left;
	t->batch_n = t->batch_done = 0;
	udp_want_out(t, t->batch_sock, false);
}

void
transport_udp_finish(struct transport *t)
{
	tr_ns wait;

	/* The last batch may wait for room: serve the loop until it went, or a stop. */
	transport_flush(t);
	while (t->batch_n > 0 && !(t->opts.stop != NULL && *t->opts.stop))
		if (transport_poll(t, tr_mono_now() + 100 * TR_NS_PER_MS) == -1)
			break;
	udp_drop_batch(t);
	if (t->n_socks == 0)
		return;
	wait = t->last_udp_send + ICMP_GRACE - tr_mono_now();
	if (wait > 0) {
		struct timespec ts = tr_ns_to_timespec(wait);

		while (nanosleep(&ts, &ts) == -1 && errno == EINTR &&
		    !(t->opts.stop != NULL && *t->opts.stop))
			;
	}
	for (size_t i = 0; i < t->n_socks; i++)
		drain_icmp_errors(t, &t->socks[i]);
	if (t->refused_sockets > REFUSED_NAMED)
		log_warnx("the collector refused datagrams on %zu more sockets "
		    "(%zu in all); the summary counts them", t->refused_sockets -
		    REFUSED_NAMED, t->refused_sockets);
	if (t->dropped_datagrams > DROPPED_NAMED)
		log_warnx("%llu more datagrams could not be sent (%llu in all); "
		    "the summary counts them", (unsigned long long)
		    (t->dropped_datagrams - DROPPED_NAMED),
		    (unsigned long long)t->dropped_datagrams);
}

int
transport_udp_queue(struct transport *t, int id, const uint8_t *data,
    size_t len)
{
	struct udp_socket *s = &t->socks[id];
	uint8_t *payload;

	/* TCP bytes queued before this datagram go first, as in the capture. */
	transport_tcp_flush(t);
	if (len > DGRAM_MAX ||
	    (s->raw && len > rawsend_payload_max(&s->flow))) {
		/* Reassembled captures cannot hold more; count rather than truncate. */
		udp_dropped(t, &t->socks[id], len, EMSGSIZE);
		return 0;
	}
	if (t->batch_n > 0 && (t->batch_sock != id || t->batch_n == BATCH_MAX)) {
		transport_flush(t);
		if (t->batch_n > 0) {
			errno = EAGAIN;	/* its socket is full: the caller serves the loop */
			return -1;
		}
	}
	t->batch_sock = id;
	/* The payload at a fixed place in its slot; a raw socket's headers just before it. */
	payload = t->bufs + t->batch_n * SLOT_SIZE + RAWSEND_HDR_MAX;
	memcpy(payload, data, len);
	if (s->raw) {
		rawsend_header(&s->flow, payload - s->flow.hdr_len, len);
		t->iovs[t->batch_n].iov_base = payload - s->flow.hdr_len;
		t->iovs[t->batch_n].iov_len = s->flow.hdr_len + len;
	} else {
		t->iovs[t->batch_n].iov_base = payload;
		t->iovs[t->batch_n].iov_len = len;
	}
	t->batch_n++;
	return 0;
}

const struct transport_udp_stats *
transport_udp_stats(const struct transport *t, int id)
{
	return &t->socks[id].stats;
}

const struct transport_udp_stats *
transport_udp_totals(const struct transport *t, unsigned tag)
{
	return &t->udp_totals[tag < TRANSPORT_UDP_TAGS ? tag :
	    TRANSPORT_UDP_TAGS - 1];
}

const char *
transport_describe(const struct transport *t, int id)
{
	return t->socks[id].desc;
}

/* ---- TCP ---------------------------------------------------------------- */

static struct tcp_conn *
new_conn(struct transport *t)
{
	if (grow_array(&t->conns, &t->cap_conns, sizeof(*t->conns),
	    t->n_conns + 1, INT_MAX) == -1)
		return NULL;
	/* Closed until it starts, so that set_state counts it from then on. */
	t->conns[t->n_conns] = (struct tcp_conn){ .fd = -1, .gate = SIZE_MAX,
	    .successor = -1, .q.max = SIZE_MAX, .q.slab = &t->slab,
	    .state = TCP_CLOSED };
	return &t->conns[t->n_conns];
}

/*
 * Every change of a connection's state goes here, which keeps the counts
 * of transport_tcp_unwritten() and transport_tcp_active(): the drain asks
 * for them each loop pass, over 10,000 connections.
 */
static void
set_state(struct transport *t, struct tcp_conn *c, enum tcp_state state)
{
	bool was_starting = c->state == TCP_WAITING ||
	    c->state == TCP_CONNECTING;
	bool starting = state == TCP_WAITING || state == TCP_CONNECTING;

	t->n_live += (c->state == TCP_CLOSED) - (state == TCP_CLOSED);
	t->n_starting += starting - was_starting;
	c->state = state;
}

/* Queued bytes that may be written now: up to the gate. */
static size_t
writable(const struct tcp_conn *c)
{
	size_t len = bytebuf_len(&c->q);

	return c->gate < len ? c->gate : len;
}

/*
 * Ask for EPOLLOUT only while something waits to be written (or the
 * connect completes), and not for bytes on the dirty list that the socket
 * has room for: the next flush writes those, with what follows.
 */
static void
update_interest(struct transport *t, struct tcp_conn *c, int id)
{
	bool want = c->state == TCP_CONNECTING ||
	    (c->state == TCP_OPEN && writable(c) > 0 && (!c->dirty || c->full));
	struct epoll_event ev = {
		.events = EPOLLIN | (want ? EPOLLOUT : 0),
		.data.u32 = (uint32_t)id,
	};

	if (want != c->want_out &&
	    epoll_ctl(t->epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->want_out = want;
}

static void conn_gone(struct transport *, int, int);

/* Start the connect of a bound socket; a failure now is reported as a failed connect. */
static void
conn_start(struct transport *t, int id)
{
	struct tcp_conn *c = &t->conns[id];
	struct epoll_event ev = {
		.events = EPOLLIN | EPOLLOUT,
		.data.u32 = (uint32_t)id,
	};

	set_state(t, c, TCP_CONNECTING);
	c->want_out = true;
	c->progress = tr_mono_now();
	/* Interrupted, a non-blocking connect goes on in the kernel (POSIX): EPOLLOUT tells its end. */
	if (connect(c->fd, (struct sockaddr *)&c->remote, c->remote_len) ==
	    -1 && errno != EINPROGRESS && errno != EINTR) {
		conn_gone(t, id, errno);
		return;
	}
	if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, c->fd, &ev) == -1)
		conn_gone(t, id, errno);
}

int
transport_tcp_open(struct transport *t, const struct tr_addr *repro_ip,
    const char *host, uint16_t port, int after, void *ctx, char *err,
    size_t errlen)
{
	char repro[TR_ADDR_STRLEN], coll[TR_ENDPOINT_STRLEN];
	struct tcp_conn *c;
	int fd, id;

	if ((c = new_conn(t)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if ((fd = bound_socket(t, SOCK_STREAM, repro_ip, 0, host, port,
	    &c->remote, &c->remote_len, err, errlen)) == -1)
		return -1;
	addr_format(repro_ip, repro, sizeof(repro));
	host_format_endpoint(host, port, coll, sizeof(coll));
	id = (int)t->n_conns++;
	c->fd = fd;
	c->ctx = ctx;
	snprintf(c->desc, sizeof(c->desc), "%s -> %s (tcp)", repro, coll);
	if (after >= 0 && t->conns[after].state != TCP_CLOSED) {
		/* Behind the last of a chain: each connection has one successor. */
		while (t->conns[after].successor >= 0)
			after = t->conns[after].successor;
		t->conns[after].successor = id;
		set_state(t, c, TCP_WAITING);
		return id;
	}
	conn_start(t, id);
	return id;
}

static void
conn_gone(struct transport *t, int id, int err)
{
	struct tcp_conn *c = &t->conns[id];
	int next = c->successor;

	if (c->state == TCP_CLOSED)
		return;
	close(c->fd);	/* also removes it from the epoll set */
	c->fd = -1;
	set_state(t, c, TCP_CLOSED);
	c->successor = -1;
	c->stats.bytes_lost += bytebuf_len(&c->q);
	t->queued_total -= bytebuf_len(&c->q);
	/* The queue outlives the callback, which may take its bytes (transport_tcp_unsent). */
	if (t->opts.tcp.closed != NULL)
		t->opts.tcp.closed(c->ctx, id, err);
	/* The callback may have opened connections: index, never a pointer kept across it. */
	if (!t->conns[id].kept)
		bytebuf_free(&t->conns[id].q);
	if (next >= 0 && t->conns[next].state == TCP_WAITING)
		conn_start(t, next);
}

const char *
transport_tcp_describe(const struct transport *t, int id)
{
	return t->conns[id].desc;
}

size_t
transport_tcp_unsent(const struct transport *t, int id, const uint8_t **bytes)
{
	const struct tcp_conn *c = &t->conns[id];

	*bytes = bytebuf_data(&c->q);
	return bytebuf_len(&c->q);
}

void
transport_tcp_keep(struct transport *t, int id, size_t skip)
{
	struct tcp_conn *c = &t->conns[id];
	size_t len = bytebuf_len(&c->q);

	if (skip > len)
		skip = len;
	bytebuf_consume(&c->q, skip);
	c->stats.bytes_lost -= len - skip;	/* not lost: they go on the next connection */
	c->gate = SIZE_MAX;
	c->above_high = false;
	c->kept = true;
}

void
transport_tcp_adopt(struct transport *t, int id, int from)
{
	struct tcp_conn *k = &t->conns[from];
	size_t len = bytebuf_len(&k->q);

	if (!k->kept)
		return;
	/* Closed or out of memory: the owner's accounting counts them lost. */
	if (len > 0 && transport_tcp_send(t, id, bytebuf_data(&k->q), len) ==
	    -1)
		t->conns[from].stats.bytes_lost += len;
	transport_tcp_discard(t, from);
}

void
transport_tcp_discard(struct transport *t, int id)
{
	struct tcp_conn *c = &t->conns[id];

	if (!c->kept)
		return;
	c->kept = false;
	bytebuf_free(&c->q);
}

/*
 * The low water mark passed on the way down: the owner may hand over what
 * it held (which may queue and write on this connection again).  Returns
 * the connection anew, as the callback may have grown the table.
 */
static struct tcp_conn *
note_drained(struct transport *t, int id)
{
	struct tcp_conn *c = &t->conns[id];

	if (!c->above_high || bytebuf_len(&c->q) > TRANSPORT_TCP_LOW_WATER)
		return c;
	c->above_high = false;
	if (t->opts.tcp.drained != NULL && c->state == TCP_OPEN)
		t->opts.tcp.drained(c->ctx, id);
	return &t->conns[id];
}

/* The ring's room grows by doubling, its entries kept in order from the head. */
static int
idle_ring_grow(struct transport *t)
{
	size_t cap = t->cap_idle ? 2 * t->cap_idle : 64;
	struct idle_entry *p = reallocarray(NULL, cap, sizeof(*p));

	if (p == NULL)
		return -1;
	for (size_t i = 0; i < t->n_idle; i++)
		p[i] = t->idle[(t->idle_head + i) % t->cap_idle];
	free(t->idle);
	t->idle = p;
	t->cap_idle = cap;
	t->idle_head = 0;
	return 0;
}

/* A connection whose queue was written empty: its buffer goes once it stays so (trim_idle_queues). */
static void
idle_list_add(struct transport *t, int id)
{
	if (t->conns[id].on_idle_list)
		return;
	if (t->n_idle == t->cap_idle && idle_ring_grow(t) == -1) {
		bytebuf_free(&t->conns[id].q);	/* no room to wait: free it now */
		return;
	}
	t->idle[(t->idle_head + t->n_idle++) % t->cap_idle] =
	    (struct idle_entry){ id, t->conns[id].emptied_at };
	t->conns[id].on_idle_list = true;
}

/*
 * Free the buffers of the queues empty since TCP_IDLE_TRIM_NS.  One that
 * was written empty again since it joined goes to the back with its new
 * time; the first one not yet due ends the walk (the others joined later,
 * or at most as much later as one trim period).
 */
static void
trim_idle_queues(struct transport *t, tr_ns now)
{
	for (size_t n = t->n_idle; n > 0; n--) {
		struct idle_entry e = t->idle[t->idle_head];
		struct tcp_conn *c = &t->conns[e.id];
		bool empty = bytebuf_len(&c->q) == 0;

		if (empty && c->emptied_at == e.at &&
		    now - e.at < TCP_IDLE_TRIM_NS)
			break;
		t->idle_head = (t->idle_head + 1) % t->cap_idle;
		t->n_idle--;
		c->on_idle_list = false;
		if (!empty)
			continue;	/* busy again: it joins again once written empty */
		if (c->emptied_at != e.at)
			idle_list_add(t, e.id);	/* emptied again since: to the back */
		else
			bytebuf_free(&c->q);
	}
	/* Every queue idle and freed: the empty slabs kept for reuse go too. */
	if (t->n_idle == 0)
		slab_trim(&t->slab);
}

/*
 * Write what the socket takes of the queue, up to the gate and up to this
 * pass's cap, in as few sends as the socket allows: everything queued is
 * one contiguous buffer, so messages queued together leave together.  A
 * socket that refused bytes is not tried again before EPOLLOUT.
 */
static void
conn_write(struct transport *t, int id)
{
	struct tcp_conn *c = &t->conns[id];
	uint64_t sent_before = c->stats.bytes_sent;
	size_t budget = TRANSPORT_TCP_PASS_WRITE_MAX;

	while (c->state == TCP_OPEN && !c->full && budget > 0) {
		size_t end = writable(c);
		ssize_t n;

		if (end == 0)
			break;
		n = send(c->fd, bytebuf_data(&c->q), end < budget ? end : budget,
		    MSG_NOSIGNAL);
		if (n > 0) {
			bytebuf_consume(&c->q, (size_t)n);
			if (c->gate != SIZE_MAX)
				c->gate -= (size_t)n;	/* writes never pass it */
			c->stats.bytes_sent += (uint64_t)n;
			t->queued_total -= (size_t)n;
			budget -= (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == ENOBUFS)) {
			c->full = true;
			break;
		}
		conn_gone(t, id, errno);
		return;
	}
	if (c->stats.bytes_sent != sent_before) {
		c->progress = tr_mono_now();
		if (t->opts.tcp.written != NULL) {
			t->opts.tcp.written(c->ctx, id, c->stats.bytes_sent);
			c = &t->conns[id];	/* the callback may have grown the table */
		}
		c = note_drained(t, id);
	}
	/*
	 * An idle connection keeps no buffer: with thousands of sessions,
	 * even the smallest one kept by each (4 KiB) is most of an idle
	 * session's memory.  A queue written empty joins the idle list; its
	 * buffer goes once it stayed empty TCP_IDLE_TRIM_NS.
	 */
	if (bytebuf_len(&c->q) == 0 && c->q.cap > 0) {
		c->emptied_at = c->progress;
		idle_list_add(t, id);
		c = &t->conns[id];
	}
	if (bytebuf_len(&c->q) == 0 && c->state == TCP_OPEN &&
	    c->close_when_drained) {
		shutdown(c->fd, SHUT_WR);
		set_state(t, c, TCP_CLOSING);
		c->closing_since = c->progress = tr_mono_now();
	}
	if (c->state != TCP_CLOSED)
		update_interest(t, c, id);
}

/*
 * Write the connections with TCP_WRITE_MIN or more not yet tried; the
 * others stay on the list, and the next try comes once their bytes doubled.
 */
static void
flush_larger(struct transport *t)
{
	size_t kept = 0, kept_bytes = 0;

	t->flushing = true;
	/* By index: a write that fails closes a connection, never moves the table. */
	for (size_t i = 0; i < t->n_dirty; i++) {
		int id = t->dirty[i];
		size_t queued = bytebuf_len(&t->conns[id].q);

		if (queued < TCP_WRITE_MIN && t->conns[id].state != TCP_CLOSED) {
			t->dirty[kept++] = id;
			kept_bytes += queued;
			continue;
		}
		t->conns[id].dirty = false;
		conn_write(t, id);
	}
	t->flushing = false;
	t->n_dirty = kept;
	t->dirty_bytes = kept_bytes;
	t->dirty_flush = 2 * kept_bytes > TCP_DIRTY_FLUSH ? 2 * kept_bytes :
	    TCP_DIRTY_FLUSH;
}

/*
 * Put a connection on the list written before the next wait (or sooner,
 * once enough waits over all), with len more bytes.  False when the list
 * cannot grow: the connection was written at once instead.
 */
static bool
mark_dirty(struct transport *t, int id, size_t len)
{
	struct tcp_conn *c = &t->conns[id];

	if (!c->dirty) {
		if (grow_array(&t->dirty, &t->cap_dirty, sizeof(*t->dirty),
		    t->n_dirty + 1, SIZE_MAX) == -1) {
			conn_write(t, id);
			return false;
		}
		t->dirty[t->n_dirty++] = id;
		c->dirty = true;
	}
	t->dirty_bytes += len;
	return true;
}

int
transport_tcp_send(struct transport *t, int id, const uint8_t *data,
    size_t len)
{
	struct tcp_conn *c = &t->conns[id];

	if (c->kept)	/* closed: queued for the connection that adopts them */
		return bytebuf_append(&c->q, data, len);
	if (c->state == TCP_CLOSED || c->state == TCP_CLOSING ||
	    c->close_when_drained) {
		errno = ENOTCONN;
		return -1;
	}
	/* A connection idle until now starts its stall clock now, not at its last write. */
	if (bytebuf_len(&c->q) == 0)
		c->progress = tr_mono_now();
	/*
	 * With many connections to write, a queue that holds a write's worth
	 * and would have to grow for these bytes is written first: its buffer
	 * keeps its smallest size (thousands of sessions, 4 KiB each) and each
	 * send carries what it holds.  A few busy connections grow theirs, for
	 * big writes.
	 */
	if (t->n_dirty >= TCP_MANY_DIRTY && c->state == TCP_OPEN && !c->full &&
	    bytebuf_len(&c->q) >= TCP_WRITE_MIN &&
	    bytebuf_len(&c->q) + len > c->q.cap) {
		conn_write(t, id);
		c = &t->conns[id];	/* the callbacks may have grown the table */
		if (c->state == TCP_CLOSED) {
			/* Gone with what it had: its owner counts these with the rest. */
			c->stats.bytes_lost += len;
			return 0;
		}
	}
	if (bytebuf_append(&c->q, data, len) == -1)
		return -1;
	t->queued_total += len;
	if (bytebuf_len(&c->q) >= TRANSPORT_TCP_HIGH_WATER)
		c->above_high = true;
	/* Write later, with what follows, unless enough waits already. */
	if (!mark_dirty(t, id, len))
		return 0;
	if (t->dirty_bytes >= t->dirty_flush && !t->flushing)
		flush_larger(t);
	else if (bytebuf_len(&c->q) >= TCP_WRITE_BATCH)
		conn_write(t, id);
	return 0;
}

void
transport_tcp_flush(struct transport *t)
{
	/* By index: a write that fails closes a connection, never moves the table. */
	t->flushing = true;
	for (size_t i = 0; i < t->n_dirty; i++) {
		int id = t->dirty[i];

		t->conns[id].dirty = false;
		conn_write(t, id);
	}
	t->flushing = false;
	t->n_dirty = 0;
	t->dirty_bytes = 0;
	t->dirty_flush = TCP_DIRTY_FLUSH;
}

void
transport_tcp_hold(struct transport *t, int id)
{
	struct tcp_conn *c = &t->conns[id];

	if (c->gate == SIZE_MAX)
		c->gate = bytebuf_len(&c->q);
}

void
transport_tcp_release(struct transport *t, int id)
{
	struct tcp_conn *c = &t->conns[id];

	c->gate = SIZE_MAX;
	conn_write(t, id);
}

size_t
transport_tcp_queued(const struct transport *t, int id)
{
	return bytebuf_len(&t->conns[id].q);
}

bool
transport_tcp_above_high(const struct transport *t, int id)
{
	return t->conns[id].above_high;
}

bool
transport_tcp_waiting(const struct transport *t, int id)
{
	return t->conns[id].state == TCP_WAITING;
}

bool
transport_tcp_can_send(const struct transport *t, int id)
{
	const struct tcp_conn *c = &t->conns[id];

	return (c->state == TCP_WAITING || c->state == TCP_CONNECTING ||
	    c->state == TCP_OPEN) && !c->close_when_drained;
}

tr_ns
transport_tcp_stalled_since(const struct transport *t, int id)
{
	const struct tcp_conn *c = &t->conns[id];

	if (c->state == TCP_CONNECTING ||
	    (c->state == TCP_OPEN && bytebuf_len(&c->q) > 0))
		return c->progress;
	return 0;
}

tr_ns
transport_tcp_closing_since(const struct transport *t, int id)
{
	const struct tcp_conn *c = &t->conns[id];

	return c->state == TCP_CLOSING ? c->closing_since : 0;
}

void
transport_tcp_close(struct transport *t, int id, bool now)
{
	struct tcp_conn *c = &t->conns[id];

	if (c->state == TCP_CLOSED)
		return;
	if (now) {
		/*
		 * SO_LINGER 0: close sends an RST, as a router that gives up
		 * does; after our FIN, a plain close only stops reading.
		 */
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };

		if (c->state != TCP_CLOSING)
			setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg,
			    sizeof(lg));
		conn_gone(t, id, 0);
		return;
	}
	/* Held bytes stay held: they go out, then the FIN, once released. */
	c->close_when_drained = true;
	conn_write(t, id);
}

const struct transport_tcp_stats *
transport_tcp_stats(const struct transport *t, int id)
{
	return &t->conns[id].stats;
}

/* Only connections not closed have a queue, and a closing one's is written. */
size_t
transport_tcp_unwritten(const struct transport *t)
{
	return t->queued_total + t->n_starting;
}

size_t
transport_tcp_active(const struct transport *t)
{
	return t->n_live;
}

/*
 * The connect's end (EPOLLOUT, EPOLLERR or EPOLLHUP in events): a failed
 * connect always brings EPOLLERR, so only then is the error asked for
 * (a system call per connection saved over thousands of sessions).
 */
static void
conn_connected(struct transport *t, int id, uint32_t events)
{
	struct tcp_conn *c = &t->conns[id];
	int soerr = 0;
	socklen_t len = sizeof(soerr);

	if ((events & (EPOLLERR | EPOLLHUP)) &&
	    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == -1)
		soerr = errno;
	if ((events & (EPOLLERR | EPOLLHUP)) && soerr == 0)
		soerr = ECONNREFUSED;	/* hung up with no error left to tell */
	if (soerr != 0) {
		conn_gone(t, id, soerr);
		return;
	}
	set_state(t, c, TCP_OPEN);
	c->stats.established = true;
	c->progress = tr_mono_now();
	if (t->opts.tcp.connected != NULL)
		t->opts.tcp.connected(c->ctx, id);
	c = &t->conns[id];	/* the callback may have grown the table */
	/*
	 * What was queued while connecting (a session's first messages) goes
	 * with what follows, in the next flush, unless it is a write's worth
	 * already: at connect time it is often a few hundred bytes, and
	 * writing it now made it one more send per session.
	 */
	if (c->state == TCP_OPEN && !c->close_when_drained &&
	    bytebuf_len(&c->q) > 0 && bytebuf_len(&c->q) < TCP_WRITE_MIN &&
	    !t->flushing &&
	    mark_dirty(t, id, c->dirty ? 0 : bytebuf_len(&c->q))) {
		update_interest(t, c, id);
		return;
	}
	conn_write(t, id);
}

/*
 * Read what the collector sent, so its window never fills: up to this
 * pass's cap (level-triggered epoll brings the rest at the next pass).
 */
static void
conn_read(struct transport *t, int id)
{
	uint8_t buf[65536];
	size_t budget = TRANSPORT_TCP_PASS_READ_MAX;

	while (t->conns[id].state != TCP_CLOSED && budget > 0) {
		struct tcp_conn *c = &t->conns[id];
		ssize_t n = recv(c->fd, buf, budget < sizeof(buf) ? budget :
		    sizeof(buf), 0);

		if (n > 0) {
			budget -= (size_t)n;
			c->stats.bytes_received += (uint64_t)n;
			if (t->opts.tcp.received != NULL)
				t->opts.tcp.received(c->ctx, id, buf, (size_t)n);
			continue;
		}
		if (n == 0) {
			conn_gone(t, id, 0);
			return;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			conn_gone(t, id, errno);
		return;
	}
}

int
transport_poll(struct transport *t, tr_ns until)
{
	struct epoll_event evs[64];
	tr_ns now = tr_mono_now(), wait = until - now;
	struct timespec ts;
	int n;

	trim_idle_queues(t, now);
	if (wait < 0)
		wait = 0;
	/* Nothing waits in a queue while this process sleeps. */
	if (wait > 0)
		transport_tcp_flush(t);
	ts = tr_ns_to_timespec(wait);
	n = epoll_pwait2(t->epfd, evs, 64, &ts, NULL);
	if (n == -1)
		return errno == EINTR ? 0 : -1;
	/* Callbacks may open connections (the array can move): index, never keep pointers. */
	for (int i = 0; i < n; i++) {
		int id = (int)evs[i].data.u32;

		if (evs[i].data.u32 & EV_UDP) {
			int sock = (int)(evs[i].data.u32 & ~EV_UDP);

			if (evs[i].events & EPOLLERR)
				drain_icmp_errors(t, &t->socks[sock]);
			if (evs[i].events & EPOLLOUT)
				udp_writable(t, sock);
			continue;
		}
		if (t->conns[id].state == TCP_CLOSED)
			continue;
		if (t->conns[id].state == TCP_CONNECTING) {
			if (evs[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
				conn_connected(t, id, evs[i].events);
			continue;
		}
		if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
			conn_read(t, id);
		if (t->conns[id].state == TCP_OPEN &&
		    (evs[i].events & EPOLLOUT)) {
			t->conns[id].full = false;
			conn_write(t, id);
		}
	}
	return n;
}


