/* Role names as the API and grep11ctl spell them. */
#include <string.h>

#include "auth.h"

static const struct {
    const char *name;
    uint32_t bit;
} roles[] = {
    {"crypto", AUTH_ROLE_CRYPTO},
    {"keystore-so", AUTH_ROLE_KEYSTORE_SO},
    {"keystore-user", AUTH_ROLE_KEYSTORE_USER},
    {"keystore-anonymous", AUTH_ROLE_KEYSTORE_ANONYMOUS},
    {"admin", AUTH_ROLE_ADMIN},
};

int auth_role_parse(const char *name, uint32_t *bit)
{
    for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
        if (strcmp(name, roles[i].name) == 0) {
            *bit = roles[i].bit;
            return 0;
        }
    return -1;
}

const char *auth_role_name(uint32_t bit)
{
    for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
        if (roles[i].bit == bit)
            return roles[i].name;
    return NULL;
}
