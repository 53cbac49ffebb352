#include "log.h"

#include <grpc/support/log.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

/* The logger's own context. gRPC's log hook carries no user pointer, so this
 * one struct is file-scoped; it is written once at start-up. */
static struct {
    log_level level;
} logger = {LOG_LEVEL_INFO};

static const char *level_names[] = {"error", "warn", "info", "debug"};

int log_level_parse(const char *s, log_level *out)
{
    static const struct {
        const char *name;
        log_level level;
    } names[] = {
        {"panic", LOG_LEVEL_ERROR}, {"fatal", LOG_LEVEL_ERROR},  {"error", LOG_LEVEL_ERROR},
        {"warn", LOG_LEVEL_WARN},   {"warning", LOG_LEVEL_WARN}, {"info", LOG_LEVEL_INFO},
        {"debug", LOG_LEVEL_DEBUG}, {"trace", LOG_LEVEL_DEBUG},
    };
    for (size_t i = 0; s && i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcasecmp(s, names[i].name) == 0) {
            *out = names[i].level;
            return 0;
        }
    }
    return -1;
}

static void grpc_log_hook(gpr_log_func_args *args)
{
    log_level level = LOG_LEVEL_DEBUG;
    if (args->severity == GPR_LOG_SEVERITY_ERROR)
        level = LOG_LEVEL_ERROR;
    else if (args->severity == GPR_LOG_SEVERITY_INFO)
        level = LOG_LEVEL_DEBUG; /* gRPC's info is chatty: our debug */
    log_write(level, "component=grpc msg=\"%s\"", args->message);
}

void log_init(log_level level)
{
    logger.level = level;
    gpr_set_log_verbosity(level >= LOG_LEVEL_DEBUG ? GPR_LOG_SEVERITY_DEBUG
                                                   : GPR_LOG_SEVERITY_ERROR);
    gpr_set_log_function(grpc_log_hook);
}

log_level log_get_level(void)
{
    return logger.level;
}

void log_write(log_level level, const char *fmt, ...)
{
    if (level > logger.level)
        return;
    char line[2048];
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    int n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     (long)tv.tv_usec / 1000, level_names[level]);
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof(line))
        vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    va_end(ap);
    /* One fputs per line keeps lines whole when worker threads interleave. */
    size_t len = strlen(line);
    if (len + 1 < sizeof(line)) {
        line[len] = '\n';
        line[len + 1] = '\0';
    }
    fputs(line, stderr);
}
