/* Fault injection (-DTR_FAULT=ON): linker-wrapped socket calls that fail or fall short on a seeded schedule. */
#ifdef TR_FAULT
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fault.h"

/*
 * The wrapped calls have libc's signatures, so the schedule cannot be
 * passed to them: it is the one piece of process-wide state, read from
 * the environment at the first watched call.
 */
static struct {
	bool		 read_env;
	bool		 on;
	uint64_t	 rng;
	unsigned	 rate, reset;	/* percent */
	uint8_t		*watched;	/* one flag per descriptor */
	size_t		 n_watched;
	uint64_t	 count;
} fault;

enum fault_kind { FAULT_NONE, FAULT_AGAIN, FAULT_INTR, FAULT_SHORT, FAULT_RESET };

ssize_t	__real_send(int, const void *, size_t, int);
ssize_t	__real_sendmsg(int, const struct msghdr *, int);
int	__real_sendmmsg(int, struct mmsghdr *, unsigned int, int);
ssize_t	__real_write(int, const void *, size_t);
ssize_t	__real_writev(int, const struct iovec *, int);
ssize_t	__real_recv(int, void *, size_t, int);
ssize_t	__real_read(int, void *, size_t);
int	__real_connect(int, const struct sockaddr *, socklen_t);
int	__real_close(int);

ssize_t	__wrap_send(int, const void *, size_t, int);
ssize_t	__wrap_sendmsg(int, const struct msghdr *, int);
int	__wrap_sendmmsg(int, struct mmsghdr *, unsigned int, int);
ssize_t	__wrap_write(int, const void *, size_t);
ssize_t	__wrap_writev(int, const struct iovec *, int);
ssize_t	__wrap_recv(int, void *, size_t, int);
ssize_t	__wrap_read(int, void *, size_t);
int	__wrap_connect(int, const struct sockaddr *, socklen_t);
int	__wrap_close(int);

static unsigned
env_percent(const char *name, unsigned dflt)
{
	const char *v = getenv(name);

	if (v == NULL || *v == '\0')
		return dflt;
	return (unsigned)strtoul(v, NULL, 10) % 101;
}

static void
fault_init(void)
{
	const char *seed = getenv("TR_FAULT_SEED");

	fault.read_env = true;
	if (seed == NULL || *seed == '\0')
		return;
	fault.on = true;
	/* xorshift64 must not start at 0. */
	fault.rng = strtoull(seed, NULL, 10) * 0x9e3779b97f4a7c15ull + 1;
	fault.rate = env_percent("TR_FAULT_RATE", 25);
	fault.reset = env_percent("TR_FAULT_RESET", 0);
}

static uint64_t
next_random(void)
{
	fault.rng ^= fault.rng << 13;
	fault.rng ^= fault.rng >> 7;
	fault.rng ^= fault.rng << 17;
	return fault.rng;
}

void
fault_watch(int fd)
{
	size_t n = fault.n_watched;

	if (fd < 0)
		return;
	if ((size_t)fd >= n) {
		size_t want = (size_t)fd * 2 + 64;
		uint8_t *p = realloc(fault.watched, want);

		if (p == NULL)
			return;	/* this socket runs without faults */
		memset(p + n, 0, want - n);
		fault.watched = p;
		fault.n_watched = want;
	}
	fault.watched[fd] = 1;
}

uint64_t
fault_count(void)
{
	return fault.count;
}

/*
 * TR_FAULT_LOG names a file that gets one line per process that injected
 * faults, so a test run can show the schedule really ran.
 */
__attribute__((destructor)) static void
fault_log(void)
{
	const char *path = getenv("TR_FAULT_LOG");
	FILE *f;

	if (fault.count == 0 || path == NULL || *path == '\0' ||
	    (f = fopen(path, "a")) == NULL)
		return;
	fprintf(f, "%s[%ld]: %llu faults\n", program_invocation_short_name,
	    (long)getpid(), (unsigned long long)fault.count);
	fclose(f);
}

/* Whether fd is a stream socket: a short write of a datagram would cut it, so datagrams never get one. */
static bool
is_stream(int fd)
{
	int type = 0;
	socklen_t len = sizeof(type);

	return getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 &&
	    type == SOCK_STREAM;
}

/*
 * The fault for this call on fd, if any.  `can_short`: the call moves more
 * than one byte (or datagram, for sendmmsg); bytes of a stream socket
 * unless `units`.
 */
static enum fault_kind
fault_pick(int fd, bool can_short, bool units)
{
	uint64_t r;

	if (!fault.read_env)
		fault_init();
	if (!fault.on || fd < 0 || (size_t)fd >= fault.n_watched ||
	    !fault.watched[fd])
		return FAULT_NONE;
	r = next_random();
	if (r % 100 >= fault.rate)
		return FAULT_NONE;
	fault.count++;
	r >>= 8;
	if (r % 100 < fault.reset)
		return FAULT_RESET;
	switch ((r >> 8) % 3) {
	case 0:
		return FAULT_AGAIN;
	case 1:
		return FAULT_INTR;
	default:
		return can_short && (units || is_stream(fd)) ? FAULT_SHORT :
		    FAULT_AGAIN;
	}
}

/* A short length: 1 .. len - 1 and at most 1400, what a nearly full socket takes. */
static size_t
short_len(size_t len)
{
	return 1 + (size_t)(next_random() % (len - 1 < 1400 ? len - 1 : 1400));
}

/* -1 with the fault's errno; FAULT_NONE and FAULT_SHORT are the caller's. */
static int
fail(enum fault_kind k)
{
	errno = k == FAULT_INTR ? EINTR : k == FAULT_RESET ? ECONNRESET :
	    EAGAIN;
	return -1;
}

ssize_t
__wrap_send(int fd, const void *buf, size_t len, int flags)
{
	enum fault_kind k = fault_pick(fd, len > 1, false);

	if (k == FAULT_NONE)
		return __real_send(fd, buf, len, flags);
	if (k == FAULT_SHORT)
		return __real_send(fd, buf, short_len(len), flags);
	return fail(k);
}

ssize_t
__wrap_write(int fd, const void *buf, size_t len)
{
	enum fault_kind k = fault_pick(fd, len > 1, false);

	if (k == FAULT_NONE)
		return __real_write(fd, buf, len);
	if (k == FAULT_SHORT)
		return __real_write(fd, buf, short_len(len));
	return fail(k);
}

/* A copy of iov cut to at most `keep` bytes in all; returns the iov count. */
static int
cut_iov(const struct iovec *iov, int n, size_t keep, struct iovec *out,
    int max)
{
	int i;

	for (i = 0; i < n && i < max && keep > 0; i++) {
		out[i] = iov[i];
		if (out[i].iov_len > keep)
			out[i].iov_len = keep;
		keep -= out[i].iov_len;
	}
	return i;
}

static size_t
iov_total(const struct iovec *iov, size_t n)
{
	size_t len = 0;

	for (size_t i = 0; i < n; i++)
		len += iov[i].iov_len;
	return len;
}

ssize_t
__wrap_writev(int fd, const struct iovec *iov, int n)
{
	size_t len = iov_total(iov, n > 0 ? (size_t)n : 0);
	enum fault_kind k = fault_pick(fd, len > 1, false);
	struct iovec cut[64];

	if (k == FAULT_NONE || (k == FAULT_SHORT && n > 64))
		return __real_writev(fd, iov, n);
	if (k == FAULT_SHORT)
		return __real_writev(fd, cut, cut_iov(iov, n, short_len(len),
		    cut, 64));
	return fail(k);
}

ssize_t
__wrap_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	size_t len = iov_total(msg->msg_iov, msg->msg_iovlen);
	enum fault_kind k = fault_pick(fd, len > 1, false);
	struct iovec cut[64];
	struct msghdr m = *msg;

	if (k == FAULT_NONE || (k == FAULT_SHORT && msg->msg_iovlen > 64))
		return __real_sendmsg(fd, msg, flags);
	if (k == FAULT_SHORT) {
		m.msg_iov = cut;
		m.msg_iovlen = (size_t)cut_iov(msg->msg_iov,
		    (int)msg->msg_iovlen, short_len(len), cut, 64);
		return __real_sendmsg(fd, &m, flags);
	}
	return fail(k);
}

/* A short sendmmsg sends the first datagrams of the batch, as a socket that fills up does. */
int
__wrap_sendmmsg(int fd, struct mmsghdr *msgs, unsigned int n, int flags)
{
	enum fault_kind k = fault_pick(fd, n > 1, true);

	if (k == FAULT_NONE)
		return __real_sendmmsg(fd, msgs, n, flags);
	if (k == FAULT_SHORT)
		return __real_sendmmsg(fd, msgs, 1 + (unsigned)(next_random() %
		    (n - 1)), flags);
	return fail(k);
}

ssize_t
__wrap_recv(int fd, void *buf, size_t len, int flags)
{
	enum fault_kind k = fault_pick(fd, len > 1, false);

	if (k == FAULT_NONE)
		return __real_recv(fd, buf, len, flags);
	if (k == FAULT_SHORT)
		return __real_recv(fd, buf, short_len(len), flags);
	return fail(k);
}

ssize_t
__wrap_read(int fd, void *buf, size_t len)
{
	enum fault_kind k = fault_pick(fd, len > 1, false);

	if (k == FAULT_NONE)
		return __real_read(fd, buf, len);
	if (k == FAULT_SHORT)
		return __real_read(fd, buf, short_len(len));
	return fail(k);
}

/*
 * An interrupted non-blocking connect goes on in the kernel (POSIX), so
 * the call is made and only its answer replaced; a reset refuses it (and
 * the caller closes the socket).
 */
int
__wrap_connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	enum fault_kind k = fault_pick(fd, false, false);
	int rc = __real_connect(fd, sa, len);

	/* Only a connect under way can be interrupted: a UDP one is done at once. */
	if (k == FAULT_NONE || rc != -1 || errno != EINPROGRESS)
		return rc;
	if (k == FAULT_RESET) {
		errno = ECONNREFUSED;
		return -1;
	}
	errno = EINTR;
	return -1;
}

/* A closed descriptor is no longer watched: its number may come back for anything. */
int
__wrap_close(int fd)
{
	if (fd >= 0 && (size_t)fd < fault.n_watched)
		fault.watched[fd] = 0;
	return __real_close(fd);
}
#endif
