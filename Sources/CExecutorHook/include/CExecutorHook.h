#ifndef GATE_CEXECUTORHOOK_H
#define GATE_CEXECUTORHOOK_H

/// The address of the Swift runtime's `swift_task_enqueueGlobal_hook`, the
/// variable through which Swift Concurrency's global executor can be replaced.
/// NIO finds it with dlsym, which fails in a binary linked with
/// --static-swift-stdlib (the symbol is not exported there); a reference
/// resolved by the linker works both ways.
void *_Nullable * _Nonnull gate_swift_task_enqueue_global_hook_address(void);

#endif
