import NIOCore

/// One open connection to Redis. Commands may be sent from any task at once;
/// they are pipelined on the wire and their replies paired in order.
public final class RedisConnection: Sendable {
    let channel: any Channel
    private let commandTimeout: TimeAmount

    init(channel: any Channel, commandTimeout: TimeAmount) {
        self.channel = channel
        self.commandTimeout = commandTimeout
    }

    public var isActive: Bool { channel.isActive }

    /// Sends every command in one write and returns their replies in order. Error
    /// replies are returned as `.error`, not thrown, so one failing command does not
    /// hide the others' results.
    public func pipeline(_ commands: [[[UInt8]]]) async throws(RedisError) -> [RESPValue] {
        guard !commands.isEmpty else { return [] }
        var bytes = channel.allocator.buffer(capacity: 64 * commands.count)
        for command in commands {
            try RESPEncoder.encode(command, into: &bytes)
        }
        let promise = channel.eventLoop.makePromise(of: [RESPValue].self)
        let request = RedisRequest(bytes: bytes, replyCount: commands.count, promise: promise)
        let channel = self.channel
        let deadline = channel.eventLoop.scheduleTask(in: commandTimeout) {
            // Fail this command even if the handler is gone (channel already closed),
            // then have the handler fail the rest and close: replies can no longer be paired.
            promise.fail(RedisError.timeout)
            channel.triggerUserOutboundEvent(RedisCommandTimedOut(), promise: nil)
        }
        // Cancelling on the loop that runs the deadline means a completed command never
        // fires a stale timeout at the commands behind it.
        promise.futureResult.whenComplete { _ in deadline.cancel() }
        // A write to a channel that closed after `isActive` was checked never reaches the
        // handler; without this the caller would wait for a reply that cannot come.
        // (Completing a promise twice is a no-op in NIO, so racing the handler is safe.)
        let written = channel.eventLoop.makePromise(of: Void.self)
        written.futureResult.whenFailure { error in
            promise.fail(RedisError.unavailable("write failed: \(error)"))
        }
        channel.writeAndFlush(request, promise: written)
        do {
            return try await promise.futureResult.get()
        } catch let error as RedisError {
            throw error
        } catch {
            throw .unavailable("\(error)")
        }
    }

    /// Sends one command; an error reply is thrown as `RedisError.server`.
    public func send(_ command: [[UInt8]]) async throws(RedisError) -> RESPValue {
        let reply = try await pipeline([command])[0]
        if case .error(let message) = reply { throw .server(message) }
        return reply
    }

    func close() async {
        try? await channel.close()
    }
}
