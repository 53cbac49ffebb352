/* grep11d's gRPC transport: completion queues, worker threads, the call
 * lifecycle and orderly shutdown. See ../../shared/GRPC_NOTES.md for the
 * pitfalls this code is shaped around. */
#ifndef GREP11_SERVER_SERVER_H
#define GREP11_SERVER_SERVER_H

#include <stdatomic.h>
#include <stddef.h>

#include "config.h"
#include "engine.h"
#include "services.h"

typedef struct server server;

/* Binds the listening socket and starts the gRPC server; on success *out
 * is running and *bound_port holds the actual port (useful with port 0).
 * Connections wait in the kernel's queue until server_accept. svc stays
 * owned by the caller. */
int server_start(const server_config *cfg, services *svc, server **out, int *bound_port, char *err,
                 size_t errlen);

/* Accepts client connections from now on, at most max_connections at
 * once; one beyond is closed as it comes (its client sees UNAVAILABLE).
 * 0, or -1 with a reason in err. */
int server_accept(server *srv, unsigned max_connections, char *err, size_t errlen);

/* Stops accepting connections; answers calls that arrive UNAVAILABLE
 * while those running finish, for at most grace_ms; closes every
 * connection (idle ones too), shuts the gRPC server down, joins the
 * workers and frees everything. */
void server_stop(server *srv, int grace_ms);

#endif
