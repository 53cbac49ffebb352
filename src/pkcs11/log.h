/* The module's log: one line per event at logging.loglevel to
 * logging.logpath, or to the host's stderr when logpath is the word
 * "stderr". Without a logpath (and before C_Initialize has read one) nothing
 * is written anywhere. Never a secret: callers pass names, lengths and CK_RV
 * values, never PINs, API keys, tokens or key values. */
#ifndef P11_LOG_H
#define P11_LOG_H

#include "config.h"

#define P11_LOGPATH_STDERR "stderr"

/* Opens the log a configuration names (NULL, or no logpath: none). Returns
 * 0, or -1 when logpath cannot be opened (then there is no log). */
int p11_log_open(const p11_config *cfg);
void p11_log_close(void);

void p11_log(p11_loglevel level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int p11_log_enabled(p11_loglevel level);

/* libgrep11's error hook: one line per failed call. */
void p11_log_client_error(void *arg, const char *method, CK_RV rv, const char *detail);

/* gRPC's own log routed into ours while the module is initialized (when
 * logging.grpc is true), so that it, too, reaches only the configured log;
 * restored to gRPC's default (gpr_set_log_function(NULL)) at close. */
void p11_log_route_grpc(int on);

const char *p11_rv_name(CK_RV rv);

#define P11_ERR(...) p11_log(P11_LOG_ERROR, __VA_ARGS__)
#define P11_WARN(...) p11_log(P11_LOG_WARN, __VA_ARGS__)
#define P11_INFO(...) p11_log(P11_LOG_INFO, __VA_ARGS__)
#define P11_DEBUG(...) p11_log(P11_LOG_DEBUG, __VA_ARGS__)

#endif
