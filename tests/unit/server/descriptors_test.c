/* The descriptor accounting of grep11d's listener: connections counted by
 * descriptor and inode (conntrack.c), and the budget that sizes
 * max_connections (fdbudget.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "conntrack.h"
#include "fdbudget.h"

/* Closed connections leave the count at the next sweep; a number reused
 * for another socket is not taken for the old connection. */
static void conntrack_counts_what_is_open(void **state)
{
    (void)state;
    conntrack t;
    int a[2], b[2], c[2];
    assert_int_equal(conntrack_init(&t, 2), 0);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, a), 0);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, b), 0);
    assert_int_equal(conntrack_add(&t, a[0]), 0);
    assert_int_equal(conntrack_add(&t, b[0]), 0);
    assert_int_equal(conntrack_add(&t, b[1]), -1); /* full */
    assert_int_equal(conntrack_sweep(&t), 2);
    int reused = a[0];
    close(a[0]);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, c), 0);
    assert_int_equal(c[0], reused); /* the lowest free number */
    assert_int_equal(conntrack_sweep(&t), 1);
    assert_int_equal(conntrack_add(&t, c[0]), 0);
    /* Shut down both ways: the peer reads the end. */
    assert_int_equal(conntrack_shutdown_all(&t), 2);
    char x;
    assert_int_equal(read(b[1], &x, 1), 0);
    assert_int_equal(read(c[1], &x, 1), 0);
    conntrack_fini(&t);
    close(a[1]);
    close(b[0]);
    close(b[1]);
    close(c[0]);
    close(c[1]);
}

static void budget_keeps_the_reserve(void **state)
{
    (void)state;
    char err[256];
    fdbudget b;
    fdbudget_raise(&b);
    assert_true(b.limit >= b.was);
    /* Sizes as under a limit of 256: the HTTP front gets 16. */
    b.limit = 256;
    b.http_connections = 16;
    assert_int_equal(fdbudget_plan(&b, 0, 4, 1, err, sizeof(err)), 0);
    assert_int_equal(b.reserve, 4 * FDBUDGET_PER_DB_CONNECTION + 16 + FDBUDGET_MARGIN);
    assert_int_equal(b.max_connections, 256 - b.in_use - b.reserve);
    unsigned all = b.max_connections;
    /* Lower when asked; never higher than what fits. */
    assert_int_equal(fdbudget_plan(&b, 10, 4, 1, err, sizeof(err)), 0);
    assert_int_equal(b.max_connections, 10);
    assert_int_equal(fdbudget_plan(&b, 100000, 4, 1, err, sizeof(err)), 0);
    assert_int_equal(b.max_connections, all);
    /* Without the HTTP front its reserve goes to connections. */
    assert_int_equal(fdbudget_plan(&b, 0, 4, 0, err, sizeof(err)), 0);
    assert_int_equal(b.max_connections, all + 16);
    /* A huge limit: the default stays bounded. */
    b.limit = 1ul << 30;
    assert_int_equal(fdbudget_plan(&b, 0, 4, 1, err, sizeof(err)), 0);
    assert_int_equal(b.max_connections, FDBUDGET_DEFAULT_MAX_CONNECTIONS);
    /* A limit that leaves too little: refuse, saying how much is needed. */
    b.limit = 64;
    assert_int_equal(fdbudget_plan(&b, 0, 4, 1, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "raise it to at least"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(conntrack_counts_what_is_open),
        cmocka_unit_test(budget_keeps_the_reserve),
    };
    return cmocka_run_group_tests_name("descriptors", tests, NULL, NULL);
}
