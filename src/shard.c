/* --shard and --start-at: parsing, and the stable hash that gives each exporter its shard. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hash.h"
#include "shard.h"

/* A whole number of digits only (no sign, no spaces: strtoul would take them). */
static int
parse_u32(const char *s, const char *end, uint32_t *out)
{
	uint64_t v = 0;

	if (s == end)
		return -1;
	for (; s < end; s++) {
		if (!isdigit((unsigned char)*s) || (v = v * 10 +
		    (uint64_t)(*s - '0')) > UINT32_MAX)
			return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

int
shard_parse(const char *arg, struct shard *out)
{
	const char *slash = strchr(arg, '/');
	uint32_t k, n;

	if (slash == NULL || parse_u32(arg, slash, &k) == -1 ||
	    parse_u32(slash + 1, slash + strlen(slash), &n) == -1 ||
	    n == 0 || n > SHARD_MAX || k == 0 || k > n)
		return -1;
	out->k = k;
	out->n = n;
	return 0;
}

uint32_t
shard_of(const struct tr_addr *src_ip, uint32_t n)
{
	/*
	 * FNV-1a over the address bytes only (addr_hash: no struct padding, which
	 * could differ between builds); its low bits mix poorly for nearby
	 * addresses, so it is finalized before the modulo.
	 */
	return hash_fmix32(addr_hash(src_ip, FNV1A_BASIS)) % n + 1;
}

bool
shard_keeps(const struct shard *s, const struct tr_addr *src_ip)
{
	return s->n == 0 || shard_of(src_ip, s->n) == s->k;
}

/* ".123" after the seconds: nanoseconds (digits past the ninth are dropped). */
static const char *
parse_fraction(const char *p, tr_ns *ns)
{
	tr_ns scale = TR_NS_PER_SEC / 10;

	*ns = 0;
	if (*p != '.')
		return p;
	if (!isdigit((unsigned char)p[1]))
		return NULL;
	for (p++; isdigit((unsigned char)*p); p++, scale /= 10)
		*ns += (tr_ns)(*p - '0') * scale;
	return p;
}

/* Unix seconds: digits, then an optional fraction. */
static int
parse_unix(const char *arg, tr_ns *out)
{
	const char *p = arg;
	tr_ns frac;
	uint64_t secs = 0;

	if (!isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++)
		if ((secs = secs * 10 + (uint64_t)(*p - '0')) > 1ull << 33)
			return -1;	/* past the year 2242: a typo */
	if ((p = parse_fraction(p, &frac)) == NULL || *p != '\0')
		return -1;
	*out = (tr_ns)secs * TR_NS_PER_SEC + frac;
	return 0;
}

/* RFC 3339: YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM); 't', 'z' and a space for T too. */
static int
parse_rfc3339(const char *arg, tr_ns *out)
{
	struct tm tm, check;
	int year, mon, day, hour, min, sec, used = 0, oh, om;
	const char *p;
	tr_ns frac;
	time_t t;
	long offset = 0;

	if (sscanf(arg, "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &year, &mon, &day,
	    &hour, &min, &sec, &used) != 6 || used != 19)
		return -1;
	if ((p = parse_fraction(arg + used, &frac)) == NULL)
		return -1;
	if ((*p == 'Z' || *p == 'z') && p[1] == '\0')
		offset = 0;
	else if ((*p == '+' || *p == '-') && strlen(p) == 6 &&
	    isdigit((unsigned char)p[1]) && isdigit((unsigned char)p[2]) &&
	    p[3] == ':' && isdigit((unsigned char)p[4]) &&
	    isdigit((unsigned char)p[5])) {
		oh = (p[1] - '0') * 10 + (p[2] - '0');
		om = (p[4] - '0') * 10 + (p[5] - '0');
		if (oh > 23 || om > 59)
			return -1;
		offset = (*p == '+' ? 1 : -1) * (oh * 3600L + om * 60L);
	} else
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec;
	if (year < 1970 || sec > 60 || (t = timegm(&tm)) == (time_t)-1)
		return -1;
	/* timegm normalizes 2026-02-30 into March: a date that moved was not a date. */
	if (gmtime_r(&t, &check) == NULL || check.tm_mday != day ||
	    check.tm_mon != mon - 1 || check.tm_hour != hour ||
	    check.tm_min != min)
		return -1;
	*out = ((tr_ns)t - offset) * TR_NS_PER_SEC + frac;
	return 0;
}

int
start_at_parse(const char *arg, tr_ns *out)
{
	return strchr(arg, '-') != NULL && strlen(arg) >= 19 ?
	    parse_rfc3339(arg, out) : parse_unix(arg, out);
}
