/* Unit tests of config: golden files, the anchor corpus, and table-driven cases on inline YAML. */
#include <errno.h>
#include <glob.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

/* The repository root: set by CTest; tests run from build/ otherwise. */
static const char *
source_dir(void)
{
	const char *dir = getenv("TR_SOURCE_DIR");

	return dir != NULL && *dir != '\0' ? dir : "..";
}

static char *
read_text(const char *path)
{
	FILE	*f = fopen(path, "r");
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*mem;
	int	 ch;

	if (f == NULL)
		return NULL;
	mem = open_memstream(&buf, &len);
	assert_non_null(mem);
	while ((ch = fgetc(f)) != EOF)
		fputc(ch, mem);
	fclose(mem);
	fclose(f);
	return buf;
}

static char *
print_to_string(const struct config *cfg)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*mem = open_memstream(&buf, &len);

	assert_non_null(mem);
	config_print(mem, cfg);
	fclose(mem);
	return buf;
}

/* A temporary .yml holding text; the caller unlinks it. */
static void
write_temp(const char *text, char *path, size_t len)
{
	int	 fd;
	FILE	*f;

	snprintf(path, len, "/tmp/tr_test_config_XXXXXX.yml");
	fd = mkstemps(path, 4);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* Messages name the file as given; golden files hold it without the folder. */
static void
strip_prefix(char *msg, const char *prefix)
{
	size_t	 n = strlen(prefix);
	char	*p;

	while ((p = strstr(msg, prefix)) != NULL)
		memmove(p, p + n, strlen(p + n) + 1);
}

static void
chomp(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

/* Warnings of one load, one per line, in order. */
struct warnings {
	char	*text;
	size_t	 len;
	FILE	*mem;
};

static void
collect_warning(void *arg, const char *msg)
{
	struct warnings *w = arg;

	fprintf(w->mem, "%s\n", msg);
}

/* Load options that collect warnings into w (warnings_end() to read them). */
static struct config_load_opts
warnings_begin(struct warnings *w, bool strict)
{
	w->text = NULL;
	w->len = 0;
	w->mem = open_memstream(&w->text, &w->len);
	assert_non_null(w->mem);
	return (struct config_load_opts){ .strict = strict,
	    .warn = collect_warning, .warn_arg = w };
}

static char *
warnings_end(struct warnings *w)
{
	fclose(w->mem);
	return w->text;
}

static void
assert_all_zero(const struct config *cfg)
{
	static const struct config zero;

	assert_memory_equal(cfg, &zero, sizeof(zero));
}

/* print -> load -> print must give the same text, without a warning: -n output is a config. */
static void
assert_print_reloads(const char *printed)
{
	struct config		cfg;
	struct warnings		w;
	struct config_load_opts	opts = warnings_begin(&w, false);
	char			path[64], err[1024], *again, *warned;

	write_temp(printed, path, sizeof(path));
	if (config_load(path, &opts, &cfg, err, sizeof(err)) == -1)
		fail_msg("printed config does not load: %s\n%s", err, printed);
	warned = warnings_end(&w);
	assert_string_equal(warned, "");
	free(warned);
	again = print_to_string(&cfg);
	assert_string_equal(again, printed);
	free(again);
	config_free(&cfg);
	unlink(path);
}

static size_t
glob_files(const char *dir, const char *pattern, glob_t *g)
{
	char path[4096];

	if (snprintf(path, sizeof(path), "%s/%s", dir, pattern) >=
	    (int)sizeof(path) || glob(path, 0, NULL, g) != 0) {
		g->gl_pathc = 0;
		return 0;
	}
	return g->gl_pathc;
}

/* ---- golden files: tests/config/ok-* and bad-* ---- */

static void
test_golden_ok(void **state)
{
	char	dir[4096], prefix[4200], expected_path[4096], err[1024];
	glob_t	g;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/tests/config", source_dir());
	snprintf(prefix, sizeof(prefix), "%s/", dir);
	assert_true(glob_files(dir, "ok-*.yml", &g) > 0);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		const char		*yml = g.gl_pathv[i];
		struct config		 cfg;
		struct warnings		 w;
		struct config_load_opts	 opts = warnings_begin(&w, false);
		char			*printed, *expected, *warned, *want;

		snprintf(expected_path, sizeof(expected_path), "%.*s.expected",
		    (int)(strlen(yml) - 4), yml);
		expected = read_text(expected_path);
		if (expected == NULL)
			fail_msg("%s: %s", expected_path, strerror(errno));
		if (config_load(yml, &opts, &cfg, err, sizeof(err)) == -1)
			fail_msg("%s", err);
		/* ok-NAME.warnings holds what the load must warn about; no file, no warning. */
		warned = warnings_end(&w);
		strip_prefix(warned, prefix);
		snprintf(expected_path, sizeof(expected_path), "%.*s.warnings",
		    (int)(strlen(yml) - 4), yml);
		want = read_text(expected_path);
		if (strcmp(warned, want != NULL ? want : "") != 0)
			print_error("%s: warnings differ from %s\n", yml,
			    expected_path);
		assert_string_equal(warned, want != NULL ? want : "");
		free(warned);
		free(want);
		printed = print_to_string(&cfg);
		if (strcmp(printed, expected) != 0)
			print_error("%s: config_print differs from %s\n",
			    yml, expected_path);
		assert_string_equal(printed, expected);
		assert_print_reloads(printed);
		free(printed);
		free(expected);
		config_free(&cfg);
		assert_all_zero(&cfg);
	}
	globfree(&g);
}

/*
 * A bad-*.yml either fails to load or loads and fails the replay check;
 * either way the one message must match bad-*.expected exactly.
 */
static void
test_golden_bad(void **state)
{
	char	dir[4096], prefix[4200], expected_path[4096], err[1024];
	glob_t	g;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/tests/config", source_dir());
	snprintf(prefix, sizeof(prefix), "%s/", dir);
	assert_true(glob_files(dir, "bad-*.yml", &g) > 0);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		const char		*yml = g.gl_pathv[i];
		struct config		 cfg;
		struct warnings		 w;
		struct config_load_opts	 opts = warnings_begin(&w, false);
		char			*expected;
		int			 rc;

		snprintf(expected_path, sizeof(expected_path), "%.*s.expected",
		    (int)(strlen(yml) - 4), yml);
		expected = read_text(expected_path);
		if (expected == NULL)
			fail_msg("%s: %s", expected_path, strerror(errno));
		chomp(expected);
		/* Warnings before the error are not this test's business. */
		rc = config_load(yml, &opts, &cfg, err, sizeof(err));
		free(warnings_end(&w));
		if (rc == 0) {
			if (config_check_replay(&cfg, err, sizeof(err)) == 0)
				fail_msg("%s: loads and passes the replay "
				    "check", yml);
			config_free(&cfg);
		}
		assert_all_zero(&cfg);
		strip_prefix(err, prefix);
		if (strcmp(err, expected) != 0)
			print_error("%s: message differs from %s\n", yml,
			    expected_path);
		assert_string_equal(err, expected);
		free(expected);
	}
	globfree(&g);
}

/* ---- the older tool's own example configs must load unchanged ---- */

static void
test_corpus(void **state)
{
	const char	*corpus = getenv("TR_CORPUS");
	char		 dir[4096], err[1024];
	glob_t		 g;

	(void)state;
	if (corpus == NULL || *corpus == '\0') {
		print_message("TR_CORPUS is not set: skipping the anchor "
		    "example configs\n");
		skip();
	}
	snprintf(dir, sizeof(dir), "%s/anchor/examples", corpus);
	assert_true(glob_files(dir, "*.yml", &g) > 0);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		struct config	 cfg;
		char		*printed;

		if (config_load(g.gl_pathv[i], NULL, &cfg, err, sizeof(err)) == -1)
			fail_msg("%s", err);
		if (config_check_replay(&cfg, err, sizeof(err)) == -1)
			fail_msg("%s", err);
		printed = print_to_string(&cfg);
		assert_print_reloads(printed);
		free(printed);
		config_free(&cfg);
	}
	globfree(&g);

	snprintf(dir, sizeof(dir), "%s/anchor/examples/pcap_processing",
	    corpus);
	assert_true(glob_files(dir, "*.yml", &g) > 0);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		struct config	 cfg;
		char		*printed;

		if (config_load(g.gl_pathv[i], NULL, &cfg, err, sizeof(err)) == -1)
			fail_msg("%s", err);
		assert_true(cfg.pcap_processing.set);
		printed = print_to_string(&cfg);
		assert_print_reloads(printed);
		free(printed);
		config_free(&cfg);
	}
	globfree(&g);
}

/* ---- inline cases: the message after "FILE:" ---- */

struct inline_case {
	const char	*yaml;
	const char	*error;		/* NULL: loads (and prints back) */
	const char	*warnings;	/* when it loads: what it warns, a line each; NULL: none */
};

static const struct inline_case inline_cases[] = {
	{ "pcap: \"null\"\n", NULL, NULL },
	{ "pcap: ~\n",
	    "1:7: pcap: empty; give at least one capture file (pcap or "
	    "pcapng) or remove the key", NULL },
	{ "pcap: [a.pcap, \"<MISSING_PARAM>\"]\n",
	    "1:16: pcap[1]: still <MISSING_PARAM>; fill in a capture file "
	    "path", NULL },
	{ "pcap: a.pcap\nnetwork:\n  map:\n  - src_ip: 192.0.2.1\n",
	    "4:5: network.map[0]: missing required key 'repro_ip'", NULL },
	{ "pcap: a.pcap\nnetwork:\n  map: 192.0.2.1\n",
	    "3:8: network.map: expected a list of src_ip/repro_ip pairs, "
	    "got '192.0.2.1'", NULL },
	{ "pcap: a.pcap\nnetwork:\n  map:\n  - 192.0.2.1\n",
	    "4:5: network.map[0]: expected a mapping with src_ip and "
	    "repro_ip, got '192.0.2.1'", NULL },
	{ "pcap: a.pcap\nnetwork:\n  map:\n  - {src_ip: &s 192.0.2.1, "
	    "repro_ip: *s}\n", NULL, NULL },
	{ "pcap: a.pcap\nnetwork:\n  interface: \"\"\n",
	    "3:14: network.interface: empty; expected a device or VRF name, "
	    "or null", NULL },
	{ "pcap: a.pcap\nnetwork:\n  interface:\n", NULL, NULL },
	{ "pcap: a.pcap\nkeep_open: 1\n",
	    "2:12: keep_open: expected true or false, got '1'", NULL },
	{ "pcap: a.pcap\nkeep_open: ON\nno_sync: Yes\n", NULL, NULL },
	{ "pcap: a.pcap\ntime_factor: .inf\n",
	    "2:14: time_factor: expected a number, got '.inf'", NULL },
	{ "pcap: a.pcap\ntime_factor: nan\n",
	    "2:14: time_factor: expected a number, got 'nan'", NULL },
	{ "pcap: a.pcap\ntime_factor: 1e400\n",
	    "2:14: time_factor: 1e400 is out of range: expected a number from "
	    "0 to 1000000 (1 = real time, 0.01 = 100x faster, 0 = as fast as "
	    "possible)", NULL },
	{ "pcap: a.pcap\ntime_factor: 1000000.5\n",
	    "2:14: time_factor: 1000000.5 is out of range: expected a number "
	    "from 0 to 1000000 (1 = real time, 0.01 = 100x faster, 0 = as fast "
	    "as possible)", NULL },
	{ "pcap: a.pcap\ntime_factor: 1e6\n", NULL, NULL },
	{ "pcap: a.pcap\ntime_factor: 0\n", NULL, NULL },
	{ "pcap: a.pcap\ntime_factor: [1]\n",
	    "2:14: time_factor: expected a number from 0 to 1000000 (1 = real "
	    "time, 0.01 = 100x faster, 0 = as fast as possible), got a list", NULL },
	{ "pcap: a.pcap\ntcp_stall_limit: 0.001\n", NULL, NULL },
	{ "pcap: a.pcap\ntcp_stall_limit: 86400\n", NULL, NULL },
	{ "pcap: a.pcap\ntcp_stall_limit: 86401\n",
	    "2:18: tcp_stall_limit: 86401 is out of range: expected a number "
	    "of seconds > 0 and at most 86400 (how long a TCP session may have "
	    "bytes queued that its connection does not take)", NULL },
	{ "pcap: a.pcap\ntcp_stall_limit: -3\n",
	    "2:18: tcp_stall_limit: -3 is out of range: expected a number of "
	    "seconds > 0 and at most 86400 (how long a TCP session may have "
	    "bytes queued that its connection does not take)", NULL },
	{ "pcap: a.pcap\nstrict: maybe\n",
	    "2:9: strict: expected true or false, got 'maybe'", NULL },
	{ "strict: false\npcap: a.pcap\nstrict: true\n",
	    "3:1: strict: given twice (first at line 1); keep one", NULL },
	{ "pcap: a.pcap\nbmp:\n  collector: {ip: localhost, port: 0}\n",
	    "3:36: bmp.collector.port: 0 is out of range: expected a port "
	    "from 1 to 65535", NULL },
	{ "pcap: a.pcap\nbmp:\n  collector: {ip: bad host, port: 1}\n",
	    "3:19: bmp.collector.ip: 'bad host' is neither an IP address nor "
	    "a hostname", NULL },
	{ "pcap: a.pcap\nbmp:\n  collector: {ip: <MISSING_PARAM>, port: 1}\n",
	    "3:19: bmp.collector.ip: still <MISSING_PARAM>; fill in the "
	    "collector's address or hostname", NULL },
	{ "pcap: a.pcap\nbmp:\n  collector:\n", NULL, NULL },
	{ "pcap: a.pcap\nrepeat: {count: [-1]}\n",
	    "2:18: repeat.count[0]: -1 is out of range: expected how many "
	    "times to play that pcap, 0 to 4294967295", NULL },
	{ "pcap: a.pcap\nrepeat: {count: 2}\n", NULL, NULL },
	/* --loop's exporters (issue 15): loads and prints back when given. */
	{ "pcap: a.pcap\nloop_exporters: shift\nloop_block: 1000\n", NULL,
	    NULL },
	{ "pcap: a.pcap\nloop_exporters: rotate\n",
	    "2:17: loop_exporters: expected same or shift, got 'rotate'",
	    NULL },
	{ "pcap: a.pcap\nloop_block: -1\n",
	    "2:13: loop_block: -1 is out of range: expected how many "
	    "addresses each --loop shifts by, 0 for the number of network.map "
	    "entries", NULL },
	{ "pcap: a.pcap\nrepeat:\n", NULL, NULL },
	{ "pcap: a.pcap\n[a, b]: 1\n",
	    "2:1: a key must be a plain word, got a list", NULL },
	{ "pcap: a.pcap\nbmp:\n  select:\n    foo: 1\n", NULL,
	    "4:5: bmp.select.foo: unknown key 'foo' in 'bmp.select': ignored; "
	    "known keys: ip, udp, tcp, ipfix_h, sflow_h, bmp_h, bgp_h\n" },
	/* Too far from any known key for a suggestion ('x' is 2 edits from 'ip'). */
	{ "pcap: a.pcap\nbmp:\n  select:\n    x: 1\n    tpc: {}\n", NULL,
	    "4:5: bmp.select.x: unknown key 'x' in 'bmp.select': ignored; "
	    "known keys: ip, udp, tcp, ipfix_h, sflow_h, bmp_h, bgp_h\n"
	    "5:5: bmp.select.tpc: unknown key 'tpc' in 'bmp.select' (did you "
	    "mean 'tcp'?): ignored; known keys: ip, udp, tcp, ipfix_h, sflow_h, "
	    "bmp_h, bgp_h\n" },
	/* An unknown key's value is not looked at, whatever it holds. */
	{ "pcap: a.pcap\ngnmi: {collector: [1, {a: b}]}\n", NULL,
	    "2:1: gnmi: unknown key 'gnmi': ignored; known keys: pcap, "
	    "repeat, time_factor, keep_open, no_sync, loop_exporters, "
	    "loop_block, reconnect, "
	    "tcp_stall_limit, strict, optimize, network, ipfix, sflow, bmp, "
	    "bgp, "
	    "udp_generic, tcp_generic, pcap_processing\n" },
	/* x- keys are the user's own at every level, silent even when strict. */
	{ "pcap: a.pcap\nnetwork:\n  x-note: {any: thing}\n  map: []\n"
	    "strict: true\n", NULL, NULL },
	{ "pcap: a.pcap\nnetwork:\n  map: {192.0.2.1: somehost}\n",
	    "3:20: network.map[192.0.2.1]: 'somehost' is not a literal IPv4 or "
	    "IPv6 address (hostnames are not accepted here)", NULL },
	{ "pcap: a.pcap\nnetwork:\n  map: {src_ip: 192.0.2.1}\n",
	    "3:8: network.map: missing required key 'repro_ip'", NULL },
	{ "pcap: a.pcap\nnetwork:\n  map: {repro_ip: 127.0.0.1, src_ip: "
	    "192.0.2.1, note: x}\n", NULL,
	    "3:49: network.map.note: unknown key 'note' in 'network.map': "
	    "ignored; known keys: src_ip, repro_ip\n" },
	{ "pcap: a.pcap\nnetwork:\n  map: {}\n", NULL, NULL },
	{ "pcap: a.pcap\nnetwork:\n  map:\n    x-lab: &lab 192.0.2.1\n"
	    "    *lab : 127.0.0.1\n", NULL, NULL },
	{ "pcap: a.pcap\nnetwork:\n  map:\n  - {src_ip: 192.0.2.1, repro_ip: "
	    "127.0.0.1}\n  - {src_ip: 192.0.2.1, repro_ip: 127.0.0.2}\n  - "
	    "{src_ip: 192.0.2.1, repro_ip: 127.0.0.3}\n", NULL,
	    "5:14: network.map[1].src_ip: 192.0.2.1 is mapped already at line "
	    "4, column 14 (give each src_ip once): the last one wins, as in the "
	    "older tool\n"
	    "6:14: network.map[2].src_ip: 192.0.2.1 is mapped already at line "
	    "5, column 14 (give each src_ip once): the last one wins, as in the "
	    "older tool\n" },
	/*
	 * Families: a hostname is resolved later; select.ip.src keeps other
	 * exporters out; one section that can be reached is enough (the others
	 * fail only the packets that need them, at replay).
	 */
	{ "pcap: a.pcap\nnetwork:\n  map: {2001:db8::1: \"::1\"}\n"
	    "ipfix:\n  collector: {ip: localhost, port: 1}\nudp_generic:\n"
	    "  collector: {ip: 127.0.0.1, port: 2}\n", NULL, NULL },
	{ "pcap: a.pcap\nnetwork:\n  map: {2001:db8::1: \"::1\"}\n"
	    "ipfix:\n  collector: {ip: 192.0.2.9, port: 1}\nudp_generic:\n"
	    "  collector: {ip: 127.0.0.1, port: 2}\n",
	    "3:9: network.map: repro_ip ::1 of exporter 2001:db8::1 is IPv6, "
	    "but the ipfix collector 192.0.2.9 (line 5) is IPv4: none of its "
	    "packets could be sent; give the exporter an IPv4 repro_ip, or the "
	    "collector an IPv6 address", NULL },
	{ "pcap: a.pcap\nnetwork:\n  map: {192.0.2.1: 127.0.0.1}\n"
	    "bmp:\n  collector: {ip: localhost, port: 1}\n", NULL, NULL },
	{ "pcap: a.pcap\nnetwork:\n  map: {192.0.2.1: 127.0.0.1, "
	    "2001:db8::1: \"::1\"}\nbmp:\n  select: {ip: {src: 2001:db8::1}}\n"
	    "  collector: {ip: \"::1\", port: 1}\n", NULL, NULL },
	{ "pcap: a.pcap\nnetwork:\n  map: {192.0.2.1: 127.0.0.1, "
	    "2001:db8::1: \"::1\"}\nbgp:\n  collector: {ip: 2001:db8::2, port: "
	    "179}\n",
	    "3:9: network.map: repro_ip 127.0.0.1 of exporter 192.0.2.1 is "
	    "IPv4, but the bgp collector 2001:db8::2 (line 5) is IPv6: none of "
	    "its packets could be sent; give the exporter an IPv6 repro_ip, or "
	    "the collector an IPv4 address", NULL },
	{ "pcap: a.pcap\ntcp_generic:\n  select:\n    udp: {}\n",
	    "4:5: tcp_generic.select.udp: 'udp' does not apply here: "
	    "tcp_generic rides on TCP; select its ports with 'tcp:'", NULL },
	{ "pcap: a.pcap\nudp_generic:\n  select:\n    tcp:\n",
	    "4:5: udp_generic.select.tcp: 'tcp' does not apply here: "
	    "udp_generic rides on UDP; select its ports with 'udp:'", NULL },
	{ "pcap: a.pcap\nudp_generic:\n  select:\n    ipfix_h: {version: 10}\n",
	    "4:5: udp_generic.select.ipfix_h: 'ipfix_h' does not apply here: "
	    "it selects by the ipfix header and only belongs in the 'ipfix' "
	    "section", NULL },
	{ "pcap: a.pcap\nipfix:\n  select:\n    ip: {src: [10.0.0.1, x]}\n",
	    "4:26: ipfix.select.ip.src[1]: 'x' is not a literal IPv4 or IPv6 "
	    "address (hostnames are not accepted here)", NULL },
	{ "pcap: a.pcap\nipfix:\n  select:\n    udp: {dport: 65536}\n",
	    "4:18: ipfix.select.udp.dport: 65536 is out of range: expected a "
	    "port from 0 to 65535", NULL },
	{ "pcap: a.pcap\nbmp:\n  select:\n    bmp_h: {type: [6, 7]}\n",
	    "4:23: bmp.select.bmp_h.type[1]: 7 is out of range: expected a "
	    "BMP message type from 0 to 6", NULL },
	{ "pcap: a.pcap\npcap_processing:\n  desired_tcp_payload_size: 0\n",
	    "3:29: pcap_processing.desired_tcp_payload_size: 0 is out of "
	    "range: expected a size from 1 to 65535 bytes", NULL },
	{ "pcap: a.pcap\npcap_processing:\n  output_folder: ~\n  exit: no\n",
	    NULL, NULL },
	{ "pcap: a.pcap\n\tnetwork: {}\n",
	    "2:1: YAML syntax error: found a tab character that violates "
	    "indentation while scanning a plain scalar (line 1, column 7)", NULL },
	{ "pcap: \"a\\0b\"\n",
	    "1:7: pcap: contains a NUL character; expected a capture file "
	    "path", NULL },
	{ "pcap: a.pcap\nkeep_open: \"\xff\"\n", "cannot read YAML at byte "
	    "25: invalid leading UTF-8 octet", NULL },
	{ "pcap: a.pcap\nNo_Sync: true\n", NULL,
	    "2:1: No_Sync: unknown key 'No_Sync' (did you mean 'no_sync'?): "
	    "ignored; known keys: pcap, repeat, time_factor, keep_open, "
	    "no_sync, loop_exporters, loop_block, reconnect, tcp_stall_limit, "
	    "strict, optimize, network, "
	    "ipfix, sflow, bmp, bgp, udp_generic, tcp_generic, "
	    "pcap_processing\n" },
};

static void
test_inline_cases(void **state)
{
	int failures = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(inline_cases) / sizeof(*inline_cases);
	    i++) {
		const struct inline_case	*tc = &inline_cases[i];
		struct config			 cfg;
		struct warnings			 w;
		struct config_load_opts		 opts = warnings_begin(&w,
						    false);
		char				 path[64], err[1024];
		char				 prefix[80], *warned;
		int				 rc;

		write_temp(tc->yaml, path, sizeof(path));
		rc = config_load(path, &opts, &cfg, err, sizeof(err));
		warned = warnings_end(&w);
		snprintf(prefix, sizeof(prefix), "%s:", path);
		if (tc->error == NULL) {
			char *printed;

			if (rc == -1)
				fail_msg("case %zu: %s", i, err);
			strip_prefix(warned, prefix);
			if (strcmp(warned, tc->warnings != NULL ?
			    tc->warnings : "") != 0) {
				print_error("case %zu warnings:\n  got      "
				    "%s\n  expected %s\n", i, warned,
				    tc->warnings);
				failures++;
			}
			printed = print_to_string(&cfg);
			assert_print_reloads(printed);
			free(printed);
			config_free(&cfg);
		} else {
			if (rc == 0)
				fail_msg("case %zu loads: %s", i, tc->yaml);
			assert_all_zero(&cfg);
			if (strncmp(err, prefix, strlen(prefix)) != 0)
				fail_msg("case %zu: no file name: %s", i, err);
			strip_prefix(err, prefix);
			memmove(err, err + (err[0] == ' '), strlen(err));
			/* Report every mismatch of the table, then fail. */
			if (strcmp(err, tc->error) != 0) {
				print_error("case %zu:\n  got      %s\n  "
				    "expected %s\n", i, err, tc->error);
				failures++;
			}
		}
		free(warned);
		unlink(path);
	}
	assert_int_equal(failures, 0);
}

/* --strict (opts.strict) is strict: true, whatever the file says, and -n shows it. */
static void
test_strict_option(void **state)
{
	struct config		cfg;
	struct warnings		w;
	struct config_load_opts	opts;
	char			path[64], err[1024], *printed;

	(void)state;
	write_temp("pcap: a.pcap\nstrict: false\nnetwork:\n  vrf: blue\n",
	    path, sizeof(path));
	opts = warnings_begin(&w, true);
	assert_int_equal(config_load(path, &opts, &cfg, err, sizeof(err)), -1);
	free(warnings_end(&w));
	assert_all_zero(&cfg);
	assert_non_null(strstr(err, ":4:3: network.vrf: unknown key 'vrf' in "
	    "'network': refused by --strict; known keys: map, interface"));
	unlink(path);

	write_temp("pcap: a.pcap\nstrict: false\n", path, sizeof(path));
	opts = warnings_begin(&w, true);
	assert_int_equal(config_load(path, &opts, &cfg, err, sizeof(err)), 0);
	free(warnings_end(&w));
	assert_true(cfg.strict);
	printed = print_to_string(&cfg);
	assert_non_null(strstr(printed, "\nstrict: true\n"));
	free(printed);
	config_free(&cfg);
	unlink(path);
}

/* ---- values ---- */

static void
load_text(const char *yaml, struct config *cfg)
{
	char path[64], err[1024];

	write_temp(yaml, path, sizeof(path));
	if (config_load(path, NULL, cfg, err, sizeof(err)) == -1)
		fail_msg("%s", err);
	unlink(path);
}

static void
test_defaults(void **state)
{
	struct config cfg;

	(void)state;
	load_text("pcap: a.pcap\n", &cfg);
	assert_int_equal(cfg.n_pcaps, 1);
	assert_string_equal(cfg.pcaps[0], "a.pcap");
	assert_int_equal(cfg.pcap_pos.line, 1);
	assert_int_equal(cfg.pcap_pos.col, 1);
	assert_false(cfg.has_repeat);
	assert_null(cfg.repeat_count);
	assert_int_equal(cfg.repeat_pattern, REPEAT_ROUND_ROBIN);
	assert_true(cfg.time_factor == 1.0);
	assert_true(cfg.tcp_stall_limit == 30.0);
	assert_false(cfg.strict);
	assert_false(cfg.keep_open);
	assert_false(cfg.no_sync);
	assert_false(cfg.threading);
	assert_false(cfg.preload);
	assert_int_equal(cfg.so_sndbuf, 0);
	assert_int_equal(cfg.so_rcvbuf, 0);
	assert_int_equal(cfg.n_map, 0);
	assert_null(cfg.interface);
	for (int id = 0; id < SECTION_COUNT; id++)
		assert_false(cfg.section[id].enabled);
	assert_false(cfg.pcap_processing.set);
	assert_true(cfg.pcap_processing.initial_delay == 5.0);
	assert_true(cfg.pcap_processing.inter_packet_delay == 0.001);
	assert_true(cfg.pcap_processing.inter_protocol_delay == 1.0);
	assert_null(cfg.pcap_processing.output_folder);
	assert_int_equal(cfg.pcap_processing.desired_tcp_payload_size, 1424);
	assert_true(cfg.pcap_processing.exit);
	assert_non_null(cfg.path);
	config_free(&cfg);
}

static void
test_full_values(void **state)
{
	char			 path[4096], err[1024], buf[TR_ADDR_STRLEN];
	struct config		 cfg;
	const struct cfg_select	*s;

	(void)state;
	snprintf(path, sizeof(path), "%s/tests/config/ok-full.yml",
	    source_dir());
	if (config_load(path, NULL, &cfg, err, sizeof(err)) == -1)
		fail_msg("%s", err);
	assert_int_equal(config_check_replay(&cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.path, path);
	assert_int_equal(cfg.n_pcaps, 3);
	assert_string_equal(cfg.pcaps[1], "captures/b.pcapng");
	assert_true(cfg.has_repeat);
	assert_int_equal(cfg.repeat_count[0], 1);
	assert_int_equal(cfg.repeat_count[1], 0);
	assert_int_equal(cfg.repeat_count[2], 3);
	assert_int_equal(cfg.repeat_pattern, REPEAT_BULK);
	assert_true(cfg.time_factor == 1.0);
	assert_true(cfg.tcp_stall_limit == 2.5);
	assert_true(cfg.keep_open);
	assert_true(cfg.no_sync);
	assert_int_equal(cfg.so_sndbuf, 4194304);
	assert_int_equal(cfg.so_rcvbuf, 0);
	assert_string_equal(cfg.interface, "vrf-blue");

	assert_int_equal(cfg.n_map, 2);
	assert_int_equal(cfg.map_pos.line, 24);
	assert_int_equal(cfg.map_pos.col, 3);
	assert_int_equal(cfg.map[1].pos.line, 27);
	assert_int_equal(cfg.map[1].pos.col, 5);
	assert_string_equal(addr_format(&cfg.map[0].src_ip, buf, sizeof(buf)),
	    "2001:db8::1");
	assert_string_equal(addr_format(&cfg.map[1].repro_ip, buf,
	    sizeof(buf)), "10.0.0.1");

	assert_true(cfg.section[SECTION_IPFIX].enabled);
	assert_int_equal(cfg.section[SECTION_IPFIX].pos.line, 31);
	assert_int_equal(cfg.section[SECTION_IPFIX].pos.col, 1);
	s = &cfg.section[SECTION_IPFIX].select;
	assert_true(s->set);
	assert_true(s->ip_src.set);
	assert_int_equal(s->ip_src.n, 1);
	assert_int_equal(s->ip_dst.n, 2);
	assert_int_equal(s->ip_dst.v[1].family, AF_INET6);
	assert_true(s->udp);
	assert_false(s->tcp);
	assert_int_equal(s->udp_dport.n, 2);
	assert_int_equal(s->udp_dport.v[1], 9995);
	assert_false(s->tcp_dport.set);
	assert_int_equal(s->header[0].n, 3);
	assert_false(s->header[1].set);
	assert_true(cfg.section[SECTION_IPFIX].has_collector);
	assert_string_equal(cfg.section[SECTION_IPFIX].collector_host,
	    "2001:db8::1");
	assert_int_equal(cfg.section[SECTION_IPFIX].collector_port, 4739);
	assert_int_equal(cfg.section[SECTION_IPFIX].collector_pos.line, 43);

	s = &cfg.section[SECTION_BMP].select;
	assert_true(s->tcp);
	assert_int_equal(s->tcp_dport.n, 1);
	assert_int_equal(s->tcp_dport.v[0], 1790);
	assert_int_equal(s->header[0].n, 7);
	assert_string_equal(cfg.section[SECTION_BMP].collector_host,
	    "collector.example.net");

	s = &cfg.section[SECTION_UDP_GENERIC].select;
	assert_true(s->udp);
	assert_false(s->udp_dport.set);
	s = &cfg.section[SECTION_TCP_GENERIC].select;
	assert_true(s->set);
	assert_false(s->tcp);

	assert_true(cfg.pcap_processing.set);
	assert_true(cfg.pcap_processing.initial_delay == 2.5);
	assert_true(cfg.pcap_processing.inter_packet_delay == 0);
	assert_string_equal(cfg.pcap_processing.output_folder,
	    "out dir/segmented");
	assert_int_equal(cfg.pcap_processing.desired_tcp_payload_size, 500);
	assert_false(cfg.pcap_processing.exit);
	config_free(&cfg);
	assert_all_zero(&cfg);
}

static void
test_sections(void **state)
{
	(void)state;
	assert_string_equal(protocols[SECTION_IPFIX]->name, "ipfix");
	assert_string_equal(protocols[SECTION_TCP_GENERIC]->name, "tcp_generic");
	assert_int_equal(protocols[SECTION_IPFIX]->l4proto, IPPROTO_UDP);
	assert_int_equal(protocols[SECTION_UDP_GENERIC]->l4proto, IPPROTO_UDP);
	assert_int_equal(protocols[SECTION_BMP]->l4proto, IPPROTO_TCP);
	assert_int_equal(protocols[SECTION_BGP]->l4proto, IPPROTO_TCP);
	assert_int_equal(protocols[SECTION_TCP_GENERIC]->l4proto, IPPROTO_TCP);
}

static void
test_missing_file(void **state)
{
	struct config	cfg;
	char		err[256];

	(void)state;
	assert_int_equal(config_load("/nonexistent/tr.yml", NULL, &cfg, err,
	    sizeof(err)), -1);
	assert_int_equal(errno, ENOENT);
	assert_string_equal(err, "/nonexistent/tr.yml: cannot open: No such "
	    "file or directory");
	assert_all_zero(&cfg);

	assert_int_equal(config_load("/tmp", NULL, &cfg, err, sizeof(err)), -1);
	assert_string_equal(err, "/tmp: cannot read: Is a directory");
	assert_all_zero(&cfg);
}

/* A short buffer gets a cut but terminated message. */
static void
test_short_error_buffer(void **state)
{
	struct config	cfg;
	char		path[64], err[24];

	(void)state;
	memset(err, 'x', sizeof(err));
	write_temp("pcap: a.pcap\ntime_factor: abc\n", path, sizeof(path));
	assert_int_equal(config_load(path, NULL, &cfg, err, sizeof(err)), -1);
	assert_int_equal(strlen(err), sizeof(err) - 1);
	assert_int_equal(config_load(path, NULL, &cfg, err, 0), -1);
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_ok),
		cmocka_unit_test(test_golden_bad),
		cmocka_unit_test(test_corpus),
		cmocka_unit_test(test_inline_cases),
		cmocka_unit_test(test_strict_option),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_full_values),
		cmocka_unit_test(test_sections),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_short_error_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
