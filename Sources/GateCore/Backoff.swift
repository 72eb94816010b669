/// Exponential backoff with jitter: the delay before retry number `attempt` (1 for
/// the first retry) is random in [ceiling/2, ceiling], where ceiling = base · 2^(attempt−1)
/// capped at `maximum`. The random half spreads retries of failures that happened
/// together, so they do not all hit a recovering dependency at once.
public struct Backoff: Sendable, Equatable {
    public var base: Duration
    public var maximum: Duration

    public init(base: Duration, maximum: Duration) {
        self.base = base
        self.maximum = maximum
    }

    public func delay(beforeRetry attempt: Int) -> Duration {
        let doubling = Double(sign: .plus, exponent: min(max(attempt - 1, 0), 60), significand: 1)
        let ceiling = min(maximum.seconds, base.seconds * doubling)
        return .milliseconds(Int64((Double.random(in: ceiling / 2...ceiling) * 1000).rounded()))
    }
}

extension Duration {
    /// The duration in (fractional) seconds.
    public var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
