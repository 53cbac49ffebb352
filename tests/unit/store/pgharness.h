/* A throwaway PostgreSQL server for tests: initdb in a temporary directory,
 * listening on 127.0.0.1 and a free port, as the unprivileged `postgres`
 * user when we run as root (initdb refuses root). */
#ifndef GREP11_STORE_TEST_PGHARNESS_H
#define GREP11_STORE_TEST_PGHARNESS_H

#include <stdbool.h>

typedef struct pg_server {
    char bindir[256];
    char dir[64]; /* the temporary directory (data in dir/data) */
    int port;
    bool drop_root; /* run PostgreSQL's programs as the postgres user */
    char url[256];  /* conninfo of the test database */
} pg_server;

/* 0: running with database "grep11test" created; 77: PostgreSQL binaries
 * not found (skip); -1: failure (printed). */
int pg_start(pg_server *s);
/* Stops (fast shutdown: clients disconnected) / starts the same cluster. */
int pg_stop(pg_server *s);
int pg_resume(pg_server *s);
/* SIGSTOP / SIGCONT to the postmaster and every backend: a server that is
 * alive (its kernel still answers TCP) but answers nothing. */
int pg_freeze(pg_server *s);
int pg_thaw(pg_server *s);
/* Stops the server if running and removes the directory. */
void pg_destroy(pg_server *s);

#endif
