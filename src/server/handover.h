/* Giving gRPC a connection that grep11d accepted itself.
 *
 * gRPC C core 1.51 (Debian bookworm) cannot cap the connections it
 * accepts (GRPC_ARG_MAX_ALLOWED_INCOMING_CONNECTIONS came later), and when
 * accept4 fails with EMFILE its listener logs "Failed accept4" and never
 * accepts again. So grep11d owns the listening socket (listener.c) and
 * hands each connection it admits to gRPC through the server's "external"
 * port: the mechanism behind grpc++'s ExternalConnectionAcceptor, which
 * gives the connection the server's credentials (TLS) like any other.
 *
 * The C API has the port ("external:NAME" in grpc_server_add_http2_port,
 * with a pointer channel argument of the same name where gRPC leaves its
 * handler); calling the handler needs C++ (handover.cc). */
#ifndef GREP11_SERVER_HANDOVER_H
#define GREP11_SERVER_HANDOVER_H

#include <grpc/grpc.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The port to add with grpc_server_add_http2_port; the channel argument
 * has the same name. */
#define HANDOVER_PORT "external:grep11d"

/* The channel argument for grpc_server_create: once the port is added,
 * *slot holds gRPC's handler (NULL: this gRPC has no such port). *slot
 * must outlive the server. */
void handover_arg(grpc_arg *arg, void **slot);

/* Gives fd, a connected non-blocking stream socket accepted on
 * listener_fd, to the server; gRPC owns and closes it from now on. Only
 * between grpc_server_start and grpc_server_shutdown_and_notify (the
 * handler dies with the port). Thread-safe. */
void handover_connection(void *handler, int listener_fd, int fd);

#ifdef __cplusplus
}
#endif

#endif
