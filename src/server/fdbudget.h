/* grep11d's file descriptors: how many it may have (RLIMIT_NOFILE, raised
 * to the hard limit at start) and how they are shared, so that client
 * connections can never take the ones the keystore needs to open its
 * database (docs/internals/server.md, "Connections and descriptors").
 *
 * The budget: what is open once everything has started, a reserve (the
 * keystore's database connections, the HTTP front's connections, a
 * margin), and the rest for gRPC client connections: max_connections,
 * unless configured lower. */
#ifndef GREP11_SERVER_FDBUDGET_H
#define GREP11_SERVER_FDBUDGET_H

#include <stddef.h>

/* Descriptors one keystore database connection may hold: SQLite's
 * database and WAL files and a temporary file (a PostgreSQL connection
 * holds one socket). */
#define FDBUDGET_PER_DB_CONNECTION 3u
/* For what opens a descriptor now and then: configuration, certificate
 * and key-part files, a database connection being replaced, the socket
 * a refused client connection is accepted on before it is closed. */
#define FDBUDGET_MARGIN 32u
/* Default max_connections at most (the listener keeps 24 bytes each). */
#define FDBUDGET_DEFAULT_MAX_CONNECTIONS 65536u
/* Fewer connections than this left by the limit: refuse to start. */
#define FDBUDGET_MIN_CONNECTIONS 8u

typedef struct {
    unsigned long limit;       /* RLIMIT_NOFILE soft limit, after raising */
    unsigned long was;         /* ... before */
    unsigned long hard;        /* the hard limit */
    unsigned http_connections; /* the HTTP front's cap */
    unsigned in_use;           /* open once everything had started */
    unsigned reserve;          /* kept free for the store, the HTTP front, the margin */
    unsigned max_connections;  /* gRPC client connections at once */
} fdbudget;

/* Raises the soft limit to the hard limit (to the kernel's nr_open when
 * the hard limit is unlimited) and sizes the HTTP front from it. */
void fdbudget_raise(fdbudget *b);

/* Counts the descriptors open now and sets max_connections: what the
 * limit leaves after them and the reserve, or `wanted` when that is lower
 * (0: no wish), at most FDBUDGET_DEFAULT_MAX_CONNECTIONS unless wanted.
 * db_connections: the keystore's pool; http: the HTTP front is on. Logs
 * one line. -1 with a reason in err when the limit leaves fewer than
 * FDBUDGET_MIN_CONNECTIONS. */
int fdbudget_plan(fdbudget *b, unsigned wanted, unsigned db_connections, int http, char *err,
                  size_t errlen);

#endif
