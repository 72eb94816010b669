import NIOCore

/// One command on its way to Redis: the encoded bytes and the promise its reply completes.
struct RedisRequest: Sendable {
    var bytes: ByteBuffer
    var replyCount: Int
    var promise: EventLoopPromise<[RESPValue]>
}

/// Sent down the pipeline when a command's deadline passes: the connection can no
/// longer be trusted to pair replies with requests, so it fails everything and closes.
struct RedisCommandTimedOut: Sendable {}

/// Pairs replies with requests in FIFO order, which is what makes pipelining work:
/// many requests may be written before the first reply arrives.
final class RedisChannelHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = RedisRequest
    typealias OutboundOut = ByteBuffer

    private struct Waiting {
        var remaining: Int
        var replies: [RESPValue]
        let promise: EventLoopPromise<[RESPValue]>
    }

    private let decoder = RESPDecoder()
    private var waiting = CircularBuffer<Waiting>()
    private var closedError: RedisError?
    /// host:port, so that every error says which server it is about.
    private let endpoint: String

    init(endpoint: String) {
        self.endpoint = endpoint
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        if let closedError {
            request.promise.fail(closedError)
            promise?.fail(closedError)
            return
        }
        waiting.append(Waiting(remaining: request.replyCount, replies: [], promise: request.promise))
        context.write(wrapOutboundOut(request.bytes), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        do {
            try decoder.feed(unwrapInboundIn(data))
            while let value = try decoder.next() {
                guard !waiting.isEmpty else { throw RedisError.protocolError("reply without a request") }
                waiting[waiting.startIndex].replies.append(value)
                waiting[waiting.startIndex].remaining -= 1
                if waiting[waiting.startIndex].remaining == 0 {
                    let done = waiting.removeFirst()
                    done.promise.succeed(done.replies)
                }
            }
        } catch {
            failAll(error as? RedisError ?? .protocolError("\(endpoint): \(error)"))
            context.close(promise: nil)
        }
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        if event is RedisCommandTimedOut {
            failAll(.timeout)
            context.close(promise: promise)
        } else {
            context.triggerUserOutboundEvent(event, promise: promise)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(.unavailable("connection to \(endpoint) closed"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        failAll(.unavailable("\(endpoint): \(error)"))
        context.close(promise: nil)
    }

    private func failAll(_ error: RedisError) {
        if closedError == nil { closedError = error }
        while let next = waiting.popFirst() {
            next.promise.fail(error)
        }
    }
}
