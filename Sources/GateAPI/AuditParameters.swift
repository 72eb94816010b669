import Gate
import GateCore
import Hummingbird
import Persistence

/// The query parameters of the audit routes, checked strictly: a bad one is a 400
/// that names it (in `detail` and in `errors[].field`), before anything is read.
enum AuditParameters {
    static func filter(_ request: Request, timesOnly: Bool = false) throws -> AuditFilter {
        let query = request.uri.queryParameters
        var filter = AuditFilter()
        filter.from = try timestamp("from", query.get("from"))
        filter.to = try timestamp("to", query.get("to"))
        if let from = filter.from, let to = filter.to, let start = RFC3339Text.instant(from), let end = RFC3339Text.instant(to),
            start >= end
        {
            throw bad("to", "must be later than from")
        }
        if timesOnly { return filter }
        filter.action = try text("action", query.get("action"), maxLength: 200)
        filter.actorID = try text("actor", query.get("actor"), maxLength: 512)
        filter.targetID = try text("target", query.get("target"), maxLength: 512)
        if let outcome = query.get("outcome") {
            guard ["success", "denied", "failure"].contains(outcome) else {
                throw bad("outcome", "must be success, denied or failure")
            }
            filter.outcome = outcome
        }
        return filter
    }

    /// The previous page's `next_cursor`: a chain position.
    static func cursor(_ request: Request) throws -> Int64 {
        guard let raw = request.uri.queryParameters.get("cursor") else { return 0 }
        guard (1...18).contains(raw.utf8.count), raw.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
            let position = Int64(raw)
        else { throw bad("cursor", "is not a cursor this API returned") }
        return position
    }

    static func format(_ request: Request) throws -> AuditFormat {
        guard let raw = request.uri.queryParameters.get("format") else { return .jsonl }
        guard let format = AuditFormat(rawValue: raw) else { throw bad("format", "must be jsonl or csv") }
        return format
    }

    /// The instant in UTC: Postgres refuses some valid RFC 3339 offsets (beyond ±15:59).
    static func timestamp(_ name: String, _ raw: String?) throws -> String? {
        guard let raw else { return nil }
        guard let utc = RFC3339Text.utc(raw) else {
            throw bad(name, "must be an RFC 3339 timestamp such as 2026-01-31T09:00:00Z")
        }
        return utc
    }

    static func text(_ name: String, _ raw: String?, maxLength: Int) throws -> String? {
        guard let raw else { return nil }
        guard (1...maxLength).contains(raw.count), !raw.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
        else { throw bad(name, "must be 1 to \(maxLength) characters without control characters") }
        return raw
    }

    static func bad(_ name: String, _ message: String) -> Problem {
        var problem = Problem(.badRequest, detail: "\(name) \(message)")
        problem.extensions["errors"] = [["field": name, "message": message]]
        return problem
    }
}
