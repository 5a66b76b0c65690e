/* Unit tests of the transport on real loopback sockets: coalesced writes, per-pass caps, partial writes, hold/release, a closed queue kept and adopted, water marks, UDP batches. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fault.h"
#include "log.h"
#include "transport.h"

/*
 * Under -DTR_FAULT=ON (make test-fault) the same tests run while the
 * transport's socket calls fail with EAGAIN and EINTR or fall short on a
 * seeded schedule: every byte must still arrive, in order.  Only what
 * depends on the number of syscalls is left out there.
 */

/* Waits give up after this: a hang becomes a failure, never a timing assertion. */
#define GIVE_UP		(20 * TR_NS_PER_SEC)

struct fixture {
	struct transport	*t;
	int			 listen_fd;
	uint16_t		 port;
	int			 peer;		/* the collector's end */
	int			 id;
	int			 connected;
	int			 written_calls;
	int			 drained;
	size_t			 queued_at_drained;
	int			 closed;
	int			 closed_err;
	bool			 keep;		/* keep the queue when closed, less its first keep_skip bytes */
	size_t			 keep_skip;
};

static void
on_connected(void *ctx, int id)
{
	(void)id;
	((struct fixture *)ctx)->connected++;
}

static void
on_written(void *ctx, int id, uint64_t total)
{
	(void)id;
	(void)total;
	((struct fixture *)ctx)->written_calls++;
}

static void
on_closed(void *ctx, int id, int err)
{
	struct fixture *f = ctx;

	f->closed++;
	f->closed_err = err;
	if (f->keep)
		transport_tcp_keep(f->t, id, f->keep_skip);
}

static void
on_drained(void *ctx, int id)
{
	struct fixture *f = ctx;

	f->drained++;
	f->queued_at_drained = transport_tcp_queued(f->t, id);
}

static volatile sig_atomic_t never_stop;

static struct transport *
new_transport(int sndbuf)
{
	struct transport_opts o = {
		.so_sndbuf = sndbuf,
		.stop = &never_stop,
		.tcp = {
			.connected = on_connected, .written = on_written,
			.closed = on_closed, .drained = on_drained,
		},
	};
	struct transport *t = transport_new(&o);

	assert_non_null(t);
	return t;
}

static struct tr_addr
loopback(void)
{
	struct tr_addr a = { .family = AF_INET };

	a.v4.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

/* A socket of `type` bound to 127.0.0.1 on a free port; rcvbuf 0 keeps the default. */
static int
bound_loopback(int type, int rcvbuf, uint16_t *port)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	if (rcvbuf > 0)
		assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
		    sizeof(rcvbuf)), 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

/*
 * A connection from the transport to a listener of ours; the accepted end
 * (small receive buffer when rcvbuf > 0, so it fills up) is f->peer.
 */
static void
connect_fixture(struct fixture *f, struct transport *t, int rcvbuf)
{
	struct tr_addr repro = loopback();
	char err[256];
	tr_ns give_up = tr_mono_now() + GIVE_UP;

	f->t = t;
	f->listen_fd = bound_loopback(SOCK_STREAM, rcvbuf, &f->port);
	assert_int_equal(listen(f->listen_fd, 4), 0);
	f->id = transport_tcp_open(t, &repro, "127.0.0.1", f->port, -1, f, err,
	    sizeof(err));
	assert_true(f->id >= 0);
	while (f->connected == 0 && f->closed == 0 && tr_mono_now() < give_up)
		assert_true(transport_poll(t, tr_mono_now() + 10 * TR_NS_PER_MS) >=
		    0);
	assert_int_equal(f->connected, 1);
	f->peer = accept4(f->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	assert_true(f->peer >= 0);
}

static void
close_fixture(struct fixture *f)
{
	close(f->peer);
	close(f->listen_fd);
}

static uint8_t
pattern_byte(size_t i)
{
	return (uint8_t)(i * 31 + 7 + (i >> 9));
}

/* Queue n bytes of the pattern from offset `from` in messages of msg bytes. */
static void
send_pattern(struct fixture *f, size_t from, size_t n, size_t msg)
{
	uint8_t *buf = malloc(msg);

	assert_non_null(buf);
	for (size_t off = 0; off < n; off += msg) {
		size_t len = n - off < msg ? n - off : msg;

		for (size_t i = 0; i < len; i++)
			buf[i] = pattern_byte(from + off + i);
		assert_int_equal(transport_tcp_send(f->t, f->id, buf, len), 0);
	}
	free(buf);
}

/*
 * Read n bytes at the collector's end while the transport's loop runs,
 * and check they are the pattern from offset `from`.
 */
static void
expect_pattern(struct fixture *f, size_t from, size_t n)
{
	static uint8_t buf[65536];
	size_t got = 0;
	tr_ns give_up = tr_mono_now() + GIVE_UP;

	while (got < n && tr_mono_now() < give_up) {
		size_t want = n - got < sizeof(buf) ? n - got : sizeof(buf);
		ssize_t r = recv(f->peer, buf, want, 0);

		if (r > 0) {
			for (ssize_t i = 0; i < r; i++)
				if (buf[i] != pattern_byte(from + got + (size_t)i))
					fail_msg("byte %zu is wrong", from + got +
					    (size_t)i);
			got += (size_t)r;
			continue;
		}
		assert_true(r == -1 && (errno == EAGAIN || errno == EINTR));
		assert_true(transport_poll(f->t, tr_mono_now() + TR_NS_PER_MS) >= 0);
	}
	assert_int_equal(got, n);
}

/* Nothing more arrives while the loop runs for a while. */
static void
expect_nothing(struct fixture *f)
{
	uint8_t byte;

	for (int i = 0; i < 20; i++)
		assert_true(transport_poll(f->t, tr_mono_now() + TR_NS_PER_MS) >= 0);
	assert_int_equal(recv(f->peer, &byte, 1, 0), -1);
	assert_true(errno == EAGAIN);
}

/*
 * Bytes queued while connecting are not written at the connect's end
 * when they are few: they go with what follows, in one write at the flush.
 */
static void
test_first_write_after_connect(void **state)
{
	struct fixture f = { 0 };
	struct tr_addr repro = loopback();
	tr_ns give_up = tr_mono_now() + GIVE_UP;
	char err[256];

	(void)state;
	f.t = new_transport(0);
	f.listen_fd = bound_loopback(SOCK_STREAM, 0, &f.port);
	assert_int_equal(listen(f.listen_fd, 4), 0);
	f.id = transport_tcp_open(f.t, &repro, "127.0.0.1", f.port, -1, &f, err,
	    sizeof(err));
	assert_true(f.id >= 0);
	send_pattern(&f, 0, 500, 100);
	/* Polls that do not wait: no flush, only the connect's end. */
	while (f.connected == 0 && f.closed == 0 && tr_mono_now() < give_up)
		assert_true(transport_poll(f.t, tr_mono_now()) >= 0);
	assert_int_equal(f.connected, 1);
	/* Nor at the passes after it: EPOLLOUT is not asked for what the flush will write. */
	for (int i = 0; i < 5; i++)
		assert_true(transport_poll(f.t, tr_mono_now()) >= 0);
	assert_int_equal(transport_tcp_stats(f.t, f.id)->bytes_sent, 0);
	f.peer = accept4(f.listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	assert_true(f.peer >= 0);
	send_pattern(&f, 500, 500, 100);
	f.written_calls = 0;
	transport_tcp_flush(f.t);
#ifndef TR_FAULT
	assert_int_equal(f.written_calls, 1);
	assert_int_equal(transport_tcp_stats(f.t, f.id)->bytes_sent, 1000);
#endif
	expect_pattern(&f, 0, 1000);
	transport_free(f.t);
	close_fixture(&f);
}

/* Messages queued together go out in one write at the flush, none before it. */
static void
test_coalesced_messages(void **state)
{
	struct fixture f = { 0 };

	(void)state;
	connect_fixture(&f, new_transport(0), 0);
	send_pattern(&f, 0, 100 * 600, 100);
	/* 600 messages, no syscall yet: they wait for the flush, or for more. */
	assert_int_equal(transport_tcp_stats(f.t, f.id)->bytes_sent, 0);
	assert_int_equal(transport_tcp_queued(f.t, f.id), 60000);
	f.written_calls = 0;
	transport_tcp_flush(f.t);
#ifndef TR_FAULT
	/* One pass, and the socket took everything: one write. */
	assert_int_equal(f.written_calls, 1);
	assert_int_equal(transport_tcp_stats(f.t, f.id)->bytes_sent, 60000);
#endif
	expect_pattern(&f, 0, 60000);
	assert_int_equal(transport_tcp_queued(f.t, f.id), 0);
	transport_free(f.t);
	close_fixture(&f);
}

/*
 * Thousands of sessions whose messages come in turn: past a megabyte queued
 * in all, only connections with 2 KiB or more are written, so a
 * connection holding a message or two does not cost a send per message;
 * the end of the pass (the flush) writes the rest.
 */
#define MANY		600
#define MANY_EACH	1800	/* 600 x 1800 bytes pass a megabyte; each stays under 2 KiB */

static void
test_many_connections(void **state)
{
	struct transport *t = new_transport(0);
	struct fixture *f = calloc(MANY, sizeof(*f));
	struct rlimit rl;

	(void)state;
	assert_non_null(f);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	rl.rlim_cur = rl.rlim_max;
	(void)setrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < 3 * MANY + 64)
		skip();
	for (int i = 0; i < MANY; i++)
		connect_fixture(&f[i], t, 0);
	for (size_t off = 0; off < MANY_EACH; off += 100)
		for (int i = 0; i < MANY; i++)
			send_pattern(&f[i], off, 100, 100);
	for (int i = 0; i < MANY; i++)
		assert_int_equal(transport_tcp_stats(t, f[i].id)->bytes_sent, 0);
	transport_tcp_flush(t);
	for (int i = 0; i < MANY; i++) {
		expect_pattern(&f[i], 0, MANY_EACH);
		close_fixture(&f[i]);
	}
	transport_free(t);
	free(f);
}

/* One pass writes at most its cap; level-triggered EPOLLOUT brings the rest. */
static void
test_pass_cap(void **state)
{
	struct fixture f = { 0 };
	size_t n = 4 * TRANSPORT_TCP_PASS_WRITE_MAX;

	(void)state;
	connect_fixture(&f, new_transport(0), 0);
	send_pattern(&f, 0, n, n);	/* one message: it is written at once */
	assert_true(transport_tcp_stats(f.t, f.id)->bytes_sent <=
	    TRANSPORT_TCP_PASS_WRITE_MAX);
	assert_true(transport_tcp_queued(f.t, f.id) >= n -
	    TRANSPORT_TCP_PASS_WRITE_MAX);
	expect_pattern(&f, 0, n);
	assert_int_equal(transport_tcp_stats(f.t, f.id)->bytes_sent, n);
	transport_free(f.t);
	close_fixture(&f);
}

/*
 * What the collector sends is read in passes of at most the read cap, so a
 * chatty collector cannot hold the loop; the rest comes at the next passes.
 */
static void
test_read_cap(void **state)
{
	struct fixture f = { 0 };
	size_t n = 4 * TRANSPORT_TCP_PASS_READ_MAX, sent = 0;
	uint8_t *buf = calloc(1, n);
	tr_ns give_up = tr_mono_now() + GIVE_UP;

	(void)state;
	assert_non_null(buf);
	connect_fixture(&f, new_transport(0), 0);
	while (sent < n && tr_mono_now() < give_up) {
		ssize_t w = send(f.peer, buf + sent, n - sent, MSG_NOSIGNAL);

		if (w > 0)
			sent += (size_t)w;
		else
			break;	/* the transport's receive buffer is full: enough */
	}
	assert_true(sent > TRANSPORT_TCP_PASS_READ_MAX);
	assert_true(transport_poll(f.t, tr_mono_now() + 10 * TR_NS_PER_MS) >= 0);
#ifndef TR_FAULT
	assert_true(transport_tcp_stats(f.t, f.id)->bytes_received > 0);
#endif
	assert_true(transport_tcp_stats(f.t, f.id)->bytes_received <=
	    TRANSPORT_TCP_PASS_READ_MAX);
	while (transport_tcp_stats(f.t, f.id)->bytes_received < sent &&
	    tr_mono_now() < give_up)
		assert_true(transport_poll(f.t, tr_mono_now() + TR_NS_PER_MS) >= 0);
	assert_int_equal(transport_tcp_stats(f.t, f.id)->bytes_received, sent);
	transport_free(f.t);
	close_fixture(&f);
	free(buf);
}

/*
 * A collector that does not read: the socket takes part of the queue
 * (short writes, then EAGAIN), the rest waits, and arrives whole once it
 * reads.
 */
static void
test_partial_writes(void **state)
{
	struct fixture f = { 0 };
	size_t n = 2u * 1024 * 1024;

	(void)state;
	connect_fixture(&f, new_transport(4096), 4096);
	send_pattern(&f, 0, n, 1400);
	transport_tcp_flush(f.t);
	for (int i = 0; i < 20; i++)
		assert_true(transport_poll(f.t, tr_mono_now() + TR_NS_PER_MS) >= 0);
	assert_true(transport_tcp_queued(f.t, f.id) > 0);
	assert_true(transport_tcp_stats(f.t, f.id)->bytes_sent < n);
	assert_true(transport_tcp_stalled_since(f.t, f.id) != 0);
	expect_pattern(&f, 0, n);
	assert_int_equal(transport_tcp_queued(f.t, f.id), 0);
	assert_int_equal(transport_tcp_stalled_since(f.t, f.id), 0);
	transport_free(f.t);
	close_fixture(&f);
}

/* Held bytes stay back (BGP's OPEN gate) until the release; what came before goes. */
static void
test_hold_release(void **state)
{
	struct fixture f = { 0 };

	(void)state;
	connect_fixture(&f, new_transport(0), 0);
	send_pattern(&f, 0, 1000, 100);
	transport_tcp_hold(f.t, f.id);
	send_pattern(&f, 1000, 70000, 700);	/* past a write batch: tried at once */
	transport_tcp_flush(f.t);
	expect_pattern(&f, 0, 1000);
	expect_nothing(&f);
	assert_int_equal(transport_tcp_queued(f.t, f.id), 70000);
	transport_tcp_release(f.t, f.id);
	expect_pattern(&f, 1000, 70000);
	transport_free(f.t);
	close_fixture(&f);
}

/*
 * A closed connection's queue kept for another (BGP's retry): less the
 * bytes skipped, with what is queued meanwhile behind, nothing written
 * until another connection adopts it all, after its own bytes.
 */
static void
test_keep_adopt(void **state)
{
	struct transport *t = new_transport(0);
	struct fixture f = { .keep = true, .keep_skip = 1000 }, g = { 0 };
	tr_ns give_up = tr_mono_now() + GIVE_UP;

	(void)state;
	connect_fixture(&f, t, 0);
	transport_tcp_hold(t, f.id);	/* nothing goes: the OPEN gate before any byte */
	send_pattern(&f, 0, 5000, 100);
	transport_tcp_flush(t);
	close(f.peer);
	f.peer = -1;
	while (f.closed == 0 && tr_mono_now() < give_up)
		assert_true(transport_poll(t, tr_mono_now() + TR_NS_PER_MS) >= 0);
	assert_int_equal(f.closed, 1);
	assert_int_equal(transport_tcp_queued(t, f.id), 4000);
	send_pattern(&f, 5000, 1000, 100);	/* queued behind, not written */
	assert_int_equal(transport_tcp_queued(t, f.id), 5000);
	/* Only the skipped bytes are lost to this connection (their owner sends them again). */
	assert_int_equal(transport_tcp_stats(t, f.id)->bytes_lost, 1000);
	connect_fixture(&g, t, 0);
	send_pattern(&g, 0, 1000, 100);	/* the new connection's own first */
	transport_tcp_adopt(t, g.id, f.id);
	assert_int_equal(transport_tcp_queued(t, f.id), 0);
	expect_pattern(&g, 0, 6000);
	transport_free(t);
	close_fixture(&f);
	close_fixture(&g);
}

/*
 * Water marks are per connection: a queue that reaches the high mark says
 * so (its owner holds that session's feed) until it is down to the low
 * mark, told once by `drained`; another connection is not held meanwhile.
 */
static void
test_water_marks(void **state)
{
	struct fixture slow = { 0 }, fast = { 0 };
	struct transport *t = new_transport(4096);
	size_t n = 0;

	(void)state;
	connect_fixture(&slow, t, 4096);
	connect_fixture(&fast, t, 0);
	while (!transport_tcp_above_high(t, slow.id)) {
		send_pattern(&slow, n, 64 * 1024, 1400);
		n += 64 * 1024;
		assert_true(n <= 2 * TRANSPORT_TCP_HIGH_WATER);
	}
	assert_true(transport_tcp_queued(t, slow.id) >= TRANSPORT_TCP_HIGH_WATER);
	send_pattern(&fast, 0, 100000, 1000);
	transport_tcp_flush(t);
	expect_pattern(&fast, 0, 100000);
	assert_false(transport_tcp_above_high(t, fast.id));
	assert_true(transport_tcp_above_high(t, slow.id));
	assert_int_equal(slow.drained, 0);
	assert_int_equal(fast.drained, 0);
	expect_pattern(&slow, 0, n);
	assert_int_equal(slow.drained, 1);
	assert_true(slow.queued_at_drained <= TRANSPORT_TCP_LOW_WATER);
	assert_false(transport_tcp_above_high(t, slow.id));
	transport_free(t);
	close_fixture(&slow);
	close_fixture(&fast);
}

/*
 * The collector closes: the connection is gone with err 0, and nothing is
 * lost.  On the way, the drain's counts: a connection waiting for another
 * counts one unwritten byte with its queue, and both are active until gone.
 */
static void
test_collector_closes(void **state)
{
	struct fixture f = { 0 }, next = { 0 };
	struct tr_addr repro = loopback();
	char err[256];
	tr_ns give_up;

	(void)state;
	connect_fixture(&f, new_transport(0), 0);
	assert_int_equal(transport_tcp_active(f.t), 1);
	next.id = transport_tcp_open(f.t, &repro, "127.0.0.1", f.port, f.id,
	    &next, err, sizeof(err));
	assert_true(next.id >= 0);
	assert_int_equal(transport_tcp_active(f.t), 2);
	assert_int_equal(transport_tcp_unwritten(f.t), 1);
	send_pattern(&f, 0, 5000, 500);
	assert_int_equal(transport_tcp_unwritten(f.t), 5001);
	transport_tcp_flush(f.t);
	expect_pattern(&f, 0, 5000);
	assert_int_equal(transport_tcp_unwritten(f.t), 1);
	transport_tcp_close(f.t, next.id, true);
	assert_int_equal(transport_tcp_active(f.t), 1);
	assert_int_equal(transport_tcp_unwritten(f.t), 0);
	shutdown(f.peer, SHUT_WR);
	give_up = tr_mono_now() + GIVE_UP;
	while (f.closed == 0 && tr_mono_now() < give_up)
		assert_true(transport_poll(f.t, tr_mono_now() + 10 * TR_NS_PER_MS) >=
		    0);
	assert_int_equal(f.closed, 1);
	assert_int_equal(f.closed_err, 0);
	assert_int_equal(transport_tcp_stats(f.t, f.id)->bytes_lost, 0);
	assert_int_equal(transport_tcp_active(f.t), 0);
	transport_free(f.t);
	close_fixture(&f);
}

/*
 * Datagrams of two sockets in sendmmsg batches arrive whole and in order;
 * a datagram that finds its batch waiting for room is refused with EAGAIN
 * and queued again after the loop ran, as the replay does.
 */
static void
test_udp_batches(void **state)
{
	struct transport *t = new_transport(0);
	struct tr_addr repro = loopback();
	uint16_t port;
	int rx = bound_loopback(SOCK_DGRAM, 4 * 1024 * 1024, &port);
	int ids[2];
	char err[256];
	uint8_t buf[2048];
	size_t n = 300;
	tr_ns give_up = tr_mono_now() + GIVE_UP;

	(void)state;
	for (int s = 0; s < 2; s++) {
		ids[s] = transport_udp_open(t, &repro, 0, "127.0.0.1", port, 0,
		    err, sizeof(err));
		assert_true(ids[s] >= 0);
	}
	for (size_t i = 0; i < n; i++) {
		size_t len = 1 + (i * 37) % 1400;

		for (size_t k = 0; k < len; k++)
			buf[k] = pattern_byte(i + k);
		/* Runs of 100 on one socket, then the other: whole and partial batches. */
		while (transport_udp_queue(t, ids[(i / 100) % 2], buf, len) == -1) {
			assert_int_equal(errno, EAGAIN);
			assert_true(transport_poll(t, tr_mono_now() + TR_NS_PER_MS) >=
			    0);
		}
	}
	transport_flush(t);
	while (transport_udp_waiting(t) && tr_mono_now() < give_up)
		assert_true(transport_poll(t, tr_mono_now() + TR_NS_PER_MS) >= 0);
	assert_false(transport_udp_waiting(t));
	for (size_t i = 0; i < n; i++) {
		size_t len = 1 + (i * 37) % 1400;
		ssize_t r = recv(rx, buf, sizeof(buf), MSG_DONTWAIT);

		assert_int_equal(r, (ssize_t)len);
		for (size_t k = 0; k < len; k++)
			assert_int_equal(buf[k], pattern_byte(i + k));
	}
	assert_int_equal(transport_udp_totals(t, 0)->sent, n);
	assert_int_equal(transport_udp_totals(t, 0)->dropped, 0);
	transport_free(t);
	close(rx);
}

#ifdef TR_FAULT
/* The schedule really ran: the tests above met injected faults (when TR_FAULT_SEED asks for them). */
static void
test_faults_were_injected(void **state)
{
	(void)state;
	if (getenv("TR_FAULT_SEED") == NULL)
		skip();
	assert_true(fault_count() > 0);
}
#endif

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_write_after_connect),
		cmocka_unit_test(test_coalesced_messages),
		cmocka_unit_test(test_many_connections),
		cmocka_unit_test(test_pass_cap),
		cmocka_unit_test(test_read_cap),
		cmocka_unit_test(test_partial_writes),
		cmocka_unit_test(test_hold_release),
		cmocka_unit_test(test_keep_adopt),
		cmocka_unit_test(test_water_marks),
		cmocka_unit_test(test_collector_closes),
		cmocka_unit_test(test_udp_batches),
#ifdef TR_FAULT
		cmocka_unit_test(test_faults_were_injected),
#endif
	};

	log_set_level(LOG_LEVEL_WARNING);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
