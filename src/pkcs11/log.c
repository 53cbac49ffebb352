/* Logging (see log.h). The log sink is process-wide like the module itself:
 * its few fields live in one struct guarded by one mutex that is never held
 * across anything but a write.
 *
 * A library writes only where it was told to: until C_Initialize has read a
 * configuration naming logging.logpath there is no sink at all, and lines
 * are dropped (the host's stderr is the host's). */
#include "log.h"

#include <grpc/support/log.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "grep11/rv_name.h"
#include "grep11_client.h"

#define LOG_OFF (-1) /* g_log.max without a sink */

static struct {
    pthread_mutex_t lock;
    FILE *file; /* NULL: no sink */
    int own;    /* file was opened here (not the host's stderr) */
    int max;    /* the most verbose level written, LOG_OFF: none */
    int grpc_routed;
} g_log = {PTHREAD_MUTEX_INITIALIZER, NULL, 0, LOG_OFF, 0};

static const char *const level_names[] = {"PANIC", "FATAL", "ERROR", "WARN",
                                          "INFO",  "DEBUG", "TRACE"};

/* With g_log.lock held. */
static void sink_close(void)
{
    __atomic_store_n(&g_log.max, LOG_OFF, __ATOMIC_RELAXED);
    if (g_log.file && g_log.own)
        fclose(g_log.file);
    g_log.file = NULL;
    g_log.own = 0;
}

int p11_log_open(const p11_config *cfg)
{
    int rc = 0;
    pthread_mutex_lock(&g_log.lock);
    sink_close();
    const char *path = cfg ? cfg->logpath : NULL;
    if (path && strcmp(path, P11_LOGPATH_STDERR) == 0) {
        g_log.file = stderr; /* asked for by name */
    } else if (path) {
        g_log.file = fopen(path, "ae");
        g_log.own = g_log.file != NULL;
        rc = g_log.file ? 0 : -1;
    }
    if (g_log.file)
        __atomic_store_n(&g_log.max, (int)cfg->loglevel, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&g_log.lock);
    return rc;
}

void p11_log_close(void)
{
    p11_log_route_grpc(0);
    pthread_mutex_lock(&g_log.lock);
    sink_close();
    pthread_mutex_unlock(&g_log.lock);
}

int p11_log_enabled(p11_loglevel level)
{
    return (int)level <= __atomic_load_n(&g_log.max, __ATOMIC_RELAXED);
}

__attribute__((format(printf, 3, 0))) static void vlog(p11_loglevel level, const char *prefix,
                                                       const char *fmt, va_list ap)
{
    char line[1024], stamp[32];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
    int used = snprintf(line, sizeof(line), "%s.%03ldZ pkcs11-grep11 %s: %s", stamp,
                        ts.tv_nsec / 1000000L, level_names[level], prefix);
    if (used < 0 || (size_t)used >= sizeof(line))
        used = 0;
    vsnprintf(line + used, sizeof(line) - (size_t)used, fmt, ap);
    pthread_mutex_lock(&g_log.lock);
    if (g_log.file) { /* closed since p11_log_enabled said yes: dropped */
        fprintf(g_log.file, "%s\n", line);
        fflush(g_log.file);
    }
    pthread_mutex_unlock(&g_log.lock);
}

void p11_log(p11_loglevel level, const char *fmt, ...)
{
    if (!p11_log_enabled(level))
        return;
    va_list ap;
    va_start(ap, fmt);
    vlog(level, "", fmt, ap);
    va_end(ap);
}

__attribute__((format(printf, 3, 4))) static void log_plain(p11_loglevel level, const char *prefix,
                                                            const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(level, prefix, fmt, ap);
    va_end(ap);
}

const char *p11_rv_name(CK_RV rv)
{
    const char *n = g11c_rv_name(rv);
    return n ? n : "CKR_VENDOR_DEFINED";
}

void p11_log_client_error(void *arg, const char *method, CK_RV rv, const char *detail)
{
    (void)arg;
    p11_loglevel level = rv == CKR_DEVICE_ERROR ? P11_LOG_ERROR : P11_LOG_DEBUG;
    if (p11_log_enabled(level))
        log_plain(level, "", "%s: %s (0x%lx)%s%s", method, p11_rv_name(rv), (unsigned long)rv,
                  detail && detail[0] ? ": " : "", detail ? detail : "");
}

static void grpc_log_sink(gpr_log_func_args *args)
{
    p11_loglevel level = args->severity == GPR_LOG_SEVERITY_ERROR  ? P11_LOG_ERROR
                         : args->severity == GPR_LOG_SEVERITY_INFO ? P11_LOG_INFO
                                                                   : P11_LOG_DEBUG;
    if (p11_log_enabled(level))
        log_plain(level, "grpc: ", "%s (%s:%d)", args->message ? args->message : "",
                  args->file ? args->file : "?", args->line);
}

void p11_log_route_grpc(int on)
{
    pthread_mutex_lock(&g_log.lock);
    int change = on != g_log.grpc_routed;
    g_log.grpc_routed = on;
    pthread_mutex_unlock(&g_log.lock);
    if (change)
        gpr_set_log_function(on ? grpc_log_sink : NULL); /* NULL: gRPC's default */
}

/* A host that dlcloses the module without C_Finalize must not be left with
 * gRPC calling into unmapped code. */
__attribute__((destructor)) static void p11_log_unload(void)
{
    if (g_log.grpc_routed)
        gpr_set_log_function(NULL);
}
