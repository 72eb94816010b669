#include "CExecutorHook.h"

// Declared as an untyped pointer: only its address is used here; Swift stores a
// function of the runtime's own calling convention in it.
extern void *swift_task_enqueueGlobal_hook;

void *_Nullable * _Nonnull gate_swift_task_enqueue_global_hook_address(void) {
    return &swift_task_enqueueGlobal_hook;
}
