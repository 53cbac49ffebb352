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

#endif
