/* Loads the YAML config (the older Python tool's schema) with libyaml, validates it, fills in defaults and prints it back. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <yaml.h>

#include "config.h"
#include "log.h"

const char *const loop_exporters_names[2] = {
	[LOOP_EXPORTERS_SAME] = "same",
	[LOOP_EXPORTERS_SHIFT] = "shift",
};

const char *const repeat_pattern_names[2] = {
	[REPEAT_ROUND_ROBIN] = "round-robin",
	[REPEAT_BULK] = "bulk",
};

const char *const templates_names[3] = {
	[TEMPLATES_PRIME] = "prime",
	[TEMPLATES_AS_CAPTURED] = "as-captured",
	[TEMPLATES_DROP_ORPHANS] = "drop-orphans",
};

const char *const agent_address_names[2] = {
	[AGENT_ADDRESS_AS_CAPTURED] = "as-captured",
	[AGENT_ADDRESS_REPRO_IP] = "repro_ip",
};

const char *const sequence_names[2] = {
	[SEQUENCE_AS_CAPTURED] = "as-captured",
	[SEQUENCE_CONTINUE] = "continue",
};

const char *const timestamps_names[2] = {
	[TIMESTAMPS_AS_CAPTURED] = "as-captured",
	[TIMESTAMPS_SHIFT] = "shift",
};

#define KEYPATH_MAX		256
/* Longest scalar quoted back in a message; longer ones are cut. */
#define QUOTE_MAX		64

/* Defaults of pcap_processing, the same as the older tool's. */
#define PP_INITIAL_DELAY	5.0
#define PP_INTER_PACKET_DELAY	0.001
#define PP_INTER_PROTOCOL_DELAY	1.0
#define PP_TCP_PAYLOAD_SIZE	1424

/* Everything one load needs, passed down explicitly (no global state). */
struct ctx {
	const char		*file;
	yaml_document_t		*doc;
	struct config		*cfg;
	char			*err;
	size_t			 errlen;
	char			 keypath[KEYPATH_MAX];	/* where we are, for messages */
	size_t			 keylen;
	enum section_id		 section;	/* the protocol section being walked */
	yaml_node_t		*repeat_count;	/* for the check against pcap */
	size_t			 n_repeat_count;
	yaml_node_t		*tcp_payload_key; /* to refuse both spellings */
	const struct config_load_opts *opts;	/* never NULL */
	bool			 strict;	/* warnings are errors */
	char			 strict_why[64]; /* "refused by --strict" */
};

/*
 * One row per key a mapping may hold.  The handler gets the address of the
 * field at `off` inside the object the mapping fills, and `arg` for what
 * differs between keys sharing a handler (ranges, nested tables).
 */
struct key_rule {
	const char	*key;
	int		(*fn)(struct ctx *, yaml_node_t *key, yaml_node_t *val,
			    void *field, const void *arg);
	size_t		 off;
	const void	*arg;
	bool		 required;
};

/* A nested mapping that fills the same object as the mapping around it. */
struct submap {
	const struct key_rule	*rules;
	size_t			 n;
};

struct transport_rule {
	uint8_t			 proto;
	const char		*other;		/* the selector to use instead */
	size_t			 flag_off;	/* bool in struct cfg_select */
	struct submap		 map;
};

struct header_rule {
	enum section_id		 only;
	struct submap		 map;
};

struct u32_spec {
	uint32_t	 lo, hi;
	uint64_t	 only;		/* if not 0: the values allowed, as bits */
	const char	*what;		/* "a port from 0 to 65535" */
};

struct double_spec {
	double		 lo, hi;	/* hi: HUGE_VAL for no bound */
	bool		 lo_open;	/* lo itself is refused */
	const char	*what;		/* "a number >= 0 (seconds between packets)" */
};

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define SUBMAP(r)	{ .rules = (r), .n = NELEM(r) }

/* ---- messages and key paths ---- */

static size_t
path_push(struct ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static size_t
path_push(struct ctx *c, const char *fmt, ...)
{
	size_t	old = c->keylen;
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(c->keypath + old, sizeof(c->keypath) - old, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	c->keylen = old + (size_t)n;
	if (c->keylen >= sizeof(c->keypath))
		c->keylen = sizeof(c->keypath) - 1;
	return old;
}

static size_t
path_push_key(struct ctx *c, const char *key)
{
	return path_push(c, "%s%s", c->keylen > 0 ? "." : "", key);
}

static void
path_pop(struct ctx *c, size_t old)
{
	c->keylen = old;
	c->keypath[old] = '\0';
}

static void
format_at(const struct ctx *c, const yaml_node_t *node, char *out,
    size_t outlen, const char *fmt, va_list ap)
    __attribute__((format(printf, 5, 0)));

/* "FILE:LINE:COL: KEYPATH: message" (libyaml marks are 0-based). */
static void
format_at(const struct ctx *c, const yaml_node_t *node, char *out,
    size_t outlen, const char *fmt, va_list ap)
{
	char	msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (node != NULL)
		snprintf(out, outlen, "%s:%zu:%zu: %s%s%s", c->file,
		    node->start_mark.line + 1, node->start_mark.column + 1,
		    c->keypath, c->keylen > 0 ? ": " : "", msg);
	else
		snprintf(out, outlen, "%s: %s%s%s", c->file,
		    c->keypath, c->keylen > 0 ? ": " : "", msg);
}

static int
fail(struct ctx *c, const yaml_node_t *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(struct ctx *c, const yaml_node_t *node, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	format_at(c, node, c->err, c->errlen, fmt, ap);
	va_end(ap);
	errno = EINVAL;
	return -1;
}

static int
warn(struct ctx *c, const yaml_node_t *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * What the older tool let pass: a warning and the load goes on, or, strict,
 * an error.  The message says which through outcome().
 */
static int
warn(struct ctx *c, const yaml_node_t *node, const char *fmt, ...)
{
	char	msg[1536];
	va_list	ap;

	if (c->strict) {
		va_start(ap, fmt);
		format_at(c, node, c->err, c->errlen, fmt, ap);
		va_end(ap);
		errno = EINVAL;
		return -1;
	}
	va_start(ap, fmt);
	format_at(c, node, msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->opts->warn != NULL)
		c->opts->warn(c->opts->warn_arg, msg);
	else
		log_warnx("%s", msg);
	return 0;
}

/* The end of a warning's message: what happens when lenient, or why strict refuses it. */
static const char *
outcome(const struct ctx *c, const char *lenient)
{
	return c->strict ? c->strict_why : lenient;
}

static struct cfg_pos
node_pos(const yaml_node_t *n)
{
	return (struct cfg_pos){
		.line = (int)n->start_mark.line + 1,
		.col = (int)n->start_mark.column + 1,
	};
}

/* ---- scalars ---- */

static const char *
scalar(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

/* YAML 1.1 null: only when unquoted, so that "null" stays a string. */
static bool
is_null(const yaml_node_t *n)
{
	static const char *const words[] = { "", "~", "null", "Null", "NULL" };

	if (n->type != YAML_SCALAR_NODE ||
	    n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	for (size_t i = 0; i < NELEM(words); i++)
		if (strcmp(scalar(n), words[i]) == 0)
			return true;
	return false;
}

/* How a node looks, for "expected X, got Y". */
static const char *
describe(const yaml_node_t *n, char *buf, size_t len)
{
	if (n->type == YAML_MAPPING_NODE)
		return "a mapping";
	if (n->type == YAML_SEQUENCE_NODE)
		return "a list";
	if (is_null(n))
		return "nothing";
	snprintf(buf, len, "'%.*s%s'", QUOTE_MAX, scalar(n),
	    strlen(scalar(n)) > QUOTE_MAX ? "..." : "");
	return buf;
}

static int
fail_type(struct ctx *c, const yaml_node_t *n, const char *expected)
{
	char	buf[QUOTE_MAX + 8];

	return fail(c, n, "expected %s, got %s", expected,
	    describe(n, buf, sizeof(buf)));
}

/*
 * Every scalar value goes through here, so a placeholder left by the
 * pre-processing mode is caught whatever type the key has.
 */
static int
get_scalar(struct ctx *c, const yaml_node_t *n, const char *expected,
    const char **out)
{
	/* Set on every path: gcc's -O2 flow analysis cannot see that fail() always returns -1. */
	*out = NULL;
	if (n->type != YAML_SCALAR_NODE)
		return fail_type(c, n, expected);
	if (strcmp(scalar(n), CFG_MISSING_PARAM) == 0)
		return fail(c, n, "still " CFG_MISSING_PARAM "; fill in %s",
		    expected);
	if (strlen(scalar(n)) != n->data.scalar.length)
		return fail(c, n, "contains a NUL character; expected %s",
		    expected);
	*out = scalar(n);
	return 0;
}

/* YAML 1.1 booleans as PyYAML reads them, so old configs keep working. */
static int
get_bool(struct ctx *c, const yaml_node_t *n, bool *out)
{
	static const struct { const char *word; bool value; } words[] = {
		{ "true", true }, { "True", true }, { "TRUE", true },
		{ "yes", true }, { "Yes", true }, { "YES", true },
		{ "on", true }, { "On", true }, { "ON", true },
		{ "false", false }, { "False", false }, { "FALSE", false },
		{ "no", false }, { "No", false }, { "NO", false },
		{ "off", false }, { "Off", false }, { "OFF", false },
	};
	const char *s;

	if (get_scalar(c, n, "true or false", &s) == -1)
		return -1;
	for (size_t i = 0; i < NELEM(words); i++) {
		if (strcmp(s, words[i].word) == 0) {
			*out = words[i].value;
			return 0;
		}
	}
	return fail_type(c, n, "true or false");
}

/* A decimal integer; floats such as 1.0 are refused where counts are meant. */
static int
get_int(struct ctx *c, const yaml_node_t *n, int64_t lo, int64_t hi,
    const char *what, int64_t *out)
{
	const char	*s;
	char		*end;
	long long	 v;

	*out = 0;	/* as in get_scalar: set on every path */
	if (get_scalar(c, n, what, &s) == -1)
		return -1;
	if (*s == '\0' || strchr("+-0123456789", *s) == NULL)
		return fail_type(c, n, "an integer");
	errno = 0;
	v = strtoll(s, &end, 10);
	if (end == s || *end != '\0')
		return fail_type(c, n, "an integer");
	if (errno == ERANGE || v < lo || v > hi)
		return fail(c, n, "%s is out of range: expected %s", s, what);
	*out = v;
	return 0;
}

static int
get_double(struct ctx *c, const yaml_node_t *n,
    const struct double_spec *spec, double *out)
{
	const char	*s;
	char		*end;
	double		 v;

	*out = 0;	/* as in get_scalar: set on every path */
	if (get_scalar(c, n, spec->what, &s) == -1)
		return -1;
	/* strtod would also take "inf", "nan" and leading blanks. */
	if (*s == '\0' || strchr("+-.0123456789", *s) == NULL)
		return fail_type(c, n, "a number");
	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end != '\0')
		return fail_type(c, n, "a number");
	if (errno == ERANGE || !isfinite(v) || v < spec->lo || v > spec->hi ||
	    (spec->lo_open && v == spec->lo))
		return fail(c, n, "%s is out of range: expected %s", s,
		    spec->what);
	*out = v;
	return 0;
}

/* A string that may be null (stored as NULL) but not empty. */
static int
get_string(struct ctx *c, const yaml_node_t *n, const char *expected,
    bool nullable, char **out)
{
	const char *s;

	if (is_null(n)) {
		if (nullable) {
			*out = NULL;
			return 0;
		}
		return fail_type(c, n, expected);
	}
	if (get_scalar(c, n, expected, &s) == -1)
		return -1;
	if (*s == '\0')
		return fail(c, n, "empty; expected %s", expected);
	if ((*out = strdup(s)) == NULL)
		return fail(c, n, "out of memory");
	return 0;
}

/* what: the address's role, for a placeholder still to fill in. */
static int
get_addr(struct ctx *c, const yaml_node_t *n, const char *what,
    struct tr_addr *out)
{
	char		 expected[160];
	const char	*s;

	snprintf(expected, sizeof(expected), "%s%sa literal IPv4 or IPv6 "
	    "address%s", what != NULL ? what : "", what != NULL ? " (" : "",
	    what != NULL ? ")" : "");
	if (get_scalar(c, n, expected, &s) == -1)
		return -1;
	if (addr_parse(s, out) == -1)
		return fail(c, n, "'%.*s' is not a literal IPv4 or IPv6 "
		    "address (hostnames are not accepted here)", QUOTE_MAX, s);
	return 0;
}

/* ---- mappings and lists ---- */

static yaml_node_t *
node_at(struct ctx *c, int index)
{
	return yaml_document_get_node(c->doc, index);
}

static bool
key_char_same(char a, char b)
{
	return tolower((unsigned char)a) == tolower((unsigned char)b) ||
	    (strchr("-_", a) != NULL && strchr("-_", b) != NULL);
}

/*
 * Edit distance of two short keys, to suggest the one probably meant:
 * insertions, deletions, substitutions and swaps of two neighbours ("tpc")
 * count one each; case and '-' for '_' count nothing.
 */
static size_t
key_distance(const char *a, const char *b)
{
	size_t	d[33][33], la = strlen(a), lb = strlen(b);

	if (la > 32 || lb > 32)
		return SIZE_MAX;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = key_char_same(a[i - 1], b[j - 1]) ? 0 : 1;
			size_t best = d[i - 1][j - 1] + cost;

			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 &&
			    key_char_same(a[i - 1], b[j - 2]) &&
			    key_char_same(a[i - 2], b[j - 1]) &&
			    d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[la][lb];
}

/*
 * The older tool ignored keys it did not know, and users keep notes and old
 * keys in their configs: say which key is ignored, and which known one it
 * probably meant.  A suggestion needs a distance of at most 2 and at most a
 * third of the known key's length, so that 'x' does not suggest 'ip'.
 */
static int
warn_unknown_key(struct ctx *c, const yaml_node_t *key, const char *container,
    const struct key_rule *rules, size_t n)
{
	char		 known[512] = "", hint[96] = "";
	size_t		 len = 0, best = 3;

	for (size_t i = 0; i < n; i++) {
		size_t d = key_distance(scalar(key), rules[i].key);

		if (len < sizeof(known))
			len += (size_t)snprintf(known + len,
			    sizeof(known) - len, "%s%s", i > 0 ? ", " : "",
			    rules[i].key);
		if (d < best && 3 * d <= strlen(rules[i].key)) {
			best = d;
			snprintf(hint, sizeof(hint), " (did you mean '%s'?)",
			    rules[i].key);
		}
	}
	if (*container == '\0')
		return warn(c, key, "unknown key '%.*s'%s: %s; known keys: %s",
		    QUOTE_MAX, scalar(key), hint, outcome(c, "ignored"), known);
	return warn(c, key, "unknown key '%.*s' in '%s'%s: %s; known keys: %s",
	    QUOTE_MAX, scalar(key), container, hint, outcome(c, "ignored"),
	    known);
}

/* The user's own keys (YAML anchors to alias elsewhere, notes), as docker compose has them. */
static bool
is_extension_key(const yaml_node_t *key)
{
	return strncmp(scalar(key), "x-", 2) == 0;
}

/*
 * Walk a mapping against its table: unknown keys warned about (and skipped),
 * none twice, the required ones present.  A null value counts as an empty
 * mapping, so that `optimize:` with everything commented out still loads.
 */
static int
walk_mapping(struct ctx *c, yaml_node_t *n, const struct key_rule *rules,
    size_t nrules, void *obj)
{
	char		 container[KEYPATH_MAX];
	yaml_node_t	*seen[24] = { 0 };	/* the key node, once read */

	if (nrules > NELEM(seen))
		return fail(c, n, "internal error: key table too long");
	if (!is_null(n) && n->type != YAML_MAPPING_NODE)
		return fail_type(c, n, "a mapping (key: value lines)");
	snprintf(container, sizeof(container), "%s", c->keypath);

	if (n->type == YAML_MAPPING_NODE) {
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
		    p < n->data.mapping.pairs.top; p++) {
			yaml_node_t	*k = node_at(c, p->key);
			yaml_node_t	*v = node_at(c, p->value);
			size_t		 i, old;
			int		 rc;

			if (k->type != YAML_SCALAR_NODE)
				return fail(c, k, "a key must be a plain "
				    "word, got %s", k->type ==
				    YAML_MAPPING_NODE ? "a mapping" : "a list");
			if (is_extension_key(k))
				continue;
			for (i = 0; i < nrules; i++)
				if (strcmp(scalar(k), rules[i].key) == 0)
					break;
			if (i == nrules) {
				old = path_push_key(c, scalar(k));
				rc = warn_unknown_key(c, k, container, rules,
				    nrules);
				path_pop(c, old);
				if (rc == -1)
					return -1;
				continue;
			}
			old = path_push_key(c, rules[i].key);
			if (seen[i] != NULL) {
				rc = fail(c, k, "given twice (first at line "
				    "%zu); keep one",
				    seen[i]->start_mark.line + 1);
				path_pop(c, old);
				return rc;
			}
			seen[i] = k;
			rc = rules[i].fn(c, k, v, (char *)obj + rules[i].off,
			    rules[i].arg);
			path_pop(c, old);
			if (rc == -1)
				return -1;
		}
	}
	for (size_t i = 0; i < nrules; i++)
		if (rules[i].required && seen[i] == NULL)
			return fail(c, n, "missing required key '%s'",
			    rules[i].key);
	return 0;
}

/* The value of `key` in mapping n, or NULL. */
static yaml_node_t *
mapping_get(struct ctx *c, const yaml_node_t *n, const char *key)
{
	if (n->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
	    p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node_at(c, p->key);

		if (k->type == YAML_SCALAR_NODE && strcmp(scalar(k), key) == 0)
			return node_at(c, p->value);
	}
	return NULL;
}

typedef int	(*elem_fn)(struct ctx *, yaml_node_t *, void *slot,
		    const void *arg);

/*
 * A list, or a single scalar standing for a list of one (the older tool's
 * users write both).  The array is handed to the caller before the elements
 * are read and *count grows with each one, so that config_free() can release
 * whatever a failure leaves behind.  A null or [] gives count 0.
 */
static int
get_list(struct ctx *c, yaml_node_t *n, size_t esize, elem_fn fn,
    const void *arg, const char *expected, void **out, size_t *count)
{
	size_t	 total;
	char	*buf;

	*out = NULL;
	*count = 0;
	if (n->type == YAML_SEQUENCE_NODE)
		total = (size_t)(n->data.sequence.items.top -
		    n->data.sequence.items.start);
	else if (n->type == YAML_MAPPING_NODE)
		return fail(c, n, "expected %s or a list of them, got a "
		    "mapping", expected);
	else
		total = is_null(n) ? 0 : 1;
	if (total == 0)
		return 0;
	if ((buf = calloc(total, esize)) == NULL)
		return fail(c, n, "out of memory");
	*out = buf;
	for (size_t i = 0; i < total; i++) {
		yaml_node_t	*e = n;
		size_t		 old = c->keylen;

		if (n->type == YAML_SEQUENCE_NODE) {
			e = node_at(c, n->data.sequence.items.start[i]);
			old = path_push(c, "[%zu]", i);
		}
		if (fn(c, e, buf + i * esize, arg) == -1) {
			path_pop(c, old);
			return -1;
		}
		path_pop(c, old);
		*count = i + 1;
	}
	return 0;
}

static int
fail_empty_list(struct ctx *c, const yaml_node_t *n, const char *expected)
{
	return fail(c, n, "empty; give at least one %s or remove the key",
	    expected);
}

/* ---- element readers ---- */

static int
elem_u32(struct ctx *c, yaml_node_t *n, void *slot, const void *arg)
{
	const struct u32_spec	*spec = arg;
	int64_t			 v;

	if (get_int(c, n, spec->lo, spec->hi, spec->what, &v) == -1)
		return -1;
	if (spec->only != 0 && (v >= 64 || !(spec->only >> v & 1)))
		return fail(c, n, "%" PRId64 " is not accepted: expected %s",
		    v, spec->what);
	*(uint32_t *)slot = (uint32_t)v;
	return 0;
}

static int
elem_addr(struct ctx *c, yaml_node_t *n, void *slot, const void *arg)
{
	(void)arg;
	return get_addr(c, n, NULL, slot);
}

static int
elem_path(struct ctx *c, yaml_node_t *n, void *slot, const void *arg)
{
	(void)arg;
	return get_string(c, n, "a capture file path", false, slot);
}

/* ---- key handlers (field points into the mapping's object) ---- */

static int
h_bool(struct ctx *c, yaml_node_t *k, yaml_node_t *v, void *field,
    const void *arg)
{
	(void)k, (void)arg;
	return get_bool(c, v, field);
}

/* reconnect: its default follows keep_open, so remember whether it was given. */
static int
h_reconnect(struct ctx *c, yaml_node_t *k, yaml_node_t *v, void *field,
    const void *arg)
{
	struct config *cfg = field;

	(void)k, (void)arg;
	cfg->reconnect_set = true;
	return get_bool(c, v, &cfg->reconnect);
}

/* A duration or factor; arg is its struct double_spec. */
static int
h_double(struct ctx *c, yaml_node_t *k, yaml_node_t *v, void *field,
    const void *arg)
{
	(void)k;
	return get_double(c, v, arg, field);
}

static int
h_string_or_null(struct ctx *c, yaml_node_t *k, yaml_node_t *v, void *field,
    const void *arg)
{
	(void)k;
	return get_string(c, v, arg, true, field);
}

/* A socket buffer size in bytes; null or 0 leaves the system default. */
static int
h_bufsize(struct ctx *c, yaml_node_t *k, yaml_node_t *v, void *field,
    const void *arg)
{
	int64_t val;

	(void)k, (void)arg;
	if (is_null(v)) {
		*(int *)field = 0;
		return 0;
	}
	if (get_int(c, v, 0, INT_MAX, "a size in bytes from 0 to "
	    "2147483647, or null for the system default", &val) == -1)
		return -1;
	*(int *)field = (int)val;
	return 0;
}

static int
h_u32_list(struct ctx *c, yaml_node_t *k, yaml_node_t *v, void *field,
    const void *arg)
{
	const struct u32_spec	*spec = arg;
	struct cfg_u32_list	*l = field;
	char			 expected[96];
	void			*p;
	int			 rc;

	(void)k;
	snprintf(expected, sizeof(expected), "%s", spec->what);
	l->set = true;
	rc = get_list(c, v, sizeof(*l->v), elem_u32, spec, expected, &p,
	    &l->n);
	l->v = p;
	if (rc == 0 && l->n == 0)
		return fail_empty_list(c, v, "value");
	return rc;
}

static int
h_addr_list(struct ctx *c, yaml_node_t *k, yaml_node_t *v, void *field,
    const void *arg)
{
	struct cfg_addr_list	*l = field;
	void			*p;
	int			 rc;

	(void)k, (void)arg;
	l->set = true;
	rc = get_list(c, v, sizeof(*l->v), elem_addr, NULL,
	    "a literal IPv4 or IPv6 address", &p, &l->n);
	l->v = p;
	if (rc == 0 && l->n == 0)
		return fail_empty_list(c, v, "address");
	return rc;
}

static int
h_addr(struct ctx *c, yaml_node_t *k, yaml_node_t *v, void *field,
    const void *arg)
{
	(void)k;
	return get_addr(c, v, arg, field);
}

/* A nested mapping that fills the same object as its parent. */
static int
h_submap(struct ctx *c, yaml_node_t *k, yaml_node_t *v, void *field,
    const void *arg)
{
	const struct submap *m = arg;

	(void)k;
	return walk_mapping(c, v, m->rules, m->n, field);
}

static int
h_pcap(struct ctx *c, yaml_node_t *k, yaml_node_t *v, void *field,
    const void *arg)
{
	struct config	*cfg = field;
	void		*p;
	int		 rc;

	(void)arg;
	cfg->pcap_pos = node_pos(k);
	rc = get_list(c, v, sizeof(char *), elem_path, NULL,
	    "a capture file path", &p, &cfg->n_pcaps);
	cfg->pcaps = p;
	if (rc == 0 && cfg->n_pcaps == 0)
		return fail_empty_list(c, v, "capture file (pcap or pcapng)");
	return rc;
}

static int
h_repeat_count(struct ctx *c, yaml_node_t *k, yaml_node_t *v, void *field,
    const void *arg)
{
	static const struct u32_spec spec = { 0, UINT32_MAX, 0,
	    "how many times to play that pcap, 0 to 4294967295" };
	struct config	*cfg = field;
	void		*p;
	int		 rc;

	(void)k, (void)arg;
	c->repeat_count = v;
	rc = get_list(c, v, sizeof(uint32_t), elem_u32, &spec,
	    "a repeat count", &p, &c->n_repeat_count);
	cfg->repeat_count = p;
	return rc;
}

static int
h_repeat_pattern(struct ctx *c, yaml_node_t *k, yaml_node_t *v, void *field,
    const void *arg)
{
	enum repeat_pattern	*pat = field;
	const char		*s;

	(void)k, (void)arg;
	if (get_scalar(c, v, "round-robin or bulk", &s) == -1)
		return -1;
	for (size_t i = 0; i < NELEM(repeat_pattern_names); i++) {
		if (strcmp(s, repeat_pattern_names[i]) == 0) {
			*pat = (enum repeat_pattern)i;
			return 0;
		}
	}
	return fail_type(c, v, "round-robin or bulk");
}

static int
h_loop_exporters(struct ctx *c, yaml_node_t *k, yaml_node_t *v, void *field,
    const void *arg)
{
	enum loop_exporters	*mode = field;
	const char		*s;

	(void)k, (void)arg;
	if (get_scalar(c, v, "same or shift", &s) == -1)
		return -1;
	for (size_t i = 0; i < NELEM(loop_exporters_names); i++) {
		if (strcmp(s, loop_exporters_names[i]) == 0) {
			*mode = (enum loop_exporters)i;
			return 0;
		}
	}
	return fail_type(c, v, "same or shift");
}

static int
h_loop_block(struct ctx *c, yaml_node_t *k, yaml_node_t *v, void *field,
    const void *arg)
{
	static const struct u32_spec spec = { 0, UINT32_MAX, 0,
	    "how many addresses each --loop shifts by, 0 for the number of "
	    "network.map entries" };

	(void)k, (void)arg;
	return elem_u32(c, v, field, &spec);
}

static const struct key_rule repeat_rules[] = {
	{ "count", h_repeat_count, 0, NULL, true },
	{ "pattern", h_repeat_pattern,
	    offsetof(struct config, repeat_pattern), NULL, false },
};

static int
h_repeat(struct ctx *c, yaml_node_t *k, yaml_node_t *v, void *field,
    const void *arg)
{
	struct config *cfg = field;

	(void)k, (void)arg;
	if (is_null(v))
		return 0;
	if (walk_mapping(c, v, repeat_rules, NELEM(repeat_rules), cfg) == -1)
		return -1;
	cfg->has_repeat = true;
	return 0;
}

static const struct key_rule map_entry_rules[] = {
	{ "src_ip", h_addr, offsetof(struct cfg_map_entry, src_ip),
	    "the exporter's address as seen in the capture", true },
	{ "repro_ip", h_addr, offsetof(struct cfg_map_entry, repro_ip),
	    "an address of this host to replay that exporter from", true },
};

/*
 * Adds an entry to cfg->map (allocated for every entry the file has).  The
 * older tool kept a src_ip given twice in a Python dict: the last mapping
 * wins, at the first one's place.  So here, with a warning naming both
 * places (strict: an error).  Quadratic, but maps list one line per
 * exporter, a few hundred at most.
 */
static int
map_add(struct ctx *c, struct config *cfg, const struct cfg_map_entry *e,
    const yaml_node_t *src)
{
	char buf[TR_ADDR_STRLEN];

	for (size_t j = 0; j < cfg->n_map; j++) {
		struct cfg_map_entry *m = &cfg->map[j];

		if (!addr_equal(&m->src_ip, &e->src_ip))
			continue;
		if (warn(c, src, "%s is mapped already at line %d, column %d "
		    "(give each src_ip once): %s", addr_format(&e->src_ip, buf,
		    sizeof(buf)), m->src_pos.line, m->src_pos.col, outcome(c,
		    "the last one wins, as in the older tool")) == -1)
			return -1;
		m->repro_ip = e->repro_ip;
		m->pos = e->pos;
		m->src_pos = e->src_pos;
		return 0;
	}
	cfg->map[cfg->n_map++] = *e;
	return 0;
}

/* {src_ip: A, repro_ip: B}: an item of the list, or the whole map as the older tool's -p writes it. */
static int
map_entry(struct ctx *c, struct config *cfg, yaml_node_t *n)
{
	struct cfg_map_entry	 e = { .pos = node_pos(n) };
	yaml_node_t		*src;
	size_t			 old;
	int			 rc;

	if (n->type != YAML_MAPPING_NODE)
		return fail_type(c, n, "a mapping with src_ip and repro_ip");
	if (walk_mapping(c, n, map_entry_rules, NELEM(map_entry_rules), &e)
	    == -1)
		return -1;
	src = mapping_get(c, n, "src_ip");
	e.src_pos = node_pos(src);
	old = path_push_key(c, "src_ip");
	rc = map_add(c, cfg, &e, src);
	path_pop(c, old);
	return rc;
}

/* SRC_IP: REPRO_IP, one line per exporter. */
static int
map_pair(struct ctx *c, struct config *cfg, yaml_node_t *k, yaml_node_t *v)
{
	struct cfg_map_entry	 e = {
		.pos = node_pos(k), .src_pos = node_pos(k),
	};
	const char		*s;

	if (get_scalar(c, k, "the exporter's address as seen in the capture",
	    &s) == -1)
		return -1;
	if (addr_parse(s, &e.src_ip) == -1)
		return fail(c, k, "'%.*s' is neither an exporter's address "
		    "(SRC_IP: REPRO_IP lines) nor src_ip or repro_ip",
		    QUOTE_MAX, s);
	if (get_addr(c, v, "an address of this host to replay that exporter "
	    "from", &e.repro_ip) == -1)
		return -1;
	return map_add(c, cfg, &e, k);
}

/*
 * network.map: a list of {src_ip, repro_ip}; one such mapping alone; or a
 * mapping of src_ip to repro_ip.  All three give the same map.
 */
static int
h_map(struct ctx *c, yaml_node_t *k, yaml_node_t *v, void *field,
    const void *arg)
{
	struct config	*cfg = field;
	bool		 pairs;
	size_t		 total, old;

	(void)arg;
	cfg->map_pos = node_pos(k);
	if (is_null(v))
		return 0;
	if (v->type == YAML_SCALAR_NODE)
		return fail_type(c, v, "a list of src_ip/repro_ip pairs");
	pairs = v->type == YAML_MAPPING_NODE &&
	    mapping_get(c, v, "src_ip") == NULL &&
	    mapping_get(c, v, "repro_ip") == NULL;
	if (v->type == YAML_SEQUENCE_NODE)
		total = (size_t)(v->data.sequence.items.top -
		    v->data.sequence.items.start);
	else if (pairs)
		total = (size_t)(v->data.mapping.pairs.top -
		    v->data.mapping.pairs.start);
	else
		total = 1;
	if (total == 0)
		return 0;
	if ((cfg->map = calloc(total, sizeof(*cfg->map))) == NULL)
		return fail(c, v, "out of memory");
	if (!pairs && v->type == YAML_MAPPING_NODE)
		return map_entry(c, cfg, v);
	for (size_t i = 0; i < total; i++) {
		int rc;

		if (pairs) {
			yaml_node_pair_t *p = &v->data.mapping.pairs.start[i];
			yaml_node_t *src = node_at(c, p->key);

			if (src->type == YAML_SCALAR_NODE &&
			    is_extension_key(src))
				continue;
			old = path_push(c, "[%.*s]", QUOTE_MAX,
			    src->type == YAML_SCALAR_NODE ? scalar(src) : "");
			rc = map_pair(c, cfg, src, node_at(c, p->value));
		} else {
			old = path_push(c, "[%zu]", i);
			rc = map_entry(c, cfg, node_at(c,
			    v->data.sequence.items.start[i]));
		}
		path_pop(c, old);
		if (rc == -1)
			return -1;
	}
	return 0;
}

static int
h_interface(struct ctx *c, yaml_node_t *k, yaml_node_t *v, void *field,
    const void *arg)
{
	(void)k, (void)arg;
	return get_string(c, v, "a device or VRF name, or null", true, field);
}

const char *const cfg_spoof_names[3] = {
	[CFG_SPOOF_NONE] = "none",
	[CFG_SPOOF_FREEBIND] = "freebind",
	[CFG_SPOOF_RAW] = "raw",
};

static int
h_spoof(struct ctx *c, yaml_node_t *k, yaml_node_t *v, void *field,
    const void *arg)
{
	static const char what[] = "none, freebind (repro_ips need not be "
	    "local addresses) or raw (UDP built on a raw socket: any source "
	    "address and port)";
	const char *s;

	(void)k, (void)arg;
	if (is_null(v)) {
		*(enum cfg_spoof *)field = CFG_SPOOF_NONE;
		return 0;
	}
	if (get_scalar(c, v, what, &s) == -1)
		return -1;
	for (size_t i = 0; i < NELEM(cfg_spoof_names); i++) {
		if (strcmp(s, cfg_spoof_names[i]) == 0) {
			*(enum cfg_spoof *)field = (enum cfg_spoof)i;
			return 0;
		}
	}
	return fail_type(c, v, what);
}

static const struct key_rule network_rules[] = {
	{ "map", h_map, 0, NULL, false },
	{ "interface", h_interface, offsetof(struct config, interface), NULL,
	    false },
	{ "spoof", h_spoof, offsetof(struct config, spoof), NULL, false },
};

static const struct key_rule optimize_network_rules[] = {
	{ "so_sndbuf", h_bufsize, offsetof(struct config, so_sndbuf), NULL,
	    false },
	{ "so_rcvbuf", h_bufsize, offsetof(struct config, so_rcvbuf), NULL,
	    false },
};

static const struct submap optimize_network = SUBMAP(optimize_network_rules);

static const struct key_rule optimize_rules[] = {
	{ "threading", h_bool, offsetof(struct config, threading), NULL,
	    false },
	{ "preload", h_bool, offsetof(struct config, preload), NULL, false },
	{ "network", h_submap, 0, &optimize_network, false },
};

/* ---- protocol sections ---- */

static const struct u32_spec port_spec = { 0, 65535, 0,
    "a port from 0 to 65535" };

static const struct key_rule ip_rules[] = {
	{ "src", h_addr_list, offsetof(struct cfg_select, ip_src), NULL,
	    false },
	{ "dst", h_addr_list, offsetof(struct cfg_select, ip_dst), NULL,
	    false },
};

static const struct key_rule udp_rules[] = {
	{ "sport", h_u32_list, offsetof(struct cfg_select, udp_sport),
	    &port_spec, false },
	{ "dport", h_u32_list, offsetof(struct cfg_select, udp_dport),
	    &port_spec, false },
};

static const struct key_rule tcp_rules[] = {
	{ "sport", h_u32_list, offsetof(struct cfg_select, tcp_sport),
	    &port_spec, false },
	{ "dport", h_u32_list, offsetof(struct cfg_select, tcp_dport),
	    &port_spec, false },
};

static const struct submap ip_map = SUBMAP(ip_rules);
static const struct transport_rule udp_rule = { IPPROTO_UDP, "tcp",
    offsetof(struct cfg_select, udp), SUBMAP(udp_rules) };
static const struct transport_rule tcp_rule = { IPPROTO_TCP, "udp",
    offsetof(struct cfg_select, tcp), SUBMAP(tcp_rules) };

/* `udp:` or `tcp:`: only on the transport the section's protocol uses. */
static int
h_transport(struct ctx *c, yaml_node_t *k, yaml_node_t *v, void *field,
    const void *arg)
{
	const struct transport_rule *t = arg;

	if (protocols[c->section]->l4proto != t->proto)
		return fail(c, k, "'%s' does not apply here: %s rides on %s; "
		    "select its ports with '%s:'", scalar(k),
		    protocols[c->section]->name,
		    t->proto == IPPROTO_UDP ? "TCP" : "UDP", t->other);
	*(bool *)((char *)field + t->flag_off) = true;
	return walk_mapping(c, v, t->map.rules, t->map.n, field);
}

/* A protocol's header filter (`ipfix_h:`, `bmp_h:`, ...): only in that protocol's section. */
static int
h_header(struct ctx *c, yaml_node_t *k, yaml_node_t *v, void *field,
    const void *arg)
{
	const struct header_rule *h = arg;

	if (c->section != h->only)
		return fail(c, k, "'%s' does not apply here: it selects by "
		    "the %s header and only belongs in the '%s' section",
		    scalar(k), protocols[h->only]->name,
		    protocols[h->only]->name);
	return walk_mapping(c, v, h->map.rules, h->map.n, field);
}

/*
 * select's keys: ip, udp, tcp, and each protocol's header filter, whose
 * keys and values its descriptor gives (made once, from the table).
 */
static struct key_rule select_rules[3 + SECTION_COUNT] = {
	{ "ip", h_submap, 0, &ip_map, false },
	{ "udp", h_transport, 0, &udp_rule, false },
	{ "tcp", h_transport, 0, &tcp_rule, false },
};
static size_t n_select_rules;
static struct u32_spec filter_specs[SECTION_COUNT][PROTO_FILTER_KEYS];
static struct key_rule filter_rules[SECTION_COUNT][PROTO_FILTER_KEYS];
static struct header_rule header_rules[SECTION_COUNT];

static void
make_select_rules(void)
{
	if (n_select_rules > 0)
		return;
	n_select_rules = 3;
	for (int id = 0; id < SECTION_COUNT; id++) {
		const struct proto_filter *f = protocols[id]->filter;

		if (f == NULL)
			continue;
		for (size_t k = 0; k < f->n_keys; k++) {
			const struct proto_filter_key *fk = &f->keys[k];

			filter_specs[id][k] = (struct u32_spec){ fk->lo, fk->hi,
			    fk->only, fk->what };
			filter_rules[id][k] = fk->addresses ?
			    (struct key_rule){ fk->name, h_addr_list,
			    offsetof(struct cfg_select, header_addr) +
			    k * sizeof(struct cfg_addr_list), NULL, false } :
			    (struct key_rule){ fk->name, h_u32_list,
			    offsetof(struct cfg_select, header) +
			    k * sizeof(struct cfg_u32_list),
			    &filter_specs[id][k], false };
		}
		header_rules[id] = (struct header_rule){ (enum section_id)id,
		    { filter_rules[id], f->n_keys } };
		select_rules[n_select_rules++] = (struct key_rule){ f->key,
		    h_header, 0, &header_rules[id], false };
	}
}

static int
h_select(struct ctx *c, yaml_node_t *k, yaml_node_t *v, void *field,
    const void *arg)
{
	struct cfg_select *s = field;

	(void)k, (void)arg;
	s->set = true;
	return walk_mapping(c, v, select_rules, n_select_rules, s);
}

/* A literal address (normalized) or a hostname resolved at start-up. */
static int
h_host(struct ctx *c, yaml_node_t *k, yaml_node_t *v, void *field,
    const void *arg)
{
	char		**out = field;
	struct tr_addr	  a;
	char		  buf[TR_ADDR_STRLEN];

	(void)k, (void)arg;
	if (get_string(c, v, "the collector's address or hostname", false,
	    out) == -1)
		return -1;
	if (strpbrk(*out, " \t\r\n/") != NULL)
		return fail(c, v, "'%.*s' is neither an IP address nor a "
		    "hostname", QUOTE_MAX, *out);
	if (addr_parse(*out, &a) == 0) {
		addr_format(&a, buf, sizeof(buf));
		free(*out);
		if ((*out = strdup(buf)) == NULL)
			return fail(c, v, "out of memory");
	}
	return 0;
}

static int
h_port(struct ctx *c, yaml_node_t *k, yaml_node_t *v, void *field,
    const void *arg)
{
	int64_t port;

	(void)k, (void)arg;
	if (get_int(c, v, 1, 65535, "a port from 1 to 65535",
	    &port) == -1)
		return -1;
	*(uint16_t *)field = (uint16_t)port;
	return 0;
}

static const struct key_rule collector_rules[] = {
	{ "ip", h_host, offsetof(struct cfg_section, collector_host), NULL,
	    true },
	{ "port", h_port, offsetof(struct cfg_section, collector_port), NULL,
	    true },
};

static int
h_collector(struct ctx *c, yaml_node_t *k, yaml_node_t *v, void *field,
    const void *arg)
{
	struct cfg_section *sec = field;

	(void)arg;
	/* The pre-processing output leaves it empty; replay then says so. */
	if (is_null(v))
		return 0;
	sec->has_collector = true;
	sec->collector_pos = node_pos(k);
	return walk_mapping(c, v, collector_rules, NELEM(collector_rules), sec);
}

static int
h_bgp_id(struct ctx *c, yaml_node_t *k, yaml_node_t *v, void *field,
    const void *arg)
{
	struct cfg_bgp_open *o = field;

	(void)k, (void)arg;
	if (get_addr(c, v, "the BGP identifier", &o->bgp_id) == -1)
		return -1;
	if (o->bgp_id.family != AF_INET)
		return fail(c, v, "a BGP identifier is written as an IPv4 "
		    "address");
	o->has_bgp_id = true;
	return 0;
}

static int
h_hold_time(struct ctx *c, yaml_node_t *k, yaml_node_t *v, void *field,
    const void *arg)
{
	struct cfg_bgp_open *o = field;
	int64_t val;

	(void)k, (void)arg;
	if (get_int(c, v, 0, 65535, "a hold time in seconds", &val) == -1)
		return -1;
	if (val == 1 || val == 2)
		return fail(c, v, "a hold time is 0 or at least 3 seconds "
		    "(RFC 4271)");
	o->hold_time = (uint16_t)val;
	o->has_hold_time = true;
	return 0;
}

static const struct key_rule bgp_open_rules[] = {
	{ "bgp_id", h_bgp_id, 0, NULL, false },
	{ "hold_time", h_hold_time, 0, NULL, false },
	{ "trim_capabilities", h_bool,
	    offsetof(struct cfg_bgp_open, trim_capabilities), NULL, false },
};

static int
h_bgp_open(struct ctx *c, yaml_node_t *k, yaml_node_t *v, void *field,
    const void *arg)
{
	(void)arg;
	if (c->section != SECTION_BGP)
		return fail(c, k, "'open' rewrites a BGP OPEN: it belongs in "
		    "the bgp section only");
	return walk_mapping(c, v, bgp_open_rules, NELEM(bgp_open_rules),
	    field);
}

/* One word out of a fixed set, stored as the enum value of its position. */
struct choice {
	const char *const	*names;
	size_t			 n;
	const char		*what;	/* "prime, as-captured or drop-orphans" */
};

static const struct choice templates_choice = { templates_names,
    NELEM(templates_names), "prime, as-captured or drop-orphans" };
static const struct choice sequence_choice = { sequence_names,
    NELEM(sequence_names), "continue or as-captured" };
static const struct choice timestamps_choice = { timestamps_names,
    NELEM(timestamps_names), "as-captured or shift" };
static const struct choice agent_address_choice = { agent_address_names,
    NELEM(agent_address_names), "as-captured or repro_ip" };

/* A flow fidelity key (templates, sequence, ...): the protocols it applies to, and its words. */
struct flow_key_rule {
	unsigned		 flag;		/* PROTO_KEY_* */
	const struct choice	*choice;	/* NULL: a boolean */
};

/* Whether the section's protocol takes the key; else an error naming the sections that do. */
static int
key_applies(struct ctx *c, yaml_node_t *k, unsigned flag)
{
	char what[160] = "", where[160] = "";
	size_t n = 0;

	if (protocols[c->section]->keys & flag)
		return 0;
	for (int id = 0; id < SECTION_COUNT; id++) {
		if (!(protocols[id]->keys & flag))
			continue;
		snprintf(what + strlen(what), sizeof(what) - strlen(what),
		    "%s%s", n > 0 ? " and " : "", protocols[id]->what);
		snprintf(where + strlen(where), sizeof(where) - strlen(where),
		    "%s%s", n > 0 ? " or " : "", protocols[id]->name);
		n++;
	}
	return fail(c, k, "'%s' applies to %s: it belongs in the %s section%s",
	    scalar(k), what, where, n == 1 ? " only" : "");
}

static int
h_flow_choice(struct ctx *c, yaml_node_t *k, yaml_node_t *v, void *field,
    const void *arg)
{
	const struct flow_key_rule *r = arg;
	const struct choice *ch = r->choice;
	const char *s;

	if (key_applies(c, k, r->flag) == -1 ||
	    get_scalar(c, v, ch->what, &s) == -1)
		return -1;
	for (size_t i = 0; i < ch->n; i++) {
		if (strcmp(s, ch->names[i]) == 0) {
			*(int *)field = (int)i;
			return 0;
		}
	}
	return fail_type(c, v, ch->what);
}

static int
h_sequence(struct ctx *c, yaml_node_t *k, yaml_node_t *v, void *field,
    const void *arg)
{
	struct cfg_flow_fidelity *f = field;

	f->sequence_set = true;
	return h_flow_choice(c, k, v, &f->sequence, arg);
}

static int
h_flow_bool(struct ctx *c, yaml_node_t *k, yaml_node_t *v, void *field,
    const void *arg)
{
	const struct flow_key_rule *r = arg;

	if (key_applies(c, k, r->flag) == -1)
		return -1;
	return get_bool(c, v, field);
}

static const struct flow_key_rule templates_key = { PROTO_KEY_TEMPLATES,
    &templates_choice };
static const struct flow_key_rule sequence_key = { PROTO_KEY_SEQUENCE,
    &sequence_choice };
static const struct flow_key_rule timestamps_key = { PROTO_KEY_TIMESTAMPS,
    &timestamps_choice };
static const struct flow_key_rule src_port_key = { PROTO_KEY_SRC_PORT, NULL };
static const struct flow_key_rule agent_address_key = {
    PROTO_KEY_AGENT_ADDRESS, &agent_address_choice };

static const struct key_rule section_rules[] = {
	{ "select", h_select, offsetof(struct cfg_section, select), NULL,
	    false },
	{ "collector", h_collector, 0, NULL, false },
	{ "open", h_bgp_open, offsetof(struct cfg_section, open), NULL,
	    false },
	{ "templates", h_flow_choice, offsetof(struct cfg_section,
	    flow.templates), &templates_key, false },
	{ "sequence", h_sequence, offsetof(struct cfg_section, flow),
	    &sequence_key, false },
	{ "timestamps", h_flow_choice, offsetof(struct cfg_section,
	    flow.timestamps), &timestamps_key, false },
	{ "preserve_src_port", h_flow_bool, offsetof(struct cfg_section,
	    flow.preserve_src_port), &src_port_key, false },
	{ "agent_address", h_flow_choice, offsetof(struct cfg_section,
	    flow.agent_address), &agent_address_key, false },
};

static int
h_section(struct ctx *c, yaml_node_t *k, yaml_node_t *v, void *field,
    const void *arg)
{
	struct config	*cfg = field;
	int		 id;

	(void)arg;
	for (id = 0; id < SECTION_COUNT; id++)
		if (strcmp(scalar(k), protocols[id]->name) == 0)
			break;
	if (id == SECTION_COUNT)
		return fail(c, k, "internal error: no such section");
	/* An empty section is most likely a slip, not "match everything". */
	if (v->type != YAML_MAPPING_NODE)
		return fail_type(c, v, "a mapping with select: and collector:");
	c->section = (enum section_id)id;
	cfg->section[id].enabled = true;
	cfg->section[id].pos = node_pos(k);
	return walk_mapping(c, v, section_rules, NELEM(section_rules),
	    &cfg->section[id]);
}

/* ---- pcap_processing ---- */

static int
h_tcp_payload(struct ctx *c, yaml_node_t *k, yaml_node_t *v, void *field,
    const void *arg)
{
	int64_t val;

	(void)arg;
	if (c->tcp_payload_key != NULL)
		return fail(c, k, "'%s' is given as well (line %zu); they "
		    "are the same setting, keep one", scalar(c->tcp_payload_key),
		    c->tcp_payload_key->start_mark.line + 1);
	c->tcp_payload_key = k;
	if (get_int(c, v, 1, 65535, "a size from 1 to 65535 bytes", &val) == -1)
		return -1;
	*(uint32_t *)field = (uint32_t)val;
	return 0;
}

static const struct double_spec initial_delay_spec = { 0, HUGE_VAL, false,
    "a number >= 0 (seconds before the first packet)" };
static const struct double_spec inter_packet_delay_spec = { 0, HUGE_VAL,
    false, "a number >= 0 (seconds between packets)" };
static const struct double_spec inter_protocol_delay_spec = { 0, HUGE_VAL,
    false, "a number >= 0 (seconds between protocols)" };

static const struct key_rule pp_rules[] = {
	{ "initial_delay", h_double,
	    offsetof(struct cfg_pcap_processing, initial_delay),
	    &initial_delay_spec, false },
	{ "inter_packet_delay", h_double,
	    offsetof(struct cfg_pcap_processing, inter_packet_delay),
	    &inter_packet_delay_spec, false },
	{ "inter_protocol_delay", h_double,
	    offsetof(struct cfg_pcap_processing, inter_protocol_delay),
	    &inter_protocol_delay_spec, false },
	{ "output_folder", h_string_or_null,
	    offsetof(struct cfg_pcap_processing, output_folder),
	    "a folder path, or null", false },
	{ "desired_tcp_payload_size", h_tcp_payload,
	    offsetof(struct cfg_pcap_processing, desired_tcp_payload_size),
	    NULL, false },
	{ "tcp_payload_size", h_tcp_payload,
	    offsetof(struct cfg_pcap_processing, desired_tcp_payload_size),
	    NULL, false },
	{ "exit", h_bool, offsetof(struct cfg_pcap_processing, exit), NULL,
	    false },
};

static int
h_pcap_processing(struct ctx *c, yaml_node_t *k, yaml_node_t *v, void *field,
    const void *arg)
{
	struct cfg_pcap_processing *pp = field;

	(void)k, (void)arg;
	pp->set = true;
	return walk_mapping(c, v, pp_rules, NELEM(pp_rules), pp);
}

static const struct submap optimize_map = SUBMAP(optimize_rules);
static const struct submap network_map = SUBMAP(network_rules);

/* The text says the bound as CFG_TIME_FACTOR_MAX sets it. */
static const struct double_spec time_factor_spec = { 0, CFG_TIME_FACTOR_MAX,
    false, "a number from 0 to 1000000 (1 = real time, 0.01 = 100x faster, "
    "0 = as fast as possible)" };
static const struct double_spec tcp_stall_limit_spec = { 0,
    CFG_TCP_STALL_LIMIT_MAX, true, "a number of seconds > 0 and at most "
    "86400 (how long a TCP session may have bytes queued that its "
    "connection does not take)" };

/* Read before the walk (it governs every key of the file); here it only takes its place. */
static int
h_strict(struct ctx *c, yaml_node_t *k, yaml_node_t *v, void *field,
    const void *arg)
{
	(void)c, (void)k, (void)v, (void)field, (void)arg;
	return 0;
}

/*
 * The file's keys: these, then a section per protocol of the table (made
 * once, see make_top_rules), then pcap_processing; the room left after
 * these ends them for make_top_rules.
 */
static struct key_rule top_rules[16 + SECTION_COUNT] = {
	{ "pcap", h_pcap, 0, NULL, true },
	{ "repeat", h_repeat, 0, NULL, false },
	{ "time_factor", h_double, offsetof(struct config, time_factor),
	    &time_factor_spec, false },
	{ "keep_open", h_bool, offsetof(struct config, keep_open), NULL,
	    false },
	{ "no_sync", h_bool, offsetof(struct config, no_sync), NULL, false },
	{ "loop_exporters", h_loop_exporters, offsetof(struct config,
	    loop_exporters), NULL, false },
	{ "loop_block", h_loop_block, offsetof(struct config, loop_block),
	    NULL, false },
	{ "reconnect", h_reconnect, 0, NULL, false },
	{ "tcp_stall_limit", h_double, offsetof(struct config,
	    tcp_stall_limit), &tcp_stall_limit_spec, false },
	{ "strict", h_strict, 0, NULL, false },
	{ "optimize", h_submap, 0, &optimize_map, false },
	{ "network", h_submap, 0, &network_map, false },
};
static size_t n_top_rules;

static void
make_top_rules(void)
{
	if (n_top_rules > 0)
		return;
	while (top_rules[n_top_rules].key != NULL)
		n_top_rules++;
	for (int id = 0; id < SECTION_COUNT; id++)
		top_rules[n_top_rules++] = (struct key_rule){
		    protocols[id]->name, h_section, 0, NULL, false };
	top_rules[n_top_rules++] = (struct key_rule){ "pcap_processing",
	    h_pcap_processing, offsetof(struct config, pcap_processing), NULL,
	    false };
}

/* ---- loading ---- */

static void
config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->repeat_pattern = REPEAT_ROUND_ROBIN;
	cfg->time_factor = 1.0;
	cfg->tcp_stall_limit = CFG_TCP_STALL_LIMIT_DEFAULT;
	cfg->pcap_processing = (struct cfg_pcap_processing){
		.initial_delay = PP_INITIAL_DELAY,
		.inter_packet_delay = PP_INTER_PACKET_DELAY,
		.inter_protocol_delay = PP_INTER_PROTOCOL_DELAY,
		.desired_tcp_payload_size = PP_TCP_PAYLOAD_SIZE,
		.exit = true,
	};
}

/*
 * A capture played more than once (or a list) restarts its sequence numbers
 * each time: a collector sees that as loss or a reset, so continue them.
 */
static void
flow_sequence_default(struct config *cfg, bool played_again)
{
	if (cfg->n_pcaps > 1)
		played_again = true;

	for (size_t i = 0; cfg->has_repeat && i < cfg->n_pcaps; i++)
		if (cfg->repeat_count[i] > 1)
			played_again = true;
	for (int id = 0; id < SECTION_COUNT; id++) {
		struct cfg_flow_fidelity *f = &cfg->section[id].flow;

		if ((protocols[id]->keys & PROTO_KEY_SEQUENCE) &&
		    !f->sequence_set)
			f->sequence = played_again ? SEQUENCE_CONTINUE :
			    SEQUENCE_AS_CAPTURED;
	}
}

void
config_played_again(struct config *cfg)
{
	flow_sequence_default(cfg, true);
}

static bool
addr_in(const struct cfg_addr_list *l, const struct tr_addr *a)
{
	for (size_t i = 0; i < l->n; i++)
		if (addr_equal(&l->v[i], a))
			return true;
	return false;
}

static const char *
family_name(const struct tr_addr *a)
{
	return a->family == AF_INET ? "IPv4" : "IPv6";
}

/*
 * An exporter whose repro_ip has another family than the literal address of
 * every collector its packets could go to (the sections whose select.ip.src
 * takes it) can send nothing at all: a config error.  When one of them can
 * be reached, the others are not (DESIGN: a collector without an address of
 * the exporter's family only fails the packets that need it; the older tool
 * ran such configs): the replay says so if packets come.  Only a literal
 * collector address is known now: a hostname resolves at start-up, and
 * localhost follows the repro_ip's family.
 */
static int
check_families(struct ctx *c)
{
	const struct config	*cfg = c->cfg;
	char			 src[TR_ADDR_STRLEN], repro[TR_ADDR_STRLEN];

	for (size_t i = 0; i < cfg->n_map; i++) {
		const struct cfg_map_entry	*m = &cfg->map[i];
		const struct cfg_section	*first = NULL;
		struct tr_addr			 coll, first_coll;
		bool				 reachable = false;

		for (int id = 0; id < SECTION_COUNT && !reachable; id++) {
			const struct cfg_section *sec = &cfg->section[id];

			if (!sec->has_collector || (sec->select.ip_src.set &&
			    !addr_in(&sec->select.ip_src, &m->src_ip)))
				continue;
			if (addr_parse(sec->collector_host, &coll) == -1 ||
			    coll.family == m->repro_ip.family)
				reachable = true;
			else if (first == NULL) {
				first = sec;
				first_coll = coll;
			}
		}
		if (reachable || first == NULL)
			continue;
		addr_format(&m->src_ip, src, sizeof(src));
		addr_format(&m->repro_ip, repro, sizeof(repro));
		snprintf(c->err, c->errlen, "%s:%d:%d: network.map: repro_ip "
		    "%s of exporter %s is %s, but the %s collector %s (line "
		    "%d) is %s: none of its packets could be sent; give the "
		    "exporter an %s repro_ip, or the collector an %s address",
		    c->file, m->pos.line, m->pos.col, repro, src,
		    family_name(&m->repro_ip),
		    protocols[first - cfg->section]->name, first->collector_host,
		    first->collector_pos.line, family_name(&first_coll),
		    family_name(&first_coll), family_name(&m->repro_ip));
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/* Checks that span keys, once the whole file is read; and defaults that depend on several. */
static int
check_cross(struct ctx *c)
{
	const struct config *cfg = c->cfg;

	if (cfg->has_repeat && c->n_repeat_count != cfg->n_pcaps) {
		path_push_key(c, "repeat");
		path_push_key(c, "count");
		return fail(c, c->repeat_count, "%zu count%s for %zu pcap "
		    "file%s; give one count per pcap, in the same order",
		    c->n_repeat_count, c->n_repeat_count == 1 ? "" : "s",
		    cfg->n_pcaps, cfg->n_pcaps == 1 ? "" : "s");
	}
	if (check_families(c) == -1)
		return -1;
	flow_sequence_default(c->cfg, false);
	return 0;
}

static int
yaml_failure(struct ctx *c, const yaml_parser_t *p)
{
	const char *problem = p->problem != NULL ? p->problem : "unknown error";

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		return fail(c, NULL, "out of memory reading YAML");
	case YAML_READER_ERROR:
		return fail(c, NULL, "cannot read YAML at byte %zu: %s",
		    p->problem_offset, problem);
	default:
		break;
	}
	if (p->context != NULL && (p->context_mark.line !=
	    p->problem_mark.line || p->context_mark.column !=
	    p->problem_mark.column))
		snprintf(c->err, c->errlen, "%s:%zu:%zu: YAML syntax error: "
		    "%s %s (line %zu, column %zu)", c->file,
		    p->problem_mark.line + 1, p->problem_mark.column + 1,
		    problem, p->context, p->context_mark.line + 1,
		    p->context_mark.column + 1);
	else
		snprintf(c->err, c->errlen, "%s:%zu:%zu: YAML syntax error: "
		    "%s%s%s", c->file, p->problem_mark.line + 1,
		    p->problem_mark.column + 1, problem,
		    p->context != NULL ? " " : "",
		    p->context != NULL ? p->context : "");
	errno = EINVAL;
	return -1;
}

/* Parse one document; a second one in the file is refused. */
static int
load_document(struct ctx *c, FILE *f, yaml_document_t *doc)
{
	yaml_parser_t	parser;
	yaml_document_t	extra;
	int		rc = 0;

	if (!yaml_parser_initialize(&parser))
		return fail(c, NULL, "out of memory");
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, doc)) {
		rc = yaml_failure(c, &parser);
		yaml_parser_delete(&parser);
		return rc;
	}
	if (yaml_document_get_root_node(doc) == NULL) {
		rc = fail(c, NULL, "empty config; it needs at least "
		    "'pcap: FILE' and, to replay, a network.map and a "
		    "protocol section");
	} else if (!yaml_parser_load(&parser, &extra)) {
		rc = yaml_failure(c, &parser);
	} else {
		yaml_node_t *root = yaml_document_get_root_node(&extra);

		if (root != NULL)
			rc = fail(c, root, "a second YAML document ('---'); "
			    "a config holds one");
		yaml_document_delete(&extra);
	}
	if (rc == -1)
		yaml_document_delete(doc);
	yaml_parser_delete(&parser);
	return rc;
}

/*
 * strict: true governs every key of the file, also those above it, so it is
 * read before the walk.
 */
static int
read_strict(struct ctx *c, yaml_node_t *root)
{
	yaml_node_t	*v = mapping_get(c, root, "strict");
	bool		 file_strict = false;
	size_t		 old;

	if (v != NULL) {
		old = path_push_key(c, "strict");
		if (get_bool(c, v, &file_strict) == -1)
			return -1;
		path_pop(c, old);
	}
	c->strict = c->opts->strict || file_strict;
	if (c->opts->strict)
		snprintf(c->strict_why, sizeof(c->strict_why),
		    "refused by --strict");
	else if (file_strict)
		snprintf(c->strict_why, sizeof(c->strict_why),
		    "refused by strict: true (line %zu)",
		    v->start_mark.line + 1);
	c->cfg->strict = c->strict;
	return 0;
}

int
config_load(const char *path, const struct config_load_opts *opts,
    struct config *cfg, char *err, size_t errlen)
{
	static const struct config_load_opts defaults;
	struct ctx	 c = {
		.file = path, .cfg = cfg, .err = err, .errlen = errlen,
		.opts = opts != NULL ? opts : &defaults,
	};
	yaml_document_t	 doc;
	struct stat	 st;
	FILE		*f;
	int		 rc;

	/* On failure the caller gets a zeroed struct, nothing allocated. */
	memset(cfg, 0, sizeof(*cfg));
	if (errlen > 0)
		err[0] = '\0';
	if ((f = fopen(path, "r")) == NULL) {
		int saved = errno;

		snprintf(err, errlen, "%s: cannot open: %s", path,
		    strerror(saved));
		errno = saved;
		return -1;
	}
	/* fopen() takes a directory; reading it would only say "input error". */
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		fclose(f);
		snprintf(err, errlen, "%s: cannot read: %s", path,
		    strerror(EISDIR));
		errno = EISDIR;
		return -1;
	}
	/* A read error surfaces as a libyaml reader error ("input error"). */
	rc = load_document(&c, f, &doc);
	fclose(f);
	config_defaults(cfg);
	if (rc == -1) {
		config_free(cfg);
		return -1;
	}
	c.doc = &doc;
	make_top_rules();
	make_select_rules();
	rc = read_strict(&c, yaml_document_get_root_node(&doc));
	if (rc == 0)
		rc = walk_mapping(&c, yaml_document_get_root_node(&doc),
		    top_rules, n_top_rules, cfg);
	if (rc == 0)
		rc = check_cross(&c);
	if (rc == 0 && (cfg->path = strdup(path)) == NULL)
		rc = fail(&c, NULL, "out of memory");
	yaml_document_delete(&doc);
	if (rc == -1) {
		int saved = errno;

		config_free(cfg);
		errno = saved;
		return -1;
	}
	log_debug("config %s: %zu pcap file(s), %zu exporter(s) mapped",
	    path, cfg->n_pcaps, cfg->n_map);
	return 0;
}

int
config_check_replay(const struct config *cfg, char *err, size_t errlen)
{
	bool any = false;

	for (int id = 0; id < SECTION_COUNT; id++) {
		const struct cfg_section *sec = &cfg->section[id];

		if (!sec->enabled)
			continue;
		any = true;
		if (!sec->has_collector) {
			snprintf(err, errlen, "%s:%d:%d: %s: no collector to "
			    "replay to; add 'collector: {ip: ADDRESS, port: "
			    "PORT}' to the section", cfg->path, sec->pos.line,
			    sec->pos.col, protocols[id]->name);
			errno = EINVAL;
			return -1;
		}
	}
	if (!any) {
		snprintf(err, errlen, "%s: no protocol section to replay; add "
		    "one of ipfix, bmp, bgp, udp_generic, tcp_generic with a "
		    "select and a collector", cfg->path);
		errno = EINVAL;
		return -1;
	}
	if (cfg->n_map == 0) {
		if (cfg->map_pos.line > 0)
			snprintf(err, errlen, "%s:%d:%d: network.map: empty; "
			    "add src_ip/repro_ip pairs to %s, one per "
			    "exporter to replay", cfg->path, cfg->map_pos.line,
			    cfg->map_pos.col, cfg->path);
		else
			snprintf(err, errlen, "%s: network.map: missing; add "
			    "src_ip/repro_ip pairs to %s, one per exporter to "
			    "replay", cfg->path, cfg->path);
		errno = EINVAL;
		return -1;
	}
	return 0;
}

static void
select_free(struct cfg_select *s)
{
	free(s->ip_src.v);
	free(s->ip_dst.v);
	free(s->udp_sport.v);
	free(s->udp_dport.v);
	free(s->tcp_sport.v);
	free(s->tcp_dport.v);
	for (size_t k = 0; k < PROTO_FILTER_KEYS; k++) {
		free(s->header[k].v);
		free(s->header_addr[k].v);
	}
}

void
config_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < cfg->n_pcaps; i++)
		free(cfg->pcaps[i]);
	free(cfg->pcaps);
	free(cfg->path);
	free(cfg->repeat_count);
	free(cfg->map);
	free(cfg->interface);
	for (int id = 0; id < SECTION_COUNT; id++) {
		select_free(&cfg->section[id].select);
		free(cfg->section[id].collector_host);
	}
	free(cfg->pcap_processing.output_folder);
	memset(cfg, 0, sizeof(*cfg));
}

bool
config_reconnect(const struct config *cfg, bool cli_keep_open)
{
	if (cfg->reconnect_set)
		return cfg->reconnect;
	return cfg->keep_open || cli_keep_open;
}

/* ---- the key list (a hidden --list-config-keys: the yml(5) page's test) ---- */

/*
 * Whether a rule of a section's tables applies to that section: the same
 * conditions its handler checks when it meets the key (a key that does not
 * apply is an error there, so it is no key of that section).
 */
static bool
rule_applies(const struct key_rule *r, int section)
{
	if (section < 0)
		return true;
	if (r->fn == h_transport)
		return protocols[section]->l4proto ==
		    ((const struct transport_rule *)r->arg)->proto;
	if (r->fn == h_header)
		return ((const struct header_rule *)r->arg)->only ==
		    (enum section_id)section;
	if (r->fn == h_bgp_open)
		return section == SECTION_BGP;
	if (r->fn == h_flow_choice || r->fn == h_sequence ||
	    r->fn == h_flow_bool)
		return (protocols[section]->keys &
		    ((const struct flow_key_rule *)r->arg)->flag) != 0;
	return true;
}

/*
 * Every key path of a table and of the tables nested under it, one per
 * line.  A handler that walks a nested table must be named here, else its
 * keys are missing from the list (and from the page's test).
 */
static void
list_keys(FILE *out, const char *prefix, const struct key_rule *rules,
    size_t n, int section)
{
	for (size_t i = 0; i < n; i++) {
		const struct key_rule *r = &rules[i];
		const void *arg = r->arg;
		char path[KEYPATH_MAX];
		int id;

		if (!rule_applies(r, section))
			continue;
		/* Paths are short (the tables are ours); a cut one is left out rather than listed wrong. */
		if (snprintf(path, sizeof(path), "%s%s%s", prefix,
		    *prefix != '\0' ? "." : "", r->key) >= (int)sizeof(path))
			continue;
		fprintf(out, "%s\n", path);
		if (r->fn == h_submap)
			list_keys(out, path, ((const struct submap *)arg)->rules,
			    ((const struct submap *)arg)->n, section);
		else if (r->fn == h_repeat)
			list_keys(out, path, repeat_rules, NELEM(repeat_rules),
			    section);
		else if (r->fn == h_map) {
			/* A list of entries: their keys as network.map[].src_ip. */
			if (strlen(path) + 2 >= sizeof(path))
				continue;
			strcat(path, "[]");
			list_keys(out, path, map_entry_rules,
			    NELEM(map_entry_rules), section);
		} else if (r->fn == h_transport)
			list_keys(out, path,
			    ((const struct transport_rule *)arg)->map.rules,
			    ((const struct transport_rule *)arg)->map.n,
			    section);
		else if (r->fn == h_header)
			list_keys(out, path,
			    ((const struct header_rule *)arg)->map.rules,
			    ((const struct header_rule *)arg)->map.n, section);
		else if (r->fn == h_select)
			list_keys(out, path, select_rules, n_select_rules,
			    section);
		else if (r->fn == h_collector)
			list_keys(out, path, collector_rules,
			    NELEM(collector_rules), section);
		else if (r->fn == h_bgp_open)
			list_keys(out, path, bgp_open_rules,
			    NELEM(bgp_open_rules), section);
		else if (r->fn == h_pcap_processing)
			list_keys(out, path, pp_rules, NELEM(pp_rules),
			    section);
		else if (r->fn == h_section) {
			for (id = 0; id < SECTION_COUNT; id++)
				if (strcmp(r->key, protocols[id]->name) == 0)
					list_keys(out, path, section_rules,
					    NELEM(section_rules), id);
		}
	}
}

void
config_list_keys(FILE *out)
{
	make_top_rules();
	make_select_rules();
	list_keys(out, "", top_rules, n_top_rules, -1);
}
