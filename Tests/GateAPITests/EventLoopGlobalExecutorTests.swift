import CExecutorHook
import Foundation
import Testing

@Suite struct EventLoopGlobalExecutorTests {
    /// `serve` installs its hook through this address: if it named a copy rather than
    /// the runtime's own variable, the hook would be ignored and every `await` on a
    /// channel would hop threads again (nothing else would notice but the benchmark).
    @Test func theShimAddressesTheRuntimesOwnHook() throws {
        let exported = try #require(dlsym(dlopen(nil, RTLD_NOW), "swift_task_enqueueGlobal_hook"))
        #expect(UnsafeMutableRawPointer(gate_swift_task_enqueue_global_hook_address()) == exported)
    }
}
