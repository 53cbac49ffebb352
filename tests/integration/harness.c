#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef GREP11D_PATH
#error "GREP11D_PATH must name the grep11d binary"
#endif

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int read_line(const char *dir, const char *name, char *out, size_t cap)
{
    char path[400];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    int ok = fgets(out, (int)cap, f) != NULL;
    fclose(f);
    if (!ok)
        return -1;
    out[strcspn(out, "\r\n")] = '\0';
    return out[0] ? 0 : -1;
}

static int read_addr(test_server *ts)
{
    return read_line(ts->dir, "grep11d.addr", ts->addr, sizeof(ts->addr));
}

static int launch(test_server *ts, const char *extra_yaml, const char *const *extra_args);

int test_server_start(test_server *ts, const char *extra_yaml, const char *const *extra_args)
{
    memset(ts, 0, sizeof(*ts));
    snprintf(ts->dir, sizeof(ts->dir), "/tmp/grep11-test-XXXXXX");
    if (!mkdtemp(ts->dir))
        return -1;
    snprintf(ts->yaml, sizeof(ts->yaml), "%s", extra_yaml ? extra_yaml : "");
    ts->args = extra_args;
    return launch(ts, extra_yaml, extra_args);
}

int test_server_start_nofile(test_server *ts, const char *extra_yaml, const char *const *extra_args,
                             unsigned nofile)
{
    memset(ts, 0, sizeof(*ts));
    snprintf(ts->dir, sizeof(ts->dir), "/tmp/grep11-test-XXXXXX");
    if (!mkdtemp(ts->dir))
        return -1;
    snprintf(ts->yaml, sizeof(ts->yaml), "%s", extra_yaml ? extra_yaml : "");
    ts->args = extra_args;
    ts->nofile = nofile;
    return launch(ts, extra_yaml, extra_args);
}

int test_server_restart(test_server *ts)
{
    char path[400];
    snprintf(path, sizeof(path), "%s/grep11d.addr", ts->dir);
    unlink(path);
    ts->addr[0] = '\0';
    return launch(ts, ts->yaml[0] ? ts->yaml : NULL, ts->args);
}

void test_server_crash(test_server *ts)
{
    if (!ts->pid)
        return;
    kill(ts->pid, SIGKILL);
    waitpid(ts->pid, NULL, 0);
    ts->pid = 0;
}

static int launch(test_server *ts, const char *extra_yaml, const char *const *extra_args)
{
    snprintf(ts->ca, sizeof(ts->ca), "%s/tls/ca.pem", ts->dir);
    snprintf(ts->log, sizeof(ts->log), "%s/server.log", ts->dir);

    const char *argv[32];
    int argc = 0;
    char cfg[320];
    argv[argc++] = GREP11D_PATH;
    argv[argc++] = "--dev";
    argv[argc++] = "--data-dir";
    argv[argc++] = ts->dir;
    argv[argc++] = "--listen";
    argv[argc++] = "127.0.0.1:0";
    if (extra_yaml) {
        snprintf(cfg, sizeof(cfg), "%s/grep11d.yaml", ts->dir);
        FILE *f = fopen(cfg, "w");
        if (!f)
            return -1;
        /* @DIR@ stands for the data directory, unknown until now. */
        for (const char *p = extra_yaml; *p; p++) {
            if (strncmp(p, "@DIR@", 5) == 0) {
                fputs(ts->dir, f);
                p += 4;
            } else {
                fputc(*p, f);
            }
        }
        fclose(f);
        argv[argc++] = "--config";
        argv[argc++] = cfg;
    }
    for (int i = 0; extra_args && extra_args[i] && argc < 30; i++)
        argv[argc++] = extra_args[i];
    argv[argc] = NULL;

    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open(ts->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        if (ts->nofile) {
            struct rlimit rl = {ts->nofile, ts->nofile};
            if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
                _exit(126);
        }
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    ts->pid = pid;
    for (int waited = 0; waited < 30000; waited += 20) {
        if (read_addr(ts) == 0) {
            if (read_line(ts->dir, "dev-apikey", ts->apikey, sizeof(ts->apikey)) != 0)
                ts->apikey[0] = '\0';
            return 0;
        }
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            fprintf(stderr, "grep11d exited early; see %s\n", ts->log);
            ts->pid = 0;
            return -1;
        }
        sleep_ms(20);
    }
    fprintf(stderr, "grep11d did not start in 30 s; see %s\n", ts->log);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    ts->pid = 0;
    return -1;
}

static void remove_tree(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
}

int test_server_stop(test_server *ts)
{
    if (!ts->pid)
        return -1;
    kill(ts->pid, SIGTERM);
    int status = 0;
    for (int waited = 0; waited < 30000; waited += 20) {
        pid_t r = waitpid(ts->pid, &status, WNOHANG);
        if (r == ts->pid) {
            ts->pid = 0;
            int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            if (rc == 0)
                remove_tree(ts->dir);
            else
                fprintf(stderr, "grep11d exited with %d; see %s\n", rc, ts->log);
            return rc;
        }
        sleep_ms(20);
    }
    kill(ts->pid, SIGKILL);
    waitpid(ts->pid, NULL, 0);
    ts->pid = 0;
    fprintf(stderr, "grep11d did not stop within 30 s; see %s\n", ts->log);
    return -1;
}

int test_server_term_timed(test_server *ts, double *seconds)
{
    *seconds = -1;
    if (!ts->pid)
        return -1;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    kill(ts->pid, SIGTERM);
    int status = 0;
    while (test_seconds_since(&t0) < 30.0) {
        if (waitpid(ts->pid, &status, WNOHANG) == ts->pid) {
            *seconds = test_seconds_since(&t0);
            ts->pid = 0;
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        sleep_ms(1);
    }
    test_server_crash(ts);
    fprintf(stderr, "grep11d did not stop within 30 s; see %s\n", ts->log);
    return -1;
}

void test_server_remove(test_server *ts)
{
    remove_tree(ts->dir);
}

g11c_conn *test_connect_within(const test_server *ts, int insecure, int timeout_ms)
{
    g11c_options o = {.address = ts->addr,
                      .insecure = insecure,
                      .ca_file = insecure ? NULL : ts->ca,
                      .timeout_ms = timeout_ms};
    g11c_conn *c = NULL;
    return g11c_connect(&o, &c) == CKR_OK ? c : NULL;
}

g11c_conn *test_connect_anonymous(const test_server *ts, int insecure)
{
    return test_connect_within(ts, insecure, 20000);
}

/* The token lives in a heap block that the connection frees when closed. */
typedef struct {
    char token[2048];
} held_token;

static CK_RV give_token(void *arg, char *buf, size_t cap)
{
    const held_token *t = arg;
    if (strlen(t->token) >= cap)
        return CKR_GENERAL_ERROR;
    strcpy(buf, t->token);
    return CKR_OK;
}

CK_RV test_authenticate(g11c_conn *c, const char *api_key)
{
    held_token *t = calloc(1, sizeof(*t));
    if (!t)
        return CKR_HOST_MEMORY;
    CK_RV rv = g11c_auth_token(c, api_key, t->token, sizeof(t->token), NULL);
    if (rv != CKR_OK) {
        free(t);
        return rv;
    }
    g11c_set_token_hook(c, give_token, t);
    g11c_set_close_hook(c, free, t);
    return CKR_OK;
}

g11c_conn *test_connect_as(const test_server *ts, int insecure, const char *api_key)
{
    g11c_conn *c = test_connect_anonymous(ts, insecure);
    if (c && test_authenticate(c, api_key) != CKR_OK) {
        g11c_close(c);
        c = NULL;
    }
    return c;
}

g11c_conn *test_connect(const test_server *ts, int insecure)
{
    return test_connect_as(ts, insecure, ts->apikey);
}

unsigned test_free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0)
        return 0;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sa);
    unsigned port = 0;
    if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
        getsockname(s, (struct sockaddr *)&sa, &sl) == 0)
        port = ntohs(sa.sin_port);
    close(s);
    return port;
}

double test_seconds_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

int test_fixture_setup(void **state)
{
    test_fixture *f = calloc(1, sizeof(*f));
    *state = f;
    if (!f || test_server_start(&f->srv, NULL, NULL) != 0)
        return -1;
    f->conn = test_connect(&f->srv, 0);
    return f->conn ? 0 : -1;
}

int test_fixture_teardown(void **state)
{
    test_fixture *f = *state;
    if (!f)
        return -1;
    if (f->conn)
        g11c_close(f->conn);
    int rc = test_server_stop(&f->srv);
    free(f);
    return rc == 0 ? 0 : -1;
}

int test_server_slot_setup(void **state)
{
    *state = calloc(1, sizeof(test_server));
    return *state ? 0 : -1;
}

int test_server_slot_teardown(void **state)
{
    test_server *srv = *state;
    if (srv->pid) {
        test_server_crash(srv);
        test_server_remove(srv);
    }
    free(srv);
    return 0;
}

int test_mechanism_listed(g11c_conn *c, CK_MECHANISM_TYPE m, CK_MECHANISM_INFO *mi)
{
    CK_MECHANISM_TYPE *list = NULL;
    size_t n = 0;
    int found = 0;
    memset(mi, 0, sizeof(*mi));
    if (g11c_get_mechanism_list(c, &list, &n) != CKR_OK)
        return -1;
    for (size_t i = 0; i < n; i++)
        found += list[i] == m;
    free(list);
    if (g11c_get_mechanism_info(c, m, mi) != CKR_OK)
        memset(mi, 0, sizeof(*mi));
    return found;
}
