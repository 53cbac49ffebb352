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

/* Starts listening; on success *out is running and *bound_port holds the
 * actual port (useful with port 0). svc stays owned by the caller. */
int server_start(const server_config *cfg, services *svc, server **out, int *bound_port, char *err,
                 size_t errlen);

/* Stops accepting calls, lets in-flight calls finish (cancelling them after
 * grace_ms), joins the workers and frees everything. */
void server_stop(server *srv, int grace_ms);

#endif
