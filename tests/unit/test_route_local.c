/* Unit tests for route_local: loopback's addresses are routed here, a documentation address is not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "route_local.h"

static bool
is_local(const char *text)
{
	struct tr_addr a;
	bool local = false;

	assert_int_equal(addr_parse(text, &a), 0);
	assert_int_equal(route_is_local(&a, &local), 0);
	return local;
}

static void
test_loopback(void **state)
{
	(void)state;
	assert_true(is_local("127.0.0.1"));
	/* 127/8 is one local route, as an AnyIP prefix is: no address needed. */
	assert_true(is_local("127.255.255.254"));
}

/* TEST-NET-2 (RFC 5737): no host of these tests has it; routed away, or not at all. */
static void
test_not_local(void **state)
{
	(void)state;
	assert_false(is_local("198.51.100.254"));
	assert_false(is_local("2001:db8:7777::1"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loopback),
		cmocka_unit_test(test_not_local),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
