#include "fdbudget.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "log.h"

/* The HTTP front's connections: a sixteenth of the limit, 16..512. */
#define HTTP_MIN 16u
#define HTTP_MAX 512u

/* The kernel's ceiling for any process (fs.nr_open); 0 if unknown. */
static unsigned long nr_open(void)
{
    FILE *f = fopen("/proc/sys/fs/nr_open", "r");
    unsigned long v = 0;
    if (f) {
        if (fscanf(f, "%lu", &v) != 1)
            v = 0;
        fclose(f);
    }
    return v;
}

void fdbudget_raise(fdbudget *b)
{
    memset(b, 0, sizeof(*b));
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        rl.rlim_cur = rl.rlim_max = 1024;
    } else {
        b->was = (unsigned long)rl.rlim_cur;
        rlim_t want = rl.rlim_max;
        if (want == RLIM_INFINITY) {
            unsigned long ceiling = nr_open();
            want = ceiling ? (rlim_t)ceiling : rl.rlim_cur;
        }
        if (want > rl.rlim_cur) {
            struct rlimit up = {want, rl.rlim_max};
            if (setrlimit(RLIMIT_NOFILE, &up) == 0)
                rl.rlim_cur = want;
        }
    }
    b->limit = (unsigned long)rl.rlim_cur;
    b->hard = rl.rlim_max == RLIM_INFINITY ? b->limit : (unsigned long)rl.rlim_max;
    unsigned long h = b->limit / 16;
    b->http_connections = h < HTTP_MIN ? HTTP_MIN : h > HTTP_MAX ? HTTP_MAX : (unsigned)h;
}

/* Descriptors open in this process now. */
static unsigned count_open(unsigned long limit)
{
    DIR *d = opendir("/proc/self/fd");
    unsigned n = 0;
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL)
            if (e->d_name[0] != '.')
                n++;
        closedir(d);
        return n > 0 ? n - 1 : 0; /* less the directory's own */
    }
    unsigned long top = limit < 65536 ? limit : 65536;
    for (unsigned long fd = 0; fd < top; fd++)
        if (fcntl((int)fd, F_GETFD) != -1)
            n++;
    return n;
}

int fdbudget_plan(fdbudget *b, unsigned wanted, unsigned db_connections, int http, char *err,
                  size_t errlen)
{
    b->in_use = count_open(b->limit);
    b->reserve = db_connections * FDBUDGET_PER_DB_CONNECTION + (http ? b->http_connections : 0) +
                 FDBUDGET_MARGIN;
    unsigned long used = (unsigned long)b->in_use + b->reserve;
    unsigned long room = b->limit > used ? b->limit - used : 0;
    if (room < FDBUDGET_MIN_CONNECTIONS) {
        snprintf(err, errlen,
                 "the descriptor limit (RLIMIT_NOFILE %lu) leaves %lu for client connections: "
                 "raise it to at least %lu",
                 b->limit, room, used + FDBUDGET_MIN_CONNECTIONS);
        return -1;
    }
    unsigned long max = wanted ? wanted : FDBUDGET_DEFAULT_MAX_CONNECTIONS;
    if (max > room) {
        if (wanted)
            log_warn("msg=\"max_connections %u does not fit the descriptor limit: using %lu\" "
                     "nofile=%lu",
                     wanted, room, b->limit);
        max = room;
    }
    b->max_connections = (unsigned)max;
    log_info("msg=\"descriptors\" nofile=%lu raised_from=%lu hard=%lu in_use=%u reserve=%u "
             "max_connections=%u http_connections=%u",
             b->limit, b->was, b->hard, b->in_use, b->reserve, b->max_connections,
             http ? b->http_connections : 0);
    return 0;
}
