/* One-line structured logging for grep11d. Never pass key material, PINs,
 * API keys or tokens to these functions: they go to disk verbatim. */
#ifndef GREP11_SERVER_LOG_H
#define GREP11_SERVER_LOG_H

#include <stdio.h>

typedef enum {
    LOG_LEVEL_ERROR = 0,
    LOG_LEVEL_WARN = 1,
    LOG_LEVEL_INFO = 2,
    LOG_LEVEL_DEBUG = 3,
} log_level;

/* Parses "error|warn|warning|info|debug" (case-insensitive). 0 on success. */
int log_level_parse(const char *s, log_level *out);

/* Sets the threshold and routes gRPC core's own logging through us. */
void log_init(log_level level);
log_level log_get_level(void);

void log_write(log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_write(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...) log_write(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...) log_write(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_write(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
