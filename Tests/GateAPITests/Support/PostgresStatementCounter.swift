import NIOConcurrencyHelpers
import NIOCore

/// Counts the statements a client sends Postgres, read off the frontend protocol as it
/// passes a `TCPRelay` (`TCPRelay(to:observe: counter.connection)`): each simple query
/// (`Q`) and each `Execute` (`E`) of the extended protocol, which PostgresNIO sends once
/// per statement, prepared or not. Needs `sslmode=disable` (the tests' default).
final class PostgresStatementCounter: Sendable {
    private let total = NIOLockedValueBox(0)

    var count: Int { total.withLockedValue { $0 } }

    /// An observer for one connection's client-to-server bytes.
    @Sendable func connection() -> @Sendable (ByteBuffer) -> Void {
        // The first message (startup) has no type byte; every later one is a type byte
        // and a length that counts itself but not the type.
        let state = NIOLockedValueBox((pending: ByteBuffer(), startup: true))
        return { [total] chunk in
            let statements = state.withLockedValue { state -> Int in
                var chunk = chunk
                state.pending.writeBuffer(&chunk)
                var found = 0
                while true {
                    let start = state.pending.readerIndex
                    if state.startup {
                        guard let length = state.pending.getInteger(at: start, as: Int32.self),
                            state.pending.readableBytes >= Int(length)
                        else { break }
                        state.pending.moveReaderIndex(forwardBy: Int(length))
                        state.startup = false
                    } else {
                        guard state.pending.readableBytes >= 5, let type = state.pending.getInteger(at: start, as: UInt8.self),
                            let length = state.pending.getInteger(at: start + 1, as: Int32.self),
                            state.pending.readableBytes >= 1 + Int(length)
                        else { break }
                        if type == UInt8(ascii: "Q") || type == UInt8(ascii: "E") { found += 1 }
                        state.pending.moveReaderIndex(forwardBy: 1 + Int(length))
                    }
                }
                state.pending.discardReadBytes()
                return found
            }
            if statements > 0 { total.withLockedValue { $0 += statements } }
        }
    }
}
