/* grep11d's gRPC listening socket, owned by grep11d rather than by gRPC,
 * so that the number of client connections is capped (max_connections)
 * and a flood of connections can never take the descriptors the keystore
 * needs (handover.h says why gRPC cannot do this itself).
 *
 * A thread accepts. A connection within max_connections is handed to the
 * gRPC server; one beyond it is closed at once, which its client sees as
 * UNAVAILABLE (the connection failed) and retries later or elsewhere.
 * Connections are tracked by descriptor and inode, so that the count
 * falls when gRPC closes them, without gRPC telling: a sweep, when the
 * table is full, drops every entry whose descriptor no longer names the
 * socket it was made for. */
#ifndef GREP11_SERVER_LISTENER_H
#define GREP11_SERVER_LISTENER_H

#include <stddef.h>

typedef struct listener listener;

/* Binds addr ("HOST:PORT", "[V6ADDR]:PORT"; a name binds each of its
 * addresses, up to four; port 0 picks a free port) and listens; nothing
 * is accepted yet. *port gets the port bound. -1 with a reason in err. */
int listener_open(const char *addr, listener **out, int *port, char *err, size_t errlen);

/* Starts accepting: at most max_connections (>= 1) connections are open
 * at once, each handed to gRPC's handler (handover.h). 0 or -1. */
int listener_start(listener *l, void *handler, unsigned max_connections, char *err, size_t errlen);

/* Stops accepting and closes the listening sockets (new connections are
 * refused by the kernel); connections already handed over stay. Must come
 * before the gRPC server shuts down: the handler dies with it. */
void listener_stop(listener *l);

/* Shuts down, both ways, every connection handed over that is still
 * open: gRPC then sees each one end and closes it. After listener_stop.
 * Returns how many there were. */
unsigned listener_disconnect_all(listener *l);

/* Frees l (stopping it first if need be). NULL is fine. */
void listener_free(listener *l);

#endif
