/* The client connections grep11d handed to gRPC, counted without gRPC's
 * help: gRPC closes a connection's descriptor when the connection ends
 * and tells nobody. Each entry keeps the descriptor and the socket's
 * device and inode; an entry whose descriptor is closed, or now names
 * another file (the number was reused), is a connection that ended.
 * Bounded: at most `cap` entries. Not thread-safe (the listener's one
 * thread uses it, and the main thread once that thread has stopped). */
#ifndef GREP11_SERVER_CONNTRACK_H
#define GREP11_SERVER_CONNTRACK_H

#include <sys/types.h>

typedef struct {
    int fd;
    dev_t dev;
    ino_t ino;
} conntrack_entry;

typedef struct {
    conntrack_entry *e;
    unsigned n, cap;
} conntrack;

/* 0, or -1 when out of memory. */
int conntrack_init(conntrack *t, unsigned cap);
void conntrack_fini(conntrack *t);

/* Records fd, an open socket about to be handed over. -1 when the table
 * is full (the caller may sweep and try again) or fd cannot be examined. */
int conntrack_add(conntrack *t, int fd);

/* Drops the entries of connections that have ended; returns how many
 * remain. O(n) fstat calls. */
unsigned conntrack_sweep(conntrack *t);

/* shutdown(SHUT_RDWR) on every connection still open; returns how many.
 * A descriptor is checked to name its socket still just before, so a
 * number gRPC closed and something else reused is left alone (nothing
 * else opens descriptors at that point: the server is stopping). */
unsigned conntrack_shutdown_all(conntrack *t);

#endif
