/* fork(): the child inherits a module whose gRPC channels, threads and locks
 * belong to the parent. PKCS #11 says the child must call C_Initialize
 * again; until then every call answers CKR_CRYPTOKI_NOT_INITIALIZED. The
 * child handler moves the old state aside without touching it (it may be
 * mid-change in a thread that does not exist in the child); C_Initialize
 * then builds a fresh one with new channels.
 *
 * gRPC's own threads (timers, executor, event engine) do not survive fork.
 * gRPC C core knows how to stop and restart them (its fork support, turned
 * on by GRPC_ENABLE_FORK_SUPPORT=1 before its first grpc_init), but only a
 * build with GRPC_POSIX_FORK_ALLOW_PTHREAD_ATFORK registers the handlers,
 * and Debian's does not. So the module registers them itself: it sets
 * GRPC_ENABLE_FORK_SUPPORT=1 unless the host set it, and calls gRPC's
 * prefork/postfork functions around fork(). They are exported by libgrpc
 * with C++ linkage only, so they are looked up by their mangled names at run
 * time; where they are missing the module still works, but the child of a
 * fork cannot use gRPC (documented in README). */
#include <dlfcn.h>
#include <grpc/grpc.h>
#include <pthread.h>
#include <stdlib.h>

#include "internal.h"

typedef void (*hook_fn)(void);

static pthread_once_t once = PTHREAD_ONCE_INIT;
static struct {
    hook_fn prefork, postfork_parent, postfork_child;
    hook_fn ee_prepare, ee_parent, ee_child;
    int armed; /* gRPC was initialized when fork() began */
} g_fork;

static hook_fn find(const char *mangled)
{
    hook_fn f;
    *(void **)&f = dlsym(RTLD_DEFAULT, mangled);
    return f;
}

static void prepare(void)
{
    g_fork.armed = g_fork.prefork && g_fork.postfork_child && grpc_is_initialized();
    if (!g_fork.armed)
        return;
    g_fork.prefork();
    if (g_fork.ee_prepare)
        g_fork.ee_prepare();
}

static void parent(void)
{
    if (!g_fork.armed)
        return;
    if (g_fork.ee_parent)
        g_fork.ee_parent();
    if (g_fork.postfork_parent)
        g_fork.postfork_parent();
}

static void child(void)
{
    if (g_fork.armed) {
        if (g_fork.ee_child)
            g_fork.ee_child();
        g_fork.postfork_child();
    }
    p11_tokmap_after_fork();
    p11_fork_orphan_state();
}

static void setup(void)
{
    /* Before gRPC reads its configuration at its first grpc_init. */
    setenv("GRPC_ENABLE_FORK_SUPPORT", "1", 0);
    g_fork.prefork = find("_Z12grpc_preforkv");
    g_fork.postfork_parent = find("_Z20grpc_postfork_parentv");
    g_fork.postfork_child = find("_Z19grpc_postfork_childv");
    g_fork.ee_prepare = find("_ZN17grpc_event_engine12experimental11PrepareForkEv");
    g_fork.ee_parent = find("_ZN17grpc_event_engine12experimental14PostforkParentEv");
    g_fork.ee_child = find("_ZN17grpc_event_engine12experimental13PostforkChildEv");
    pthread_atfork(prepare, parent, child);
}

void p11_fork_setup(void)
{
    pthread_once(&once, setup);
}

/* Asked after the log is open (setup runs before the configuration is
 * read, when there is nowhere to say it). */
int p11_fork_supported(void)
{
    return g_fork.prefork && g_fork.postfork_child;
}
