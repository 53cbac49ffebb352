/* Starting gRPC the same way in grep11d and libgrep11. */
#ifndef GREP11_GRPC_RUNTIME_H
#define GREP11_GRPC_RUNTIME_H

#ifdef __cplusplus
extern "C" {
#endif

/* grpc_init(), after switching off Abseil's mutex deadlock detection.
 *
 * Debian builds Abseil without NDEBUG, which leaves that debugging aid on:
 * every lock gRPC takes then records itself in a process-wide lock graph
 * behind a global spinlock (3-7 % of a small call's CPU on these machines,
 * docs/performance.md). Upstream release builds have it off; it only
 * watches Abseil mutexes (gRPC's own), never ours. Safe to call more than
 * once; pair each call with grpc_shutdown(). */
void grep11_grpc_init(void);

#ifdef __cplusplus
}
#endif

#endif
