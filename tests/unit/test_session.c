/*
 * Unit tests of the session table on real loopback sockets: a slow
 * collector holds back its session (its messages wait in the one queue,
 * the connection's, past the high water mark) and every message still
 * arrives, in order;
 * a collector that closes the connection gets a new one that starts with
 * the BMP Initiation (reconnect); BGP messages wait behind the OPEN until
 * the collector answers it (the OPEN gate).  Under -DTR_FAULT=ON (make test-fault)
 * the socket calls also fail and fall short on a seeded schedule.
 * Nothing here is timed: waits give up after GIVE_UP, as a failure.
 */
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
#include <sys/socket.h>
#include <unistd.h>

#include "bgp.h"
#include "bmp.h"
#include "config.h"
#include "report.h"
#include "session.h"
#include "transport.h"

#define GIVE_UP		(20 * TR_NS_PER_SEC)
#define MSG_LEN		1000
#define EXPORTER_PORT	40000
#define COLLECTOR_PORT	1790

struct harness {
	struct config		 cfg;
	struct cfg_map_entry	 map;
	struct report		 rep;
	struct sessions		*t;
	struct transport	*tp;
	int			 listen_fd;
	int			 section;
	uint32_t		 seq;		/* the exporter's next sequence number */
	uint64_t		 frame;
};

static volatile sig_atomic_t never_stop;
/* tcp_stall_limit of the next harness, seconds. */
static double stall_limit = 30;

static struct tr_addr
addr4(const char *s)
{
	struct tr_addr a = { .family = AF_INET };

	assert_int_equal(inet_pton(AF_INET, s, &a.v4), 1);
	return a;
}

/* A section (BMP, BGP) to a listener of ours on 127.0.0.1, from exporter 192.0.2.1 mapped to 127.0.0.1. */
static void
harness_start(struct harness *h, int section, bool reconnect)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	struct transport_opts o = { .stop = &never_stop };
	int small = 4096;

	memset(h, 0, sizeof(*h));
	h->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	assert_true(h->listen_fd >= 0);
	/* A small window, so that the replay's queue fills while the collector does not read. */
	assert_int_equal(setsockopt(h->listen_fd, SOL_SOCKET, SO_RCVBUF, &small,
	    sizeof(small)), 0);
	assert_int_equal(bind(h->listen_fd, (struct sockaddr *)&sin,
	    sizeof(sin)), 0);
	assert_int_equal(getsockname(h->listen_fd, (struct sockaddr *)&sin,
	    &len), 0);
	assert_int_equal(listen(h->listen_fd, 4), 0);

	h->map.src_ip = addr4("192.0.2.1");
	h->map.repro_ip = addr4("127.0.0.1");
	h->cfg.map = &h->map;
	h->cfg.n_map = 1;
	h->cfg.time_factor = 0;
	h->cfg.tcp_stall_limit = stall_limit;
	h->cfg.so_sndbuf = 4096;
	h->section = section;
	h->cfg.section[section].enabled = true;
	h->cfg.section[section].has_collector = true;
	h->cfg.section[section].collector_host = "127.0.0.1";
	h->cfg.section[section].collector_port = ntohs(sin.sin_port);
	report_init(&h->rep, &h->cfg, false);
	h->t = sessions_new(&h->cfg, reconnect, &h->rep);
	assert_non_null(h->t);
	o.so_sndbuf = h->cfg.so_sndbuf;
	o.tcp = sessions_tcp_events();
	h->tp = transport_new(&o);
	assert_non_null(h->tp);
	sessions_attach(h->t, h->tp);
}

static void
harness_stop(struct harness *h)
{
	sessions_free(h->t);
	transport_free(h->tp);
	report_free(&h->rep);
	close(h->listen_fd);
}

/* One captured segment of the exporter's side. */
static void
push_segment(struct harness *h, uint8_t flags, const uint8_t *data, size_t len)
{
	struct tr_packet pkt = {
		.frame = ++h->frame,
		.ts = (tr_ns)h->frame * TR_NS_PER_MS,
		.src = addr4("192.0.2.1"),
		.dst = addr4("198.51.100.1"),
		.l4proto = TR_IPPROTO_TCP,
		.sport = EXPORTER_PORT,
		.dport = COLLECTOR_PORT,
		.tcp_seq = h->seq,
		.tcp_flags = flags,
		.payload = data,
		.payload_len = len,
	};

	assert_int_equal(sessions_push(h->t, h->section, 0, &pkt), 0);
	h->seq += (uint32_t)len + ((flags & (TR_TCP_SYN | TR_TCP_FIN)) != 0);
}

/* BMP message i of a session: an Initiation first, then route monitoring, each with its own pattern. */
static void
bmp_message(uint8_t *msg, size_t i)
{
	msg[0] = BMP_VERSION;
	msg[1] = msg[2] = 0;
	msg[3] = MSG_LEN >> 8;
	msg[4] = MSG_LEN & 0xff;
	msg[5] = i == 0 ? BMP_INITIATION : 0;
	for (size_t k = BMP_COMMON_HDR_LEN; k < MSG_LEN; k++)
		msg[k] = (uint8_t)(i * 7 + k);
}

/* Serve the loop as the replay does between packets and at the end. */
static void
serve(struct harness *h)
{
	tr_ns next = sessions_tick(h->t, tr_mono_now());
	tr_ns soon = tr_mono_now() + TR_NS_PER_MS;

	transport_tcp_flush(h->tp);
	assert_true(transport_poll(h->tp, next < soon ? next : soon) >= 0);
}

/* Serve the loop until *counter is no longer `was`. */
static void
serve_until_changed(struct harness *h, const uint64_t *counter, uint64_t was)
{
	tr_ns give_up = tr_mono_now() + GIVE_UP;

	while (*counter == was && tr_mono_now() < give_up)
		serve(h);
	assert_true(*counter != was);
}

/* The end of the run: every connection closes once its queue is written. */
static void
close_all(struct harness *h)
{
	tr_ns give_up = tr_mono_now() + GIVE_UP;

	sessions_close_all(h->t);
	while (sessions_active(h->t) > 0 && tr_mono_now() < give_up)
		serve(h);
	assert_int_equal(sessions_active(h->t), 0);
}

/* Accept the replay's next connection, serving the loop meanwhile. */
static int
accept_connection(struct harness *h)
{
	tr_ns give_up = tr_mono_now() + GIVE_UP;
	int fd;

	while ((fd = accept4(h->listen_fd, NULL, NULL,
	    SOCK_NONBLOCK | SOCK_CLOEXEC)) == -1 && tr_mono_now() < give_up) {
		assert_true(errno == EAGAIN || errno == EINTR);
		serve(h);
	}
	assert_true(fd >= 0);
	return fd;
}

/* Read n bytes at the collector's end while the loop runs, and check they are messages from..from+n/MSG_LEN. */
static void
expect_messages(struct harness *h, int fd, size_t from, size_t n)
{
	static uint8_t got[64 * MSG_LEN];
	uint8_t want[MSG_LEN];
	size_t have = 0, msg = from;
	tr_ns give_up = tr_mono_now() + GIVE_UP;

	while (msg < from + n && tr_mono_now() < give_up) {
		ssize_t r = recv(fd, got + have, sizeof(got) - have, 0);

		if (r <= 0) {
			assert_true(r == -1 && (errno == EAGAIN || errno == EINTR));
			serve(h);
			continue;
		}
		have += (size_t)r;
		while (have >= MSG_LEN) {
			bmp_message(want, msg);
			if (memcmp(got, want, MSG_LEN) != 0)
				fail_msg("message %zu is wrong", msg);
			memmove(got, got + MSG_LEN, have - MSG_LEN);
			have -= MSG_LEN;
			msg++;
		}
	}
	assert_int_equal(msg, from + n);
	assert_int_equal(have, 0);
}

/* The capture's session: a SYN, then n messages from `from`, each in its own segment. */
static void
push_messages(struct harness *h, size_t from, size_t n)
{
	uint8_t msg[MSG_LEN];

	for (size_t i = from; i < from + n; i++) {
		bmp_message(msg, i);
		push_segment(h, TR_TCP_ACK | TR_TCP_PSH, msg, sizeof(msg));
	}
}

/*
 * More than the high water mark for a collector that reads nothing at
 * first: the rest is held in the connection's queue (said once, not yet
 * the bound that makes the replay wait), written as the collector reads,
 * and the collector gets every message once, in order; nothing is lost.
 */
static void
test_hold_release(void **state)
{
	struct harness h;
	size_t n = 2 * TRANSPORT_TCP_HIGH_WATER / MSG_LEN + 100;
	int fd;

	(void)state;
	harness_start(&h, SECTION_BMP, false);
	push_segment(&h, TR_TCP_SYN, NULL, 0);
	push_messages(&h, 0, n);
	assert_int_equal(h.rep.tcp_sessions_held, 1);
	assert_false(sessions_held_full(h.t));
	fd = accept_connection(&h);
	expect_messages(&h, fd, 0, n);
	close_all(&h);
	assert_int_equal(h.rep.section[SECTION_BMP].sent, n);
	assert_int_equal(h.rep.tcp_lost_bytes, 0);
	close(fd);
	harness_stop(&h);
}

/*
 * The collector closes the connection: with reconnect on, a new one comes
 * after the backoff (its timer in the heap), the Initiation first, then the
 * messages captured after the reconnect.
 */
static void
test_reconnect(void **state)
{
	struct harness h;
	int fd;

	(void)state;
	harness_start(&h, SECTION_BMP, true);
	push_segment(&h, TR_TCP_SYN, NULL, 0);
	push_messages(&h, 0, 10);
	fd = accept_connection(&h);
	expect_messages(&h, fd, 0, 10);
	close(fd);
	serve_until_changed(&h, &h.rep.tcp_closed_by_collector, 0);
	fd = accept_connection(&h);
	assert_int_equal(h.rep.tcp_reconnects, 1);
	expect_messages(&h, fd, 0, 1);	/* the Initiation again */
	push_messages(&h, 10, 5);
	expect_messages(&h, fd, 10, 5);
	close_all(&h);
	close(fd);
	harness_stop(&h);
}

/* A BGP message of `len` bytes: the marker, its length and type, then zeros (an OPEN: version 4, AS 65000, hold time 0). */
static void
bgp_message(uint8_t *msg, size_t len, uint8_t type)
{
	memset(msg, 0, len);
	memset(msg, 0xff, 16);
	msg[17] = (uint8_t)len;
	msg[18] = type;
	if (type == BGP_OPEN) {
		msg[19] = 4;
		msg[20] = 65000 >> 8;
		msg[21] = 65000 & 0xff;
		msg[24] = 192;	/* BGP identifier 192.0.2.1 */
		msg[26] = 2;
		msg[27] = 1;
	}
}

/* Read exactly n bytes at the collector's end while the loop runs. */
static void
read_bytes(struct harness *h, int fd, uint8_t *buf, size_t n)
{
	size_t have = 0;
	tr_ns give_up = tr_mono_now() + GIVE_UP;

	while (have < n && tr_mono_now() < give_up) {
		ssize_t r = recv(fd, buf + have, n - have, 0);

		if (r > 0)
			have += (size_t)r;
		else {
			assert_true(r == -1 && (errno == EAGAIN || errno == EINTR));
			serve(h);
		}
	}
	assert_int_equal(have, n);
}

/*
 * The BGP OPEN gate: the OPEN goes out, the UPDATEs behind it wait until
 * the collector's OPEN answers it, then they follow, whole and in order.
 */
static void
test_bgp_open_gate(void **state)
{
	enum { OPEN_LEN = 29, UPDATE_LEN = 23, UPDATES = 3 };
	struct harness h;
	uint8_t open[OPEN_LEN], update[UPDATE_LEN], got[OPEN_LEN];
	uint8_t byte;
	int fd;

	(void)state;
	harness_start(&h, SECTION_BGP, false);
	bgp_message(open, sizeof(open), BGP_OPEN);
	bgp_message(update, sizeof(update), BGP_UPDATE);
	push_segment(&h, TR_TCP_SYN, NULL, 0);
	push_segment(&h, TR_TCP_ACK | TR_TCP_PSH, open, sizeof(open));
	for (int i = 0; i < UPDATES; i++)
		push_segment(&h, TR_TCP_ACK | TR_TCP_PSH, update,
		    sizeof(update));
	fd = accept_connection(&h);
	read_bytes(&h, fd, got, OPEN_LEN);
	assert_memory_equal(got, open, OPEN_LEN);
	/* Not a timed assertion: the loop runs, and nothing may pass the gate. */
	for (int i = 0; i < 20; i++)
		serve(&h);
	assert_int_equal(recv(fd, &byte, 1, 0), -1);
	assert_true(errno == EAGAIN);
	assert_int_equal(send(fd, open, sizeof(open), 0), (ssize_t)sizeof(open));
	for (int i = 0; i < UPDATES; i++) {
		read_bytes(&h, fd, got, UPDATE_LEN);
		assert_memory_equal(got, update, UPDATE_LEN);
	}
	close_all(&h);
	assert_int_equal(h.rep.section[SECTION_BGP].sent, 1 + UPDATES);
	close(fd);
	harness_stop(&h);
}

/*
 * A BGP collector that closes the connection before it answers the OPEN
 * refuses the peer for now: the messages behind the OPEN stay in the
 * closed connection's queue (kept by the transport, with what the capture
 * brings meanwhile), and after the backoff a new connection sends the OPEN
 * again, then, once answered, all of them, once; nothing is lost.
 */
static void
test_bgp_refused_retry(void **state)
{
	enum { OPEN_LEN = 29, UPDATE_LEN = 23, UPDATES = 3 };
	struct harness h;
	uint8_t open[OPEN_LEN], update[UPDATE_LEN], got[OPEN_LEN];
	int fd;

	(void)state;
	harness_start(&h, SECTION_BGP, true);
	bgp_message(open, sizeof(open), BGP_OPEN);
	bgp_message(update, sizeof(update), BGP_UPDATE);
	push_segment(&h, TR_TCP_SYN, NULL, 0);
	push_segment(&h, TR_TCP_ACK | TR_TCP_PSH, open, sizeof(open));
	for (int i = 0; i < UPDATES - 1; i++)
		push_segment(&h, TR_TCP_ACK | TR_TCP_PSH, update,
		    sizeof(update));
	fd = accept_connection(&h);
	read_bytes(&h, fd, got, OPEN_LEN);
	assert_memory_equal(got, open, OPEN_LEN);
	close(fd);
	serve_until_changed(&h, &h.rep.bgp_open_refusals, 0);
	assert_int_equal(sessions_retrying(h.t), 1);
	/* Captured while the session waits for its retry: queued behind the others. */
	push_segment(&h, TR_TCP_ACK | TR_TCP_PSH, update, sizeof(update));
	fd = accept_connection(&h);
	read_bytes(&h, fd, got, OPEN_LEN);
	assert_memory_equal(got, open, OPEN_LEN);
	assert_int_equal(send(fd, open, sizeof(open), 0), (ssize_t)sizeof(open));
	for (int i = 0; i < UPDATES; i++) {
		read_bytes(&h, fd, got, UPDATE_LEN);
		assert_memory_equal(got, update, UPDATE_LEN);
	}
	close_all(&h);
	assert_int_equal(h.rep.tcp_reconnects, 1);
	assert_int_equal(h.rep.section[SECTION_BGP].sent, 1 + UPDATES);
	assert_int_equal(h.rep.tcp_lost_bytes, 0);
	close(fd);
	harness_stop(&h);
}

/*
 * A collector that accepts and never reads: once the connection has taken
 * nothing for tcp_stall_limit, the session's timer (no scan) ends it, and
 * the messages it still had count as not sent.
 */
static void
test_stall_limit(void **state)
{
	struct harness h;
	int fd;

	(void)state;
	stall_limit = 1;
	harness_start(&h, SECTION_BMP, false);
	stall_limit = 30;
	push_segment(&h, TR_TCP_SYN, NULL, 0);
	push_messages(&h, 0, 200);	/* far more than both socket buffers */
	fd = accept_connection(&h);
	serve_until_changed(&h, &h.rep.tcp_sessions_stalled, 0);
	assert_true(h.rep.section[SECTION_BMP].dropped > 0);
	assert_int_equal(h.rep.section[SECTION_BMP].sent +
	    h.rep.section[SECTION_BMP].dropped, 200);
	close_all(&h);
	close(fd);
	harness_stop(&h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hold_release),
		cmocka_unit_test(test_reconnect),
		cmocka_unit_test(test_bgp_open_gate),
		cmocka_unit_test(test_bgp_refused_retry),
		cmocka_unit_test(test_stall_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
