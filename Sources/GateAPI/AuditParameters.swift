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

    static func timestamp(_ name: String, _ raw: String?) throws -> String? {
        guard let raw else { return nil }
        guard RFC3339Text.instant(raw) != nil else {
            throw bad(name, "must be an RFC 3339 timestamp such as 2026-01-31T09:00:00Z")
        }
        return raw.uppercased()
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

/// Strict RFC 3339 date-times (`2026-01-31T09:00:00.5+01:00`): the syntax of
/// RFC 3339 §5.6 and a real calendar date, so that Postgres never sees one it
/// would refuse (a 400 here, never a 500 there).
enum RFC3339Text {
    /// Microseconds since 1970 in UTC (for ordering `from` and `to`), or nil.
    static func instant(_ text: String) -> Int64? {
        let b = Array(text.utf8)
        guard (20...40).contains(b.count) else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for i in range {
                guard b[i] >= 0x30, b[i] <= 0x39 else { return nil }
                value = value * 10 + Int(b[i] - 0x30)
            }
            return value
        }
        guard let year = number(0..<4), b[4] == UInt8(ascii: "-"), let month = number(5..<7), b[7] == UInt8(ascii: "-"),
            let day = number(8..<10), b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t"), let hour = number(11..<13),
            b[13] == UInt8(ascii: ":"), let minute = number(14..<16), b[16] == UInt8(ascii: ":"), let second = number(17..<19)
        else { return nil }
        var i = 19
        var micros = 0
        if b[i] == UInt8(ascii: ".") {
            let start = i + 1
            i = start
            while i < b.count, b[i] >= 0x30, b[i] <= 0x39 { i += 1 }
            guard (1...9).contains(i - start) else { return nil }
            let digits = (number(start..<min(i, start + 6)) ?? 0)
            micros = digits * Int(pow10(6 - min(i - start, 6)))
        }
        var offsetMinutes = 0
        guard i < b.count else { return nil }
        if b[i] == UInt8(ascii: "Z") || b[i] == UInt8(ascii: "z") {
            guard i + 1 == b.count else { return nil }
        } else {
            guard b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-"), i + 6 == b.count, let oh = number(i + 1..<i + 3),
                b[i + 3] == UInt8(ascii: ":"), let om = number(i + 4..<i + 6), oh <= 23, om <= 59
            else { return nil }
            offsetMinutes = (oh * 60 + om) * (b[i] == UInt8(ascii: "-") ? -1 : 1)
        }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let daysInMonth = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard year >= 1, (1...12).contains(month), (1...daysInMonth[month - 1]).contains(day), hour <= 23, minute <= 59,
            second <= 60
        else { return nil }
        // Days from 1970-01-01 (civil-from-days, proleptic Gregorian).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146097 + doe - 719468
        let seconds = ((days * 24 + hour) * 60 + minute - offsetMinutes) * 60 + second
        return Int64(seconds) * 1_000_000 + Int64(micros)
    }

    private static func pow10(_ n: Int) -> Int {
        (0..<n).reduce(1) { value, _ in value * 10 }
    }
}
