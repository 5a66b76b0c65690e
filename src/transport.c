/* UDP sockets bound to repro_ip and connected to the collector, with sendmmsg batching. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "transport.h"

/* Datagrams per sendmmsg: large enough to amortize the syscall, small enough to keep the timeline fine-grained. */
#define BATCH_MAX	64
#define DGRAM_MAX	65535

struct udp_socket {
	int			 fd;
	char			 desc[2 * TR_ADDR_STRLEN + 64];
	struct transport_udp_stats stats;
	bool			 warned_refused;
};

struct transport {
	struct transport_opts	 opts;
	struct udp_socket	*socks;
	size_t			 n_socks, cap_socks;

	/* The one pending batch, always for a single socket. */
	int			 batch_sock;
	size_t			 batch_n;
	struct mmsghdr		 msgs[BATCH_MAX];
	struct iovec		 iovs[BATCH_MAX];
	uint8_t			*bufs;		/* BATCH_MAX slots of DGRAM_MAX bytes */
};

struct transport *
transport_new(const struct transport_opts *opts)
{
	struct transport *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	if ((t->bufs = malloc((size_t)BATCH_MAX * DGRAM_MAX)) == NULL) {
		free(t);
		return NULL;
	}
	t->opts = *opts;
	t->batch_sock = -1;
	for (size_t i = 0; i < BATCH_MAX; i++) {
		t->iovs[i].iov_base = t->bufs + i * DGRAM_MAX;
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

static struct udp_socket *
new_slot(struct transport *t)
{
	if (t->n_socks == t->cap_socks) {
		size_t cap = t->cap_socks ? t->cap_socks * 2 : 16;
		struct udp_socket *s = realloc(t->socks, cap * sizeof(*s));

		if (s == NULL)
			return NULL;
		t->socks = s;
		t->cap_socks = cap;
	}
	memset(&t->socks[t->n_socks], 0, sizeof(t->socks[0]));
	return &t->socks[t->n_socks];
}

int
transport_udp_open(struct transport *t, const struct tr_addr *repro_ip,
    const char *host, uint16_t port, char *err, size_t errlen)
{
	struct sockaddr_storage local, remote;
	socklen_t local_len, remote_len;
	char repro[TR_ADDR_STRLEN];
	struct udp_socket *slot;
	int fd;

	addr_format(repro_ip, repro, sizeof(repro));
	if ((slot = new_slot(t)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (resolve_collector(host, port, repro_ip->family, &remote,
	    &remote_len, err, errlen) == -1)
		return -1;
	if ((fd = socket(repro_ip->family, SOCK_DGRAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (t->opts.interface != NULL &&
	    bind_device(fd, t->opts.interface, err, errlen) == -1)
		goto fail;
	set_buffer(fd, SO_SNDBUF, t->opts.so_sndbuf, "so_sndbuf");
	set_buffer(fd, SO_RCVBUF, t->opts.so_rcvbuf, "so_rcvbuf");
	local_len = addr_to_sockaddr(repro_ip, 0, &local);
	if (bind(fd, (struct sockaddr *)&local, local_len) == -1) {
		explain_bind_error(repro, errno, err, errlen);
		goto fail;
	}
	if (connect(fd, (struct sockaddr *)&remote, remote_len) == -1) {
		snprintf(err, errlen, "cannot reach collector %s port %u from "
		    "%s: %s", host, port, repro, strerror(errno));
		goto fail;
	}
	slot->fd = fd;
	snprintf(slot->desc, sizeof(slot->desc), "%s -> %s:%u", repro, host,
	    port);
	return (int)t->n_socks++;
fail:
	close(fd);
	return -1;
}

int
transport_udp_queue(struct transport *t, int id, const uint8_t *data,
    size_t len)
{
	if (len > DGRAM_MAX) {
		/* Reassembled captures cannot hold more; count rather than truncate. */
		t->socks[id].stats.dropped++;
		return 0;
	}
	if (t->batch_n > 0 && (t->batch_sock != id || t->batch_n == BATCH_MAX))
		if (transport_flush(t) == -1)
			return -1;
	t->batch_sock = id;
	memcpy(t->iovs[t->batch_n].iov_base, data, len);
	t->iovs[t->batch_n].iov_len = len;
	t->batch_n++;
	return 0;
}

/* Block (with a timeout, to notice the stop flag) until the socket can take more. */
static int
wait_writable(struct transport *t, int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };

	while (!(t->opts.stop != NULL && *t->opts.stop)) {
		if (poll(&pfd, 1, 100) > 0)
			return 0;
	}
	return -1;
}

static void
note_refused(struct udp_socket *s)
{
	s->stats.refused++;
	if (!s->warned_refused) {
		s->warned_refused = true;
		log_warnx("%s: the collector refused a datagram (ICMP port "
		    "unreachable): is it listening? The replay goes on, as a "
		    "router would; refusals are counted in the report",
		    s->desc);
	}
}

int
transport_flush(struct transport *t)
{
	struct udp_socket *s;
	size_t done = 0;

	if (t->batch_n == 0)
		return 0;
	s = &t->socks[t->batch_sock];
	while (done < t->batch_n) {
		int n = sendmmsg(s->fd, &t->msgs[done],
		    (unsigned int)(t->batch_n - done), 0);

		if (n > 0) {
			for (int i = 0; i < n; i++)
				s->stats.bytes += t->iovs[done + i].iov_len;
			s->stats.sent += (uint64_t)n;
			done += (size_t)n;
			continue;
		}
		switch (errno) {
		case EINTR:
			break;
		case EAGAIN:
		case ENOBUFS:
			if (wait_writable(t, s->fd) == -1)
				goto interrupted;
			break;
		case ECONNREFUSED:
			/*
			 * The error belongs to an earlier datagram (the ICMP
			 * came back after it); this one was not sent yet, so
			 * try it again.
			 */
			note_refused(s);
			break;
		default:
			log_warn("%s: datagram of %zu bytes not sent", s->desc,
			    t->iovs[done].iov_len);
			s->stats.dropped++;
			done++;
			break;
		}
	}
	t->batch_n = 0;
	return 0;
interrupted:
	s->stats.dropped += t->batch_n - done;
	t->batch_n = 0;
	return -1;
}

const struct transport_udp_stats *
transport_udp_stats(const struct transport *t, int id)
{
	return &t->socks[id].stats;
}

const char *
transport_describe(const struct transport *t, int id)
{
	return t->socks[id].desc;
}
