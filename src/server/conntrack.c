#include "conntrack.h"

#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>

int conntrack_init(conntrack *t, unsigned cap)
{
    t->n = 0;
    t->cap = cap;
    t->e = calloc(cap ? cap : 1, sizeof(*t->e));
    return t->e ? 0 : -1;
}

void conntrack_fini(conntrack *t)
{
    free(t->e);
    t->e = NULL;
    t->n = t->cap = 0;
}

/* 1 while e's descriptor still names the socket it was recorded for. */
static int still_open(const conntrack_entry *e)
{
    struct stat st;
    return fstat(e->fd, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == e->dev &&
           st.st_ino == e->ino;
}

unsigned conntrack_sweep(conntrack *t)
{
    for (unsigned i = 0; i < t->n;) {
        if (still_open(&t->e[i]))
            i++;
        else
            t->e[i] = t->e[--t->n];
    }
    return t->n;
}

int conntrack_add(conntrack *t, int fd)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return -1;
    if (t->n == t->cap)
        return -1;
    t->e[t->n++] = (conntrack_entry){fd, st.st_dev, st.st_ino};
    return 0;
}

unsigned conntrack_shutdown_all(conntrack *t)
{
    unsigned n = 0;
    for (unsigned i = 0; i < t->n; i++)
        if (still_open(&t->e[i]) && shutdown(t->e[i].fd, SHUT_RDWR) == 0)
            n++;
    return n;
}
