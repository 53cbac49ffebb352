// The one C++ file of grep11: Abseil's switch for its deadlock detection
// exists only as a C++ function (include/grep11/grpc_runtime.h says why).
#include "grep11/grpc_runtime.h"

#include <absl/synchronization/mutex.h>
#include <grpc/grpc.h>

extern "C" void grep11_grpc_init(void)
{
    absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
    grpc_init();
}
