/* generate: the seeded numbers and distributions, the spec parser on good and bad specs (tests/gen/), the oracle and the encoder agreeing. */
#include <errno.h>
#include <math.h>
#include <glob.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "gen_proto.h"
#include "gen_rand.h"
#include "gen_run.h"
#include "gen_spec.h"
#include "writer.h"

/* xoshiro256** seeded by splitmix64 from 0: its first number. */
#define FIRST_OF_SEED_0	UINT64_C(0x99ec5f36cb75f2b4)

static char *
read_text(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf != NULL) {
		buf[n] = '\0';
		if (len != NULL)
			*len = (size_t)n;
	}
	return buf;
}

static const char *
spec_dir(void)
{
	static char dir[4096];
	const char *src = getenv("TR_SOURCE_DIR");

	snprintf(dir, sizeof(dir), "%s/tests/gen", src != NULL ? src : ".");
	return dir;
}

/* ---- numbers ---- */

static void
test_rand_determinism(void **state)
{
	struct gen_rand a, b, c;
	bool differ = false;

	(void)state;
	gen_rand_seed(&a, 42, 1);
	gen_rand_seed(&b, 42, 1);
	gen_rand_seed(&c, 42, 2);
	for (int i = 0; i < 1000; i++) {
		uint64_t x = gen_rand_next(&a);

		assert_int_equal(x, gen_rand_next(&b));
		differ |= x != gen_rand_next(&c);
	}
	assert_true(differ);
	/* A fixed value: the same bytes on every machine and build. */
	gen_rand_seed(&a, 0, 0);
	assert_int_equal(gen_rand_next(&a), FIRST_OF_SEED_0);
}

static void
test_rand_ranges(void **state)
{
	struct gen_rand r;
	uint64_t seen[10] = { 0 };
	double u;

	(void)state;
	gen_rand_seed(&r, 1, 0);
	for (int i = 0; i < 100000; i++) {
		uint64_t v = gen_rand_range(&r, 5, 14);

		assert_true(v >= 5 && v <= 14);
		seen[v - 5]++;
		u = gen_rand_unit(&r);
		assert_true(u >= 0 && u < 1);
	}
	/* Uniform: each of ten values near 10,000 times. */
	for (int i = 0; i < 10; i++)
		assert_true(seen[i] > 9000 && seen[i] < 11000);
	assert_int_equal(gen_rand_range(&r, 7, 7), 7);
	(void)gen_rand_range(&r, 0, UINT64_MAX);
}

/* gen_ln against libm's log, to a few ulps over the range draws use. */
static void
test_ln(void **state)
{
	(void)state;
	for (double x = 0x1.0p-53; x <= 1.0; x *= 1.37)
		assert_true(fabs(gen_ln(x) - log(x)) <= 1e-14 * fabs(log(x)) + 1e-300);
	assert_true(gen_ln(1.0) == 0.0);
	for (double x = 1.0; x < 1e6; x *= 3.1)
		assert_true(fabs(gen_ln(x) - log(x)) <= 1e-14 * fabs(log(x)));
}

static void
test_dists(void **state)
{
	struct gen_rand r;
	struct gen_dist zipf = { .kind = GEN_DIST_ZIPF, .lo = 100, .hi = 199,
	    .s = 1.0 };
	struct gen_dist expo = { .kind = GEN_DIST_EXPONENTIAL, .mean = 50,
	    .lo = 1, .hi = 400 };
	struct gen_dist w = { .kind = GEN_DIST_WEIGHTED, .n = 2 };
	uint64_t first = 0, last = 0, sixes = 0;
	double sum = 0;

	(void)state;
	w.values = calloc(2, sizeof(*w.values));
	w.prob = calloc(2, sizeof(*w.prob));
	assert_non_null(w.values);
	assert_non_null(w.prob);
	w.values[0] = 6;
	w.values[1] = 17;
	w.prob[0] = 9;
	w.prob[1] = 1;
	assert_int_equal(gen_dist_ready(&zipf), 0);
	assert_int_equal(gen_dist_ready(&w), 0);
	gen_rand_seed(&r, 3, 0);
	for (int i = 0; i < 100000; i++) {
		uint64_t z = gen_dist_draw(&zipf, &r);
		uint64_t e = gen_dist_draw(&expo, &r);
		uint64_t v = gen_dist_draw(&w, &r);

		assert_true(z >= 100 && z <= 199);
		first += z == 100;
		last += z == 199;
		assert_true(e >= 1 && e <= 400);
		sum += (double)e;
		assert_true(v == 6 || v == 17);
		sixes += v == 6;
	}
	/* Zipf s=1 over 100 ranks: the first 100 times the last. */
	assert_true(first > 50 * last);
	assert_true(sum / 100000 > 45 && sum / 100000 < 55);
	assert_true(sixes > 89000 && sixes < 91000);
	assert_int_equal(gen_dist_max(&w), 17);
	gen_dist_free(&zipf);
	gen_dist_free(&w);
}

/* ---- specs ---- */

static void
test_bad_specs(void **state)
{
	char pattern[4200], want_path[4200], err[1024];
	glob_t g;

	(void)state;
	snprintf(pattern, sizeof(pattern), "%s/bad-*.yml", spec_dir());
	assert_int_equal(glob(pattern, 0, NULL, &g), 0);
	assert_true(g.gl_pathc > 10);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		const char *path = g.gl_pathv[i];
		const char *name = strrchr(path, '/') + 1;
		struct gen_spec s;
		size_t len = 0;
		char *buf = read_text(path, &len), *want;

		assert_non_null(buf);
		snprintf(want_path, sizeof(want_path), "%.*s.expected",
		    (int)(strlen(path) - 4), path);
		want = read_text(want_path, NULL);
		if (want == NULL)
			fail_msg("%s: %s", want_path, strerror(errno));
		want[strcspn(want, "\n")] = '\0';
		if (gen_spec_load(name, buf, len, &s, err, sizeof(err)) == 0)
			fail_msg("%s loaded", name);
		if (strcmp(err, want) != 0)
			fail_msg("%s:\n got  %s\n want %s", name, err, want);
		free(buf);
		free(want);
	}
	globfree(&g);
}

/* A good spec loads and its oracle is the golden one. */
static void
test_ok_specs(void **state)
{
	char pattern[4200], want_path[4200], err[1024];
	glob_t g;

	(void)state;
	snprintf(pattern, sizeof(pattern), "%s/ok-*.yml", spec_dir());
	assert_int_equal(glob(pattern, 0, NULL, &g), 0);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		const char *path = g.gl_pathv[i];
		const char *name = strrchr(path, '/') + 1;
		struct gen_spec s;
		char *got = NULL, *want;
		size_t got_len = 0;
		FILE *f;

		if (gen_spec_load(name, NULL, 0, &s, err, sizeof(err)) == -1 &&
		    gen_spec_load(path, NULL, 0, &s, err, sizeof(err)) == -1)
			fail_msg("%s: %s", name, err);
		f = open_memstream(&got, &got_len);
		assert_non_null(f);
		assert_int_equal(gen_expect_json(&s, f), 0);
		fclose(f);
		snprintf(want_path, sizeof(want_path), "%.*s.expected",
		    (int)(strlen(path) - 4), path);
		if (getenv("TR_GEN_UPDATE") != NULL) {
			FILE *o = fopen(want_path, "w");

			fputs(got, o);
			fclose(o);
		}
		want = read_text(want_path, NULL);
		if (want == NULL)
			fail_msg("%s: %s", want_path, strerror(errno));
		if (strcmp(got, want) != 0)
			fail_msg("%s: oracle differs from %s:\n%s", name,
			    want_path, got);
		free(got);
		free(want);
		gen_spec_free(&s);
	}
	globfree(&g);
}

/* ---- the encoder against the oracle: streams' messages counted as they come out ---- */

struct tally {
	uint64_t	messages;
	uint64_t	records;	/* IPFIX/v9 data records of the template sets, v5 records */
	uint64_t	templates;
};

static int
tally_emit(struct gen_out *out, size_t len)
{
	struct tally *t = out->run;
	const uint8_t *p = out->buf;
	uint16_t version = be16_load(p);
	size_t off = version == 10 ? 16 : 20;

	t->messages++;
	if (version == 5) {
		t->records += be16_load(p + 2);
		assert_int_equal(len, 24 + 48 * (size_t)be16_load(p + 2));
		return 0;
	}
	if (version == 10)
		assert_int_equal(be16_load(p + 2), len);
	/* Data sets' records from their length and the template's record length (known to the test: 24 bytes below). */
	while (off + 4 <= len) {
		uint16_t id = be16_load(p + off), slen = be16_load(p + off + 4 - 2);

		assert_true(slen >= 4 && off + slen <= len);
		if (id <= 3)
			t->templates++;
		else if (id != 258)	/* the sampling options */
			t->records += (slen - 4u) / 24;
		off += slen;
	}
	assert_int_equal(off, len);
	return 0;
}

static void
test_oracle_matches_encoder(void **state)
{
	static const char spec[] =
	    "duration: 7\ninterval: 0.3\n"
	    "collector: {ip: 127.0.0.1, port: 1}\n"
	    "exporters:\n"
	    "  - {address: 10.0.0.1, domains: [1, 2, 3]}\n"
	    "  - {address: 10.0.0.2}\n"
	    "ipfix:\n  total_rate: 97\n  records_per_message: 5\n"
	    "  template_refresh: 2\n  sampling_interval: 4\n"
	    "  templates:\n"
	    "    - fields: [sourceIPv4Address, destinationIPv4Address, "
	    "flowStartMilliseconds, octetDeltaCount]\n"
	    "    - fields: [sourceIPv4Address, destinationIPv4Address, "
	    "flowEndMilliseconds, packetDeltaCount]\n"
	    "netflow_v9:\n  rate: 13\n  mtu: 150\n"
	    "  templates:\n    - fields: [sourceIPv4Address, "
	    "destinationIPv4Address, flowStartSysUpTime, flowEndSysUpTime, "
	    "octetDeltaCount]\n"
	    "netflow_v5:\n  rate: 71\n";
	char err[1024];
	struct gen_spec s;
	uint8_t buf[65536];

	(void)state;
	if (gen_spec_load("inline", spec, sizeof(spec) - 1, &s, err,
	    sizeof(err)) == -1)
		fail_msg("%s", err);
	for (size_t j = 0; j < s.n_sections; j++) {
		const struct gen_section *sec = &s.sections[j];

		for (size_t i = 0; i < s.n_exporters; i++) {
			const struct gen_exporter *ex = &s.exporters[i];
			struct gen_counts want;
			struct tally t = { 0 };
			struct gen_out out = { .buf = buf, .cap = sizeof(buf),
			    .emit = tally_emit, .run = &t };
			void *st = sec->gen->stream_new(sec->conf, &s, ex,
			    ex->domains[0]);

			assert_non_null(st);
			for (uint64_t k = 0; k < gen_spec_ticks(&s); k++)
				assert_int_equal(sec->gen->tick(st, k,
				    s.start + (tr_ns)k * 300000000, &out), 0);
			sec->gen->stream_free(st);
			sec->gen->expect(sec->conf, &s, ex->n_domains, &want);
			assert_int_equal(t.messages, want.messages);
			assert_int_equal(t.records, want.flows);
			if (j < 2)
				assert_true(t.templates >= want.templates);
		}
	}
	gen_spec_free(&s);
}

/* ---- BMP: the messages of tests/gen/ok-bmp.yml's streams (Peer Down/Up cycles included) read back and counted against its oracle ---- */

struct bmp_tally {
	uint64_t	messages, peer_up, peer_down, route_monitoring, prefixes;
	uint64_t	withdrawn;
	uint64_t	end_of_rib, stats, last_type;
};

/* Prefixes from p to end, each a length byte and the bytes that hold it. */
static uint64_t
count_prefixes(const uint8_t *p, const uint8_t *end)
{
	uint64_t n = 0;

	while (p < end) {
		p += 1 + (p[0] + 7) / 8;
		n++;
	}
	assert_true(p == end);
	return n;
}

static int
bmp_tally_emit(struct gen_out *out, size_t len)
{
	struct bmp_tally *t = out->run;
	const uint8_t *m = out->buf, *u, *a, *end;
	uint64_t ann = 0, wd = 0;
	size_t wlen, alen;

	assert_int_equal(m[0], 3);
	assert_int_equal(be32_load(m + 1), len);
	t->messages++;
	t->last_type = m[5];
	if (m[5] == 3)
		t->peer_up++;
	if (m[5] == 2)
		t->peer_down++;
	if (m[5] == 1)
		t->stats++;
	if (m[5] != 0)
		return 0;
	/* Route Monitoring: the common header, the per-peer header, one UPDATE. */
	t->route_monitoring++;
	u = m + 6 + 42;
	assert_int_equal(be16_load(u + 16), len - 48);
	assert_int_equal(u[18], 2);
	assert_true(len - 48 <= 4096);
	wlen = be16_load(u + 19);
	wd += count_prefixes(u + 21, u + 21 + wlen);
	alen = be16_load(u + 21 + wlen);
	a = u + 23 + wlen;
	end = a + alen;
	while (a < end) {
		size_t hl = (a[0] & 0x10) ? 4 : 3;
		size_t l = (a[0] & 0x10) ? be16_load(a + 2) : a[2];

		if (a[1] == 14)		/* MP_REACH: AFI, SAFI, next hop, reserved */
			ann += count_prefixes(a + hl + 5 + a[hl + 3],
			    a + hl + l);
		if (a[1] == 15)		/* MP_UNREACH: AFI, SAFI */
			wd += count_prefixes(a + hl + 3, a + hl + l);
		a += hl + l;
	}
	assert_true(a == end);
	ann += count_prefixes(end, m + len);
	t->end_of_rib += ann == 0 && wd == 0;
	t->prefixes += ann;
	t->withdrawn += wd;
	return 0;
}

static void
test_bmp_oracle_matches_encoder(void **state)
{
	char path[4200], err[1024];
	struct gen_spec s;
	static uint8_t buf[65536];

	(void)state;
	snprintf(path, sizeof(path), "%s/ok-bmp.yml", spec_dir());
	if (gen_spec_load(path, NULL, 0, &s, err, sizeof(err)) == -1)
		fail_msg("%s", err);
	for (size_t i = 0; i < s.n_exporters; i++) {
		const struct gen_section *sec = &s.sections[0];
		struct bmp_tally t = { 0 };
		struct gen_out out = { .buf = buf, .cap = sizeof(buf),
		    .emit = bmp_tally_emit, .run = &t };
		struct gen_counts want;
		void *st = sec->gen->stream_new(sec->conf, &s, &s.exporters[i],
		    s.exporters[i].domains[0]);

		assert_non_null(st);
		for (uint64_t k = 0; k < gen_spec_ticks(&s); k++)
			assert_int_equal(sec->gen->tick(st, k,
			    s.start + (tr_ns)k * 500000000, &out), 0);
		sec->gen->stream_free(st);
		sec->gen->expect(sec->conf, &s, s.exporters[i].n_domains,
		    &want);
		assert_int_equal(t.messages, want.messages);
		assert_int_equal(t.peer_up, want.peer_up);
		assert_int_equal(t.peer_down, want.peer_down);
		assert_true(want.peer_down > 0);
		assert_int_equal(t.route_monitoring, want.route_monitoring);
		assert_int_equal(t.prefixes, want.prefixes);
		assert_int_equal(t.withdrawn, want.withdrawn);
		assert_int_equal(t.end_of_rib, want.end_of_rib);
		assert_int_equal(t.stats, want.stats);
		assert_int_equal(t.last_type, 5);	/* Termination */
	}
	gen_spec_free(&s);
}

/* ---- BGP: tests/gen/ok-bgp.yml's sessions read back (both directions) against its oracle ---- */

struct bgp_tally {
	uint64_t	messages, opens, replies, updates, prefixes, withdrawn;
	uint64_t	end_of_rib;
};

/* An UPDATE's prefixes announced and withdrawn, IPv4 fields and MP attributes alike. */
static void
count_update(const uint8_t *u, size_t len, uint64_t *ann, uint64_t *wd)
{
	size_t wlen = be16_load(u + 19), alen = be16_load(u + 21 + wlen);
	const uint8_t *a = u + 23 + wlen, *end = a + alen;

	*wd = count_prefixes(u + 21, u + 21 + wlen);
	*ann = 0;
	while (a < end) {
		size_t hl = (a[0] & 0x10) ? 4 : 3;
		size_t l = (a[0] & 0x10) ? be16_load(a + 2) : a[2];

		if (a[1] == 14)
			*ann += count_prefixes(a + hl + 5 + a[hl + 3],
			    a + hl + l);
		if (a[1] == 15)
			*wd += count_prefixes(a + hl + 3, a + hl + l);
		a += hl + l;
	}
	assert_true(a == end);
	*ann += count_prefixes(end, u + len);
}

static int
bgp_tally_emit(struct gen_out *out, size_t len)
{
	struct bgp_tally *t = out->run;
	const uint8_t *m = out->buf;
	uint64_t ann, wd;

	assert_int_equal(be16_load(m + 16), len);
	assert_true(len <= 4096);
	t->messages++;
	t->opens += m[18] == 1;
	if (m[18] != 2)
		return 0;
	t->updates++;
	count_update(m, len, &ann, &wd);
	t->prefixes += ann;
	t->withdrawn += wd;
	t->end_of_rib += ann == 0 && wd == 0;
	return 0;
}

static int
bgp_tally_reply(struct gen_out *out, size_t len)
{
	struct bgp_tally *t = out->run;

	(void)len;
	t->replies++;
	return 0;
}

static void
test_bgp_oracle_matches_encoder(void **state)
{
	char path[4200], err[1024];
	struct gen_spec s;
	static uint8_t buf[65536];

	(void)state;
	snprintf(path, sizeof(path), "%s/ok-bgp.yml", spec_dir());
	if (gen_spec_load(path, NULL, 0, &s, err, sizeof(err)) == -1)
		fail_msg("%s", err);
	for (size_t i = 0; i < s.n_exporters; i++) {
		const struct gen_section *sec = &s.sections[0];
		struct bgp_tally t = { 0 };
		struct gen_out out = { .buf = buf, .cap = sizeof(buf),
		    .emit = bgp_tally_emit, .reply = bgp_tally_reply,
		    .run = &t };
		struct gen_counts want;
		void *st = sec->gen->stream_new(sec->conf, &s, &s.exporters[i],
		    s.exporters[i].domains[0]);

		assert_non_null(st);
		for (uint64_t k = 0; k < gen_spec_ticks(&s); k++)
			assert_int_equal(sec->gen->tick(st, k,
			    s.start + (tr_ns)k * 500000000, &out), 0);
		sec->gen->stream_free(st);
		sec->gen->expect(sec->conf, &s, s.exporters[i].n_domains,
		    &want);
		assert_int_equal(t.messages, want.messages);
		assert_int_equal(t.opens, 1);
		assert_true(t.replies >= 1);
		assert_int_equal(t.updates, want.updates);
		assert_int_equal(t.prefixes, want.prefixes);
		assert_int_equal(t.withdrawn, want.withdrawn);
		assert_int_equal(t.end_of_rib, want.end_of_rib);
	}
	gen_spec_free(&s);
}

/* Hostile bytes: the parser fails cleanly, never crashes (the fuzzer does more). */
static void
test_garbage(void **state)
{
	static const char *const inputs[] = {
		"", "- 1\n- 2\n", "a: [", "&a [*a, *a]", "duration: -5\n",
		"exporters: {count: 0, address: 1.2.3.4}\n",
		"ipfix: {templates: [{fields: [{}]}]}\n",
		"ipfix: {templates: [{fields: [{a: 1, b: 2}]}]}\n",
	};
	char err[1024];
	struct gen_spec s;

	(void)state;
	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++)
		assert_int_equal(gen_spec_load("x.yml", inputs[i],
		    strlen(inputs[i]), &s, err, sizeof(err)), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rand_determinism),
		cmocka_unit_test(test_rand_ranges),
		cmocka_unit_test(test_ln),
		cmocka_unit_test(test_dists),
		cmocka_unit_test(test_bad_specs),
		cmocka_unit_test(test_ok_specs),
		cmocka_unit_test(test_oracle_matches_encoder),
		cmocka_unit_test(test_bmp_oracle_matches_encoder),
		cmocka_unit_test(test_bgp_oracle_matches_encoder),
		cmocka_unit_test(test_garbage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
