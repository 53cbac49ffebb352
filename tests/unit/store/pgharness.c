/* Starts and stops a private PostgreSQL cluster for the store tests. */
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "pgharness.h"

/* $GREP11_PG_BINDIR, else the newest /usr/lib/postgresql/<n>/bin with an
 * initdb in it. */
static bool find_bindir(char *out, size_t n)
{
    const char *env = getenv("GREP11_PG_BINDIR");
    char path[512];
    int best = -1;
    DIR *d;
    struct dirent *e;

    if (env != NULL && *env != '\0') {
        snprintf(path, sizeof(path), "%s/initdb", env);
        if (access(path, X_OK) != 0)
            return false;
        snprintf(out, n, "%s", env);
        return true;
    }
    d = opendir("/usr/lib/postgresql");
    if (d == NULL)
        return false;
    while ((e = readdir(d)) != NULL) {
        int v = atoi(e->d_name);
        snprintf(path, sizeof(path), "/usr/lib/postgresql/%s/bin/initdb", e->d_name);
        if (v > best && access(path, X_OK) == 0 && strlen(path) < n) {
            best = v;
            path[strlen(path) - strlen("/initdb")] = '\0';
            memcpy(out, path, strlen(path) + 1);
        }
    }
    closedir(d);
    return best >= 0;
}

static int free_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

/* Runs bindir/prog with args (NULL-terminated), output appended to
 * dir/harness.log; as postgres when dropping root. */
static int run(pg_server *s, const char *prog, const char *const *args)
{
    char exe[512], logp[128];
    const char *argv[24];
    int i = 0, status = 0;
    pid_t pid;

    snprintf(exe, sizeof(exe), "%s/%s", s->bindir, prog);
    snprintf(logp, sizeof(logp), "%s/harness.log", s->dir);
    if (s->drop_root) {
        argv[i++] = "runuser";
        argv[i++] = "-u";
        argv[i++] = "postgres";
        argv[i++] = "--";
    }
    argv[i++] = exe;
    for (const char *const *a = args; *a != NULL && i < 23; a++)
        argv[i++] = *a;
    argv[i] = NULL;
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open(logp, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "pgharness: %s failed (see %s)\n", prog, logp);
        return -1;
    }
    return 0;
}

int pg_resume(pg_server *s)
{
    char data[128], logp[128], opts[256];

    snprintf(data, sizeof(data), "%s/data", s->dir);
    snprintf(logp, sizeof(logp), "%s/server.log", s->dir);
    /* fsync=off: the cluster is thrown away; durability is SQLite's test */
    snprintf(opts, sizeof(opts),
             "-k %s -p %d -c listen_addresses=127.0.0.1 -c fsync=off "
             "-c full_page_writes=off -c max_connections=40",
             s->dir, s->port);
    const char *args[] = {"-D", data, "-l", logp, "-w", "-t", "60", "-o", opts, "start", NULL};
    return run(s, "pg_ctl", args);
}

int pg_stop(pg_server *s)
{
    char data[128];

    snprintf(data, sizeof(data), "%s/data", s->dir);
    const char *args[] = {"-D", data, "-m", "fast", "-w", "stop", NULL};
    return run(s, "pg_ctl", args);
}

/* Signals the postmaster (first line of postmaster.pid) and its children. */
static int signal_cluster(pg_server *s, int sig)
{
    char path[128], line[64];
    snprintf(path, sizeof(path), "%s/data/postmaster.pid", s->dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    int ok = fgets(line, sizeof(line), f) != NULL;
    fclose(f);
    pid_t pm = ok ? (pid_t)atoi(line) : 0;
    if (pm <= 0)
        return -1;
    DIR *d = opendir("/proc");
    if (!d)
        return -1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        pid_t pid = (pid_t)atoi(e->d_name);
        char stat[512];
        if (pid <= 0)
            continue;
        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        FILE *sf = fopen(path, "r");
        if (!sf)
            continue;
        size_t n = fread(stat, 1, sizeof(stat) - 1, sf);
        fclose(sf);
        stat[n] = '\0';
        const char *close = strrchr(stat, ')'); /* the name may hold spaces */
        int ppid = 0;
        char state;
        if (close && sscanf(close + 1, " %c %d", &state, &ppid) == 2 && ppid == (int)pm)
            kill(pid, sig);
    }
    closedir(d);
    return kill(pm, sig);
}

int pg_freeze(pg_server *s)
{
    return signal_cluster(s, SIGSTOP);
}

int pg_thaw(pg_server *s)
{
    return signal_cluster(s, SIGCONT);
}

static int create_db(pg_server *s)
{
    char conn[256];
    PGresult *res;
    PGconn *c;
    int ret = -1;

    snprintf(conn, sizeof(conn), "host=127.0.0.1 port=%d user=postgres dbname=postgres", s->port);
    c = PQconnectdb(conn);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "pgharness: connect: %s", PQerrorMessage(c));
        goto out;
    }
    res = PQexec(c, "CREATE DATABASE grep11test");
    if (PQresultStatus(res) == PGRES_COMMAND_OK)
        ret = 0;
    else
        fprintf(stderr, "pgharness: create database: %s", PQresultErrorMessage(res));
    PQclear(res);
out:
    PQfinish(c);
    return ret;
}

int pg_start(pg_server *s)
{
    char data[128];
    struct passwd *pw = NULL;

    memset(s, 0, sizeof(*s));
    if (!find_bindir(s->bindir, sizeof(s->bindir)))
        return 77;
    snprintf(s->dir, sizeof(s->dir), "/tmp/g11pg-XXXXXX");
    if (mkdtemp(s->dir) == NULL)
        return -1;
    if (geteuid() == 0) {
        pw = getpwnam("postgres");
        if (pw == NULL) {
            fprintf(stderr, "pgharness: running as root and no postgres user\n");
            return -1;
        }
        s->drop_root = true;
        if (chown(s->dir, pw->pw_uid, pw->pw_gid) != 0)
            return -1;
    }
    s->port = free_port();
    if (s->port <= 0)
        return -1;
    snprintf(data, sizeof(data), "%s/data", s->dir);
    const char *args[] = {"-D",    data, "-U",   "postgres",  "-A",
                          "trust", "-E", "UTF8", "--no-sync", NULL};
    if (run(s, "initdb", args) != 0 || pg_resume(s) != 0 || create_db(s) != 0)
        return -1;
    snprintf(s->url, sizeof(s->url), "host=127.0.0.1 port=%d user=postgres dbname=grep11test",
             s->port);
    return 0;
}

void pg_destroy(pg_server *s)
{
    char cmd[160];

    if (s->dir[0] == '\0')
        return;
    pg_stop(s); /* may already be stopped */
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "pgharness: could not remove %s\n", s->dir);
    s->dir[0] = '\0';
}
