// The second C++ file of grep11 (handover.h says why it exists).
#include "handover.h"

namespace grpc_core
{
// gRPC's interface for the handler of an external port, as declared in
// its src/core/lib/iomgr/tcp_server.h (1.51), which is not installed: so
// it is restated here, one virtual function after the destructor. An
// upgrade of gRPC must pass integration_fd_limit, which goes through it.
class TcpServerFdHandler
{
  public:
    virtual ~TcpServerFdHandler() = default;
    virtual void Handle(int listener_fd, int fd, grpc_byte_buffer *pending_read) = 0;
};
} // namespace grpc_core

namespace
{
// gRPC copies channel arguments: the copy is the same slot.
void *slot_copy(void *p)
{
    return p;
}

void slot_destroy(void *) {}

int slot_cmp(void *a, void *b)
{
    return a < b ? -1 : a > b;
}

const grpc_arg_pointer_vtable slot_vtable = {slot_copy, slot_destroy, slot_cmp};
} // namespace

extern "C" void handover_arg(grpc_arg *arg, void **slot)
{
    *slot = nullptr;
    arg->type = GRPC_ARG_POINTER;
    arg->key = const_cast<char *>(HANDOVER_PORT);
    arg->value.pointer.p = slot;
    arg->value.pointer.vtable = &slot_vtable;
}

extern "C" void handover_connection(void *handler, int listener_fd, int fd)
{
    static_cast<grpc_core::TcpServerFdHandler *>(handler)->Handle(listener_fd, fd, nullptr);
}
