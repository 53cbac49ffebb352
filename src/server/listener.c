#define _GNU_SOURCE /* accept4 */
#include "listener.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "conntrack.h"
#include "handover.h"
#include "log.h"

#define LISTENER_MAX_SOCKETS 4
/* A full table is swept at most this often: a sweep costs a stat per
 * connection, and a flood must not make every refusal cost one. */
#define SWEEP_EVERY_NS 50000000LL
/* After accept itself fails for want of descriptors or memory, the
 * connections wait in the kernel's queue this long before the next try. */
#define ACCEPT_BACKOFF_MS 100
#define REFUSAL_LOG_EVERY_NS 1000000000LL

struct listener {
    int socks[LISTENER_MAX_SOCKETS];
    int nsocks;
    int wake; /* eventfd: listener_stop */
    void *handler;
    unsigned max_connections;
    conntrack open;
    int64_t last_sweep_ns;
    unsigned long refused;
    int64_t last_refusal_log_ns;
    unsigned long refused_logged;
    pthread_t thread;
    int running;
};

static int64_t mono_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* Splits "host:port" or "[v6]:port"; host "" means every address. */
static int split_addr(const char *addr, char *host, size_t cap, char *port, size_t pcap)
{
    const char *colon = strrchr(addr, ':');
    if (!colon || !colon[1] || strlen(colon + 1) >= pcap)
        return -1;
    const char *h = addr;
    size_t hl = (size_t)(colon - addr);
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    if (hl >= cap)
        return -1;
    memcpy(host, h, hl);
    host[hl] = '\0';
    snprintf(port, pcap, "%s", colon + 1);
    return 0;
}

static int bound_port(int s)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (getsockname(s, (struct sockaddr *)&ss, &len) != 0)
        return -1;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

static void set_port(struct sockaddr *sa, int port)
{
    if (sa->sa_family == AF_INET)
        ((struct sockaddr_in *)sa)->sin_port = htons((uint16_t)port);
    else
        ((struct sockaddr_in6 *)sa)->sin6_port = htons((uint16_t)port);
}

/* One listening socket on ai; v6only when other addresses are bound too
 * (a lone "::" serves IPv4 as well, as gRPC's own listener does). */
static int listen_on(struct addrinfo *ai, int v6only)
{
    int s = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s < 0)
        return -1;
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (ai->ai_family == AF_INET6)
        setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
    if (bind(s, ai->ai_addr, ai->ai_addrlen) != 0 || listen(s, SOMAXCONN) != 0) {
        int e = errno;
        close(s);
        errno = e;
        return -1;
    }
    return s;
}

int listener_open(const char *addr, listener **out, int *port, char *err, size_t errlen)
{
    char host[256], service[16];
    *out = NULL;
    if (split_addr(addr, host, sizeof(host), service, sizeof(service)) != 0) {
        snprintf(err, errlen, "listen: expected HOST:PORT, got '%s'", addr);
        return -1;
    }
    struct addrinfo hints = {.ai_flags = AI_PASSIVE | AI_NUMERICSERV, .ai_socktype = SOCK_STREAM},
                    *res = NULL;
    int rc = getaddrinfo(host[0] ? host : NULL, service, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "listen: cannot resolve '%s': %s", addr, gai_strerror(rc));
        return -1;
    }
    listener *l = calloc(1, sizeof(*l));
    if (!l) {
        freeaddrinfo(res);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    l->wake = -1;
    int naddr = 0, first_port = 0, last_errno = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
        naddr++;
    for (struct addrinfo *ai = res; ai && l->nsocks < LISTENER_MAX_SOCKETS; ai = ai->ai_next) {
        if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
            continue;
        /* Port 0 on several addresses: the port the first one got. */
        if (first_port > 0)
            set_port(ai->ai_addr, first_port);
        int s = listen_on(ai, naddr > 1);
        if (s < 0) {
            last_errno = errno;
            continue;
        }
        if (first_port == 0)
            first_port = bound_port(s);
        l->socks[l->nsocks++] = s;
    }
    freeaddrinfo(res);
    if (l->nsocks == 0) {
        snprintf(err, errlen, "cannot listen on %s: %s", addr,
                 last_errno ? strerror(last_errno) : "no IP address");
        listener_free(l);
        return -1;
    }
    *port = first_port;
    *out = l;
    return 0;
}

static void log_refusals(listener *l, int64_t now)
{
    if (l->refused == l->refused_logged || now - l->last_refusal_log_ns < REFUSAL_LOG_EVERY_NS)
        return;
    log_warn("component=listener msg=\"connections refused: max_connections reached\" "
             "max_connections=%u refused=%lu total_refused=%lu",
             l->max_connections, l->refused - l->refused_logged, l->refused);
    l->refused_logged = l->refused;
    l->last_refusal_log_ns = now;
}

/* Hands fd over if there is room; closes it otherwise. */
static void admit(listener *l, int lfd, int fd)
{
    if (l->open.n == l->open.cap) {
        int64_t now = mono_ns();
        if (now - l->last_sweep_ns >= SWEEP_EVERY_NS) {
            conntrack_sweep(&l->open);
            l->last_sweep_ns = now;
        }
    }
    if (conntrack_add(&l->open, fd) != 0) {
        /* Closed unread: the client's handshake fails at once and it
         * sees UNAVAILABLE, rather than waiting for its deadline. */
        close(fd);
        l->refused++;
        log_refusals(l, mono_ns());
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    handover_connection(l->handler, lfd, fd);
}

/* Accepts what is queued on lfd; 0, or -1 when accept lacks resources. */
static int accept_queued(listener *l, int lfd)
{
    for (int burst = 0; burst < 64; burst++) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            admit(l, lfd, fd);
            continue;
        }
        if (errno == EINTR || errno == ECONNABORTED)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 0;
        log_error("component=listener msg=\"accept failed: %s; retrying in %d ms\"",
                  strerror(errno), ACCEPT_BACKOFF_MS);
        return -1;
    }
    return 0;
}

static void *accept_main(void *arg)
{
    listener *l = arg;
    struct pollfd p[LISTENER_MAX_SOCKETS + 1];
    int backoff = 0;
    for (;;) {
        for (int i = 0; i < l->nsocks; i++)
            p[i] = (struct pollfd){.fd = l->socks[i], .events = POLLIN};
        p[l->nsocks] = (struct pollfd){.fd = l->wake, .events = POLLIN};
        int n = poll(p, (nfds_t)l->nsocks + 1, backoff ? ACCEPT_BACKOFF_MS : 1000);
        if (p[l->nsocks].revents)
            break;
        log_refusals(l, mono_ns());
        if (n <= 0)
            continue;
        backoff = 0;
        for (int i = 0; i < l->nsocks; i++)
            if (p[i].revents && accept_queued(l, l->socks[i]) != 0)
                backoff = 1;
        if (backoff) {
            /* Nothing to accept with: wait without spinning, however
             * ready the queue stays. */
            poll(&p[l->nsocks], 1, ACCEPT_BACKOFF_MS);
            if (p[l->nsocks].revents)
                break;
        }
    }
    return NULL;
}

int listener_start(listener *l, void *handler, unsigned max_connections, char *err, size_t errlen)
{
    if (!handler || max_connections == 0) {
        snprintf(err, errlen, "listener: no handler or no connections allowed");
        return -1;
    }
    l->handler = handler;
    l->max_connections = max_connections;
    if (conntrack_init(&l->open, max_connections) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    l->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (l->wake < 0 || pthread_create(&l->thread, NULL, accept_main, l) != 0) {
        snprintf(err, errlen, "listener: cannot start its thread");
        return -1;
    }
    l->running = 1;
    return 0;
}

void listener_stop(listener *l)
{
    if (!l)
        return;
    if (l->running) {
        uint64_t one = 1;
        if (write(l->wake, &one, sizeof(one)) != sizeof(one))
            log_error("component=listener msg=\"cannot wake the accepting thread\"");
        pthread_join(l->thread, NULL);
        l->running = 0;
        log_refusals(l, INT64_MAX / 2);
    }
    for (int i = 0; i < l->nsocks; i++)
        close(l->socks[i]);
    l->nsocks = 0;
}

unsigned listener_disconnect_all(listener *l)
{
    return l && !l->running ? conntrack_shutdown_all(&l->open) : 0;
}

void listener_free(listener *l)
{
    if (!l)
        return;
    listener_stop(l);
    if (l->wake >= 0)
        close(l->wake);
    conntrack_fini(&l->open);
    free(l);
}
