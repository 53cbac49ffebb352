/* A TCP proxy on loopback, between a client and a plaintext (--insecure)
 * grep11d, that loses answers on purpose: a call whose request message
 * contains a marker reaches the server, which runs it, and the connection
 * is then cut before the server's answer to that call gets back. The
 * client sees a transport failure after the call ran: the uncertain
 * failure that resending must get right.
 *
 * It reads the HTTP/2 framing of both directions to find the marked call's
 * stream and the end of its answer (the trailers, END_STREAM); every other
 * byte is relayed as it comes. Plaintext only: it cannot see into TLS. */
#ifndef GREP11_TEST_DROPPROXY_H
#define GREP11_TEST_DROPPROXY_H

#include <stddef.h>

typedef struct drop_proxy drop_proxy;

/* Listens on 127.0.0.1 (a free port) and connects each client to upstream
 * ("127.0.0.1:PORT"). NULL on failure. */
drop_proxy *drop_proxy_start(const char *upstream);
/* "127.0.0.1:PORT": where clients connect. */
const char *drop_proxy_addr(const drop_proxy *p);
/* The next `count` calls whose request contains marker (at most 64 bytes)
 * lose their answer; replaces an earlier arming and zeroes the counters. */
void drop_proxy_arm(drop_proxy *p, const void *marker, size_t len, int count);
/* Requests seen with the marker since arming (each send of a call counts),
 * and of those the ones whose answer was lost. */
int drop_proxy_seen(drop_proxy *p);
int drop_proxy_cut(drop_proxy *p);
/* Plays a server that is gone: closes every connection and refuses new
 * ones (nothing listens on the port) for ms, then listens again. Returns
 * once the port is closed. */
int drop_proxy_refuse_for(drop_proxy *p, int ms);
void drop_proxy_stop(drop_proxy *p);

#endif
