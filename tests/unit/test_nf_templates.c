/*
 * Unit tests for the template store on hand-built IPFIX template records:
 * new, same and changed definitions, withdrawals of one and of all, the
 * caps on entries and bytes, and the record bytes kept for priming.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "netflow.h"
#include "nf_templates.h"

/* One template record, parsed, over the bytes it came from. */
struct rec {
	uint8_t			b[64];
	struct nf_template	t;
};

/* Template id with n fields (octetDeltaCount, 8 bytes, then packets, 4 ...); len0: the first field's length. */
static void
template_rec(struct rec *r, uint16_t set_id, uint16_t id, uint16_t n,
    uint16_t len0)
{
	size_t o = 0;

	r->b[o++] = (uint8_t)(id >> 8);
	r->b[o++] = (uint8_t)id;
	r->b[o++] = 0;
	r->b[o++] = (uint8_t)n;
	if (set_id == IPFIX_OPTIONS_SET) {
		r->b[o++] = 0;
		r->b[o++] = 1;	/* one scope field */
	}
	for (uint16_t i = 0; i < n; i++) {
		uint16_t len = i == 0 ? len0 : 4;

		r->b[o++] = 0;
		r->b[o++] = (uint8_t)(1 + i);
		r->b[o++] = (uint8_t)(len >> 8);
		r->b[o++] = (uint8_t)len;
	}
	assert_int_equal(nf_template_parse(NF_VERSION_IPFIX, set_id, r->b,
	    o, &r->t), 0);
	assert_int_equal(r->t.consumed, o);
}

static struct nf_template_key
key(uint64_t scope, uint32_t domain, uint16_t id)
{
	struct nf_template_key k = { .scope = scope, .domain = domain,
	    .version = NF_VERSION_IPFIX, .id = id };

	return k;
}

static enum nf_define
define(struct nf_templates *s, uint64_t scope, uint32_t domain,
    uint16_t set_id, const struct rec *r)
{
	struct nf_template_key k = key(scope, domain, r->t.id);

	return nf_templates_define(s, &k, set_id, &r->t, r->b);
}

static const struct nf_stored_template *
find(const struct nf_templates *s, uint64_t scope, uint32_t domain,
    uint16_t id)
{
	struct nf_template_key k = key(scope, domain, id);

	return nf_templates_find(s, &k);
}

static void
test_define_same_changed(void **state)
{
	struct nf_templates s;
	const struct nf_stored_template *t;
	struct rec a, a2, b;

	(void)state;
	nf_templates_init(&s, 100, 1 << 20, NF_TEMPLATES_FIELDS);
	template_rec(&a, IPFIX_TEMPLATE_SET, 256, 2, 8);
	template_rec(&a2, IPFIX_TEMPLATE_SET, 256, 2, 4);
	template_rec(&b, IPFIX_TEMPLATE_SET, 257, 3, 8);
	assert_null(find(&s, 1, 7, 256));
	assert_int_equal(define(&s, 1, 7, IPFIX_TEMPLATE_SET, &a),
	    NF_DEFINE_NEW);
	assert_int_equal(define(&s, 1, 7, IPFIX_TEMPLATE_SET, &a),
	    NF_DEFINE_SAME);
	assert_int_equal(define(&s, 1, 7, IPFIX_TEMPLATE_SET, &b),
	    NF_DEFINE_NEW);
	/* Another scope or domain is another template. */
	assert_int_equal(define(&s, 2, 7, IPFIX_TEMPLATE_SET, &a),
	    NF_DEFINE_NEW);
	assert_int_equal(define(&s, 1, 8, IPFIX_TEMPLATE_SET, &a),
	    NF_DEFINE_NEW);
	assert_int_equal(s.n, 4);

	t = find(&s, 1, 7, 256);
	assert_non_null(t);
	assert_int_equal(t->set_id, IPFIX_TEMPLATE_SET);
	assert_int_equal(t->field_count, 2);
	assert_int_equal(t->record_len, 12);
	assert_int_equal(t->fields[0].ie, 1);
	assert_int_equal(t->fields[0].len, 8);
	assert_int_equal(t->record_bytes, 0);	/* not kept */

	/* Same id, another layout: replaced. */
	assert_int_equal(define(&s, 1, 7, IPFIX_TEMPLATE_SET, &a2),
	    NF_DEFINE_CHANGED);
	t = find(&s, 1, 7, 256);
	assert_int_equal(t->record_len, 8);
	assert_int_equal(t->fields[0].len, 4);
	assert_int_equal(s.bytes, (2 + 3 + 2 + 2) * sizeof(struct nf_field));
	/* The same layout in an options template set is another definition. */
	assert_int_equal(define(&s, 2, 7, IPFIX_OPTIONS_SET, &a),
	    NF_DEFINE_CHANGED);
	assert_int_equal(find(&s, 2, 7, 256)->set_id, IPFIX_OPTIONS_SET);
	nf_templates_free(&s);
}

static void
test_variable_length(void **state)
{
	struct nf_templates s;
	struct rec v;

	(void)state;
	nf_templates_init(&s, 100, 1 << 20, 0);
	template_rec(&v, IPFIX_TEMPLATE_SET, 300, 2, IPFIX_VARLEN);
	assert_int_equal(define(&s, 1, 7, IPFIX_TEMPLATE_SET, &v),
	    NF_DEFINE_NEW);
	assert_int_equal(find(&s, 1, 7, 300)->record_len, 0);
	assert_int_equal(find(&s, 1, 7, 300)->min_record_len, 1 + 4);
	/* Nothing kept besides the lengths: no bytes counted. */
	assert_null(find(&s, 1, 7, 300)->fields);
	assert_int_equal(s.bytes, 0);
	/* Changes are told by the lengths alone. */
	assert_int_equal(define(&s, 1, 7, IPFIX_TEMPLATE_SET, &v),
	    NF_DEFINE_SAME);
	template_rec(&v, IPFIX_TEMPLATE_SET, 300, 2, 8);
	assert_int_equal(define(&s, 1, 7, IPFIX_TEMPLATE_SET, &v),
	    NF_DEFINE_CHANGED);
	assert_int_equal(find(&s, 1, 7, 300)->record_len, 12);
	nf_templates_free(&s);
}

static void
test_withdraw_one(void **state)
{
	struct nf_templates s;
	struct nf_template_key k = key(1, 7, 256);
	struct rec r;

	(void)state;
	nf_templates_init(&s, 100, 1 << 20, NF_TEMPLATES_FIELDS);
	for (uint16_t id = 256; id < 300; id++) {
		template_rec(&r, IPFIX_TEMPLATE_SET, id, 1, 4);
		assert_int_equal(define(&s, 1, 7, IPFIX_TEMPLATE_SET, &r),
		    NF_DEFINE_NEW);
	}
	assert_true(nf_templates_withdraw(&s, &k));
	assert_false(nf_templates_withdraw(&s, &k));
	assert_null(find(&s, 1, 7, 256));
	/* Every other one is still found after the entries moved. */
	for (uint16_t id = 257; id < 300; id++)
		assert_non_null(find(&s, 1, 7, id));
	assert_int_equal(s.n, 43);
	assert_int_equal(s.bytes, 43 * sizeof(struct nf_field));
	/* Defined again after a withdrawal: new. */
	template_rec(&r, IPFIX_TEMPLATE_SET, 256, 1, 4);
	assert_int_equal(define(&s, 1, 7, IPFIX_TEMPLATE_SET, &r),
	    NF_DEFINE_NEW);
	nf_templates_free(&s);
}

static void
test_withdraw_all(void **state)
{
	struct nf_templates s;
	struct rec r;
	size_t seen = 0;

	(void)state;
	nf_templates_init(&s, 1000, 1 << 20, NF_TEMPLATES_FIELDS);
	/* Domain 7: 100 templates and 50 options templates; domain 8 and scope 2: 10 each. */
	for (uint16_t id = 256; id < 356; id++) {
		template_rec(&r, IPFIX_TEMPLATE_SET, id, 2, 4);
		assert_int_equal(define(&s, 1, 7, IPFIX_TEMPLATE_SET, &r),
		    NF_DEFINE_NEW);
		if (id < 266) {
			define(&s, 1, 8, IPFIX_TEMPLATE_SET, &r);
			define(&s, 2, 7, IPFIX_TEMPLATE_SET, &r);
		}
	}
	for (uint16_t id = 400; id < 450; id++) {
		template_rec(&r, IPFIX_OPTIONS_SET, id, 2, 4);
		assert_int_equal(define(&s, 1, 7, IPFIX_OPTIONS_SET, &r),
		    NF_DEFINE_NEW);
	}
	assert_int_equal(s.n, 170);
	assert_int_equal(nf_templates_withdraw_all(&s, 1, NF_VERSION_IPFIX,
	    7, IPFIX_TEMPLATE_SET), 100);
	assert_int_equal(nf_templates_withdraw_all(&s, 1, NF_VERSION_IPFIX,
	    7, IPFIX_TEMPLATE_SET), 0);
	assert_null(find(&s, 1, 7, 300));
	assert_non_null(find(&s, 1, 7, 420));
	assert_non_null(find(&s, 1, 8, 260));
	assert_non_null(find(&s, 2, 7, 260));
	assert_int_equal(s.n, 70);
	assert_int_equal(s.bytes, 70 * 2 * sizeof(struct nf_field));
	/* What is left can be iterated, and each is found by its key. */
	for (size_t i = 0; i < s.n; i++) {
		assert_ptr_equal(nf_templates_find(&s, &s.entries[i].key),
		    &s.entries[i]);
		seen++;
	}
	assert_int_equal(seen, 70);
	assert_int_equal(nf_templates_withdraw_all(&s, 1, NF_VERSION_IPFIX,
	    7, IPFIX_OPTIONS_SET), 50);
	assert_int_equal(s.n, 20);
	nf_templates_free(&s);
}

static void
test_caps(void **state)
{
	struct nf_templates s;
	struct rec r, big;

	(void)state;
	/* Room for 3 entries and 8 fields. */
	nf_templates_init(&s, 3, 8 * sizeof(struct nf_field),
	    NF_TEMPLATES_FIELDS);
	template_rec(&r, IPFIX_TEMPLATE_SET, 256, 2, 4);
	assert_int_equal(define(&s, 1, 7, IPFIX_TEMPLATE_SET, &r),
	    NF_DEFINE_NEW);
	template_rec(&r, IPFIX_TEMPLATE_SET, 257, 2, 4);
	assert_int_equal(define(&s, 1, 7, IPFIX_TEMPLATE_SET, &r),
	    NF_DEFINE_NEW);
	template_rec(&big, IPFIX_TEMPLATE_SET, 258, 5, 4);
	assert_int_equal(define(&s, 1, 7, IPFIX_TEMPLATE_SET, &big),
	    NF_DEFINE_OVER_BYTES);
	assert_null(find(&s, 1, 7, 258));
	template_rec(&r, IPFIX_TEMPLATE_SET, 258, 4, 4);
	assert_int_equal(define(&s, 1, 7, IPFIX_TEMPLATE_SET, &r),
	    NF_DEFINE_NEW);
	template_rec(&r, IPFIX_TEMPLATE_SET, 259, 1, 4);
	assert_int_equal(define(&s, 1, 7, IPFIX_TEMPLATE_SET, &r),
	    NF_DEFINE_OVER_ENTRIES);
	/* A redefinition past the byte cap leaves the one before in force. */
	template_rec(&big, IPFIX_TEMPLATE_SET, 256, 5, 4);
	assert_int_equal(define(&s, 1, 7, IPFIX_TEMPLATE_SET, &big),
	    NF_DEFINE_OVER_BYTES);
	assert_int_equal(find(&s, 1, 7, 256)->field_count, 2);
	/* A redefinition within them is stored, even at the entry cap. */
	template_rec(&r, IPFIX_TEMPLATE_SET, 256, 1, 4);
	assert_int_equal(define(&s, 1, 7, IPFIX_TEMPLATE_SET, &r),
	    NF_DEFINE_CHANGED);
	assert_int_equal(s.bytes, 7 * sizeof(struct nf_field));
	nf_templates_free(&s);
}

static void
test_record_kept(void **state)
{
	struct nf_templates s;
	const struct nf_stored_template *t;
	struct rec r, o;

	(void)state;
	nf_templates_init(&s, 100, 1 << 20, NF_TEMPLATES_RECORD);
	template_rec(&r, IPFIX_TEMPLATE_SET, 256, 3, 8);
	template_rec(&o, IPFIX_OPTIONS_SET, 257, 2, 4);
	assert_int_equal(define(&s, 1, 7, IPFIX_TEMPLATE_SET, &r),
	    NF_DEFINE_NEW);
	assert_int_equal(define(&s, 1, 7, IPFIX_OPTIONS_SET, &o),
	    NF_DEFINE_NEW);
	t = find(&s, 1, 7, 256);
	assert_int_equal(t->record_bytes, r.t.consumed);
	assert_memory_equal(nf_templates_record(t), r.b, r.t.consumed);
	assert_int_equal(t->fields[2].ie, 3);	/* the layout is kept too */
	t = find(&s, 1, 7, 257);
	assert_int_equal(t->set_id, IPFIX_OPTIONS_SET);
	assert_int_equal(t->record_bytes, o.t.consumed);
	assert_memory_equal(nf_templates_record(t), o.b, o.t.consumed);
	assert_int_equal(s.bytes, (3 + 2) * sizeof(struct nf_field) +
	    r.t.consumed + o.t.consumed);
	assert_int_equal(define(&s, 1, 7, IPFIX_TEMPLATE_SET, &r),
	    NF_DEFINE_SAME);
	nf_templates_free(&s);
	assert_int_equal(s.n, 0);
}

/* Many keys that differ in one field each: the index grows and every one stays found. */
static void
test_many(void **state)
{
	struct nf_templates s;
	struct rec r;

	(void)state;
	nf_templates_init(&s, 1 << 16, 1 << 24, NF_TEMPLATES_RECORD);
	template_rec(&r, IPFIX_TEMPLATE_SET, 256, 2, 4);
	for (uint64_t scope = 0; scope < 20; scope++)
		for (uint32_t dom = 0; dom < 100; dom++)
			assert_int_equal(define(&s, scope, dom,
			    IPFIX_TEMPLATE_SET, &r), NF_DEFINE_NEW);
	for (uint64_t scope = 0; scope < 20; scope += 2)
		for (uint32_t dom = 0; dom < 100; dom++) {
			struct nf_template_key k = key(scope, dom, 256);

			assert_true(nf_templates_withdraw(&s, &k));
		}
	for (uint64_t scope = 0; scope < 20; scope++)
		for (uint32_t dom = 0; dom < 100; dom++)
			assert_true((find(&s, scope, dom, 256) != NULL) ==
			    (scope % 2 == 1));
	nf_templates_free(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_define_same_changed),
		cmocka_unit_test(test_variable_length),
		cmocka_unit_test(test_withdraw_one),
		cmocka_unit_test(test_withdraw_all),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_record_kept),
		cmocka_unit_test(test_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
