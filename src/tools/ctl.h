/* grep11ctl internals shared by its command files. */
#ifndef GREP11_CTL_H
#define GREP11_CTL_H

#include "grep11_client.h"

typedef struct {
    const char *data_dir;
    const char *config; /* grep11d.yaml for --offline */
    int offline;
} ctl_context;

/* apikey create|list|revoke, online through grep11.Admin or --offline
 * against a data directory. */
int ctl_apikey(const ctl_context *cx, g11c_conn *c, int argc, char **argv);

/* Master-key custody (ctl_custody.c). */
int ctl_admin(int argc, char **argv);                                  /* offline */
int ctl_keypart(int argc, char **argv);                                /* offline */
int ctl_custody_offline(const ctl_context *cx, int argc, char **argv); /* -1: not offline */
int ctl_custody(g11c_conn *c, int argc, char **argv);
int ctl_unlock(g11c_conn *c, int argc, char **argv);
int ctl_audit(g11c_conn *c, int argc, char **argv);

#endif
