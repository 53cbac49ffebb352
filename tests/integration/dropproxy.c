/* The answer-losing proxy of dropproxy.h: one thread, poll(2) over the
 * listener and every relayed connection. */
#include "dropproxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_PAIRS 16
#define MARKER_MAX 64
#define CHUNK 16384
#define FRAME_HEADER 9
#define PREFACE_LEN 24 /* "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" */

enum { H2_DATA = 0, H2_HEADERS = 1, H2_END_STREAM = 1 };

/* Where a byte stream stands in its HTTP/2 framing. */
typedef struct {
    size_t skip; /* preface bytes still to pass (client to server only) */
    uint8_t hdr[FRAME_HEADER];
    size_t have;   /* header bytes read of the current frame */
    uint32_t left; /* its payload bytes still to come */
    uint8_t type, flags;
    uint32_t stream;
    int hold; /* server to client: the current frame is withheld */
} h2_reader;

typedef struct {
    int cfd, ufd; /* the client's connection, and ours to the server; -1: free */
    h2_reader up, down;
    uint8_t window[MARKER_MAX]; /* the latest request DATA bytes */
    size_t wlen;
    uint32_t doomed; /* the stream whose answer is lost; 0 none */
} pair;

struct drop_proxy {
    int lfd, wake[2];
    char addr[64];
    struct sockaddr_in upstream;
    pthread_t thread;
    struct sockaddr_in self;
    pthread_mutex_t lock; /* guards marker..down */
    pthread_cond_t changed;
    uint8_t marker[MARKER_MAX];
    size_t mlen;
    int to_cut, seen, cut;
    int refuse_ms, down;   /* a refusal asked for; the listener is closed */
    pair pairs[MAX_PAIRS]; /* the proxy thread's own */
};

static void pair_close(pair *pr)
{
    if (pr->cfd >= 0)
        close(pr->cfd);
    if (pr->ufd >= 0)
        close(pr->ufd);
    memset(pr, 0, sizeof(*pr));
    pr->cfd = pr->ufd = -1;
}

static int send_all(int fd, const uint8_t *b, size_t n)
{
    while (n > 0) {
        ssize_t k = send(fd, b, n, MSG_NOSIGNAL);
        if (k <= 0)
            return -1;
        b += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Reads header bytes; returns 1 when a frame's header has just completed. */
static int header_byte(h2_reader *r, uint8_t c)
{
    r->hdr[r->have++] = c;
    if (r->have < FRAME_HEADER)
        return 0;
    r->left = (uint32_t)r->hdr[0] << 16 | (uint32_t)r->hdr[1] << 8 | r->hdr[2];
    r->type = r->hdr[3];
    r->flags = r->hdr[4];
    r->stream = ((uint32_t)r->hdr[5] << 24 | (uint32_t)r->hdr[6] << 16 | (uint32_t)r->hdr[7] << 8 |
                 r->hdr[8]) &
                0x7fffffffu;
    return 1;
}

/* A request DATA byte: the marker's last byte dooms the stream's answer. */
static void scan_byte(drop_proxy *p, pair *pr, uint8_t c, uint32_t stream)
{
    pthread_mutex_lock(&p->lock);
    size_t m = p->mlen;
    if (m > 0) {
        if (pr->wlen >= m) { /* >: the marker was longer at the last arming */
            memmove(pr->window, pr->window + pr->wlen - (m - 1), m - 1);
            pr->wlen = m - 1;
        }
        pr->window[pr->wlen++] = c;
        if (pr->wlen == m && memcmp(pr->window, p->marker, m) == 0) {
            p->seen++;
            if (p->to_cut > 0) {
                p->to_cut--;
                pr->doomed = stream;
            }
        }
    }
    pthread_mutex_unlock(&p->lock);
}

/* Client to server: everything is relayed; request DATA is scanned first,
 * so that a doomed stream is known before the server can answer it. */
static void client_bytes(drop_proxy *p, pair *pr, const uint8_t *b, size_t n)
{
    h2_reader *r = &pr->up;
    for (size_t i = 0; i < n;) {
        if (r->skip) {
            size_t k = r->skip < n - i ? r->skip : n - i;
            r->skip -= k;
            i += k;
        } else if (r->have < FRAME_HEADER) {
            if (header_byte(r, b[i++]) && r->left == 0)
                r->have = 0;
        } else {
            if (r->type == H2_DATA)
                scan_byte(p, pr, b[i], r->stream);
            i++;
            if (--r->left == 0)
                r->have = 0;
        }
    }
}

/* Server to client: the doomed stream's frames are withheld, and its last
 * one (END_STREAM: the trailers with the status) cuts the connection.
 * Returns -1 when it did. out holds up to n + FRAME_HEADER bytes. */
static int server_bytes(drop_proxy *p, pair *pr, const uint8_t *b, size_t n, uint8_t *out,
                        size_t *nout)
{
    h2_reader *r = &pr->down;
    *nout = 0;
    for (size_t i = 0; i < n;) {
        if (r->have < FRAME_HEADER) {
            if (!header_byte(r, b[i++]))
                continue;
            r->hold = pr->doomed && r->stream == pr->doomed;
            if (r->hold && (r->type == H2_HEADERS || r->type == H2_DATA) &&
                (r->flags & H2_END_STREAM)) {
                pthread_mutex_lock(&p->lock);
                p->cut++;
                pthread_mutex_unlock(&p->lock);
                return -1;
            }
            if (!r->hold) {
                memcpy(out + *nout, r->hdr, FRAME_HEADER);
                *nout += FRAME_HEADER;
            }
            if (r->left == 0)
                r->have = 0;
        } else {
            size_t k = r->left < n - i ? r->left : n - i;
            if (!r->hold) {
                memcpy(out + *nout, b + i, k);
                *nout += k;
            }
            i += k;
            r->left -= (uint32_t)k;
            if (r->left == 0)
                r->have = 0;
        }
    }
    return 0;
}

/* Listens on p->self (port 0 the first time: any free one). */
static int listen_on(drop_proxy *p)
{
    int one = 1;
    socklen_t sl = sizeof(p->self);
    p->lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (p->lfd < 0)
        return -1;
    /* The port comes back while connections that used it sit in TIME_WAIT. */
    if (setsockopt(p->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(p->lfd, (struct sockaddr *)&p->self, sizeof(p->self)) != 0 ||
        listen(p->lfd, 16) != 0 || getsockname(p->lfd, (struct sockaddr *)&p->self, &sl) != 0) {
        close(p->lfd);
        p->lfd = -1;
        return -1;
    }
    return 0;
}

/* A server that is not there: every connection closes, and for ms nothing
 * listens (a connect is refused); then the proxy listens again. */
static void refuse(drop_proxy *p, int ms)
{
    for (int i = 0; i < MAX_PAIRS; i++)
        if (p->pairs[i].cfd >= 0)
            pair_close(&p->pairs[i]);
    close(p->lfd);
    p->lfd = -1;
    pthread_mutex_lock(&p->lock);
    p->down = 1;
    pthread_cond_broadcast(&p->changed);
    pthread_mutex_unlock(&p->lock);
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    if (listen_on(p) != 0)
        fprintf(stderr, "drop_proxy: cannot listen again on %s\n", p->addr);
    pthread_mutex_lock(&p->lock);
    p->down = 0;
    pthread_cond_broadcast(&p->changed);
    pthread_mutex_unlock(&p->lock);
}

static void accept_one(drop_proxy *p)
{
    int cfd = accept(p->lfd, NULL, NULL);
    if (cfd < 0)
        return;
    pair *pr = NULL;
    for (int i = 0; i < MAX_PAIRS && !pr; i++)
        if (p->pairs[i].cfd < 0)
            pr = &p->pairs[i];
    int ufd = pr ? socket(AF_INET, SOCK_STREAM, 0) : -1;
    if (ufd < 0 || connect(ufd, (struct sockaddr *)&p->upstream, sizeof(p->upstream)) != 0) {
        /* No server (or no room): the client sees a refused connection. */
        if (ufd >= 0)
            close(ufd);
        close(cfd);
        return;
    }
    pr->cfd = cfd;
    pr->ufd = ufd;
    pr->up.skip = PREFACE_LEN;
}

static void relay(drop_proxy *p, pair *pr, int from_client)
{
    uint8_t buf[CHUNK], out[CHUNK + FRAME_HEADER];
    ssize_t n = recv(from_client ? pr->cfd : pr->ufd, buf, sizeof(buf), 0);
    if (n <= 0) {
        pair_close(pr);
        return;
    }
    if (from_client) {
        client_bytes(p, pr, buf, (size_t)n);
        if (send_all(pr->ufd, buf, (size_t)n) != 0)
            pair_close(pr);
        return;
    }
    size_t nout;
    if (server_bytes(p, pr, buf, (size_t)n, out, &nout) != 0 || send_all(pr->cfd, out, nout) != 0)
        pair_close(pr);
}

static void *run(void *arg)
{
    drop_proxy *p = arg;
    for (;;) {
        struct pollfd fds[2 + 2 * MAX_PAIRS];
        pair *owner[2 + 2 * MAX_PAIRS];
        nfds_t n = 0;
        fds[n++] = (struct pollfd){.fd = p->wake[0], .events = POLLIN};
        fds[n++] = (struct pollfd){.fd = p->lfd, .events = POLLIN}; /* -1: ignored */
        for (int i = 0; i < MAX_PAIRS; i++) {
            if (p->pairs[i].cfd < 0)
                continue;
            owner[n] = &p->pairs[i];
            fds[n++] = (struct pollfd){.fd = p->pairs[i].cfd, .events = POLLIN};
            owner[n] = &p->pairs[i];
            fds[n++] = (struct pollfd){.fd = p->pairs[i].ufd, .events = POLLIN};
        }
        if (poll(fds, n, -1) < 0)
            continue;
        if (fds[0].revents) {
            char cmd = 'q';
            if (read(p->wake[0], &cmd, 1) != 1 || cmd == 'q')
                return NULL;
            pthread_mutex_lock(&p->lock);
            int ms = p->refuse_ms;
            pthread_mutex_unlock(&p->lock);
            refuse(p, ms);
            continue;
        }
        if (p->lfd >= 0 && (fds[1].revents & POLLIN))
            accept_one(p);
        for (nfds_t i = 2; i < n; i++) {
            pair *pr = owner[i];
            /* A pair closed earlier in this round has fd -1 now. */
            if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR)) ||
                (fds[i].fd != pr->cfd && fds[i].fd != pr->ufd))
                continue;
            relay(p, pr, fds[i].fd == pr->cfd);
        }
    }
}

drop_proxy *drop_proxy_start(const char *upstream)
{
    unsigned port = 0;
    if (sscanf(upstream, "127.0.0.1:%u", &port) != 1 || port == 0 || port > 65535)
        return NULL;
    drop_proxy *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    for (int i = 0; i < MAX_PAIRS; i++)
        p->pairs[i].cfd = p->pairs[i].ufd = -1;
    p->upstream = (struct sockaddr_in){.sin_family = AF_INET,
                                       .sin_port = htons((uint16_t)port),
                                       .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    p->self =
        (struct sockaddr_in){.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (pipe(p->wake) != 0) {
        free(p);
        return NULL;
    }
    if (listen_on(p) != 0) {
        close(p->wake[0]);
        close(p->wake[1]);
        free(p);
        return NULL;
    }
    snprintf(p->addr, sizeof(p->addr), "127.0.0.1:%u", (unsigned)ntohs(p->self.sin_port));
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->changed, NULL);
    if (pthread_create(&p->thread, NULL, run, p) != 0) {
        close(p->lfd);
        close(p->wake[0]);
        close(p->wake[1]);
        pthread_cond_destroy(&p->changed);
        pthread_mutex_destroy(&p->lock);
        free(p);
        return NULL;
    }
    return p;
}

const char *drop_proxy_addr(const drop_proxy *p)
{
    return p->addr;
}

void drop_proxy_arm(drop_proxy *p, const void *marker, size_t len, int count)
{
    pthread_mutex_lock(&p->lock);
    p->mlen = len < MARKER_MAX ? len : MARKER_MAX;
    memcpy(p->marker, marker, p->mlen);
    p->to_cut = count;
    p->seen = p->cut = 0;
    pthread_mutex_unlock(&p->lock);
}

static int counter(drop_proxy *p, const int *c)
{
    pthread_mutex_lock(&p->lock);
    int v = *c;
    pthread_mutex_unlock(&p->lock);
    return v;
}

int drop_proxy_seen(drop_proxy *p)
{
    return counter(p, &p->seen);
}

int drop_proxy_cut(drop_proxy *p)
{
    return counter(p, &p->cut);
}

int drop_proxy_refuse_for(drop_proxy *p, int ms)
{
    pthread_mutex_lock(&p->lock);
    p->refuse_ms = ms;
    int rc = write(p->wake[1], "r", 1) == 1 ? 0 : -1;
    while (rc == 0 && !p->down)
        pthread_cond_wait(&p->changed, &p->lock);
    pthread_mutex_unlock(&p->lock);
    return rc;
}

void drop_proxy_stop(drop_proxy *p)
{
    if (!p)
        return;
    if (write(p->wake[1], "q", 1) != 1)
        fprintf(stderr, "drop_proxy: cannot wake the proxy thread\n");
    pthread_join(p->thread, NULL);
    for (int i = 0; i < MAX_PAIRS; i++)
        if (p->pairs[i].cfd >= 0)
            pair_close(&p->pairs[i]);
    if (p->lfd >= 0)
        close(p->lfd);
    close(p->wake[0]);
    close(p->wake[1]);
    pthread_cond_destroy(&p->changed);
    pthread_mutex_destroy(&p->lock);
    free(p);
}
