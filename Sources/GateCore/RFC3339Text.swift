import Foundation

/// Strict RFC 3339 date-times (`2026-01-31T09:00:00.5+01:00`): the syntax of
/// RFC 3339 §5.6 (any offset up to ±23:59, `t`/`z` in either case, a leap second)
/// and a real calendar date. Foundation's ISO 8601 parsing is both stricter (offsets,
/// case) and looser (February 30 becomes March 2); what the API documents as
/// `format: date-time` is what this accepts.
public enum RFC3339Text {
    /// Microseconds since 1970 in UTC (for ordering `from` and `to`), or nil.
    public static func instant(_ text: String) -> Int64? {
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

    /// The same instant as UTC text (`2026-01-31T08:00:00.5Z`, fraction only when
    /// there is one, in microseconds), clamped to years 0001…9999: the form handed
    /// to Postgres, whose `timestamptz` refuses offsets beyond ±15:59 and year 0.
    public static func utc(_ text: String) -> String? {
        guard let micros = instant(text) else { return nil }
        return format(microseconds: micros)
    }

    /// The instant as a `Date`, if it lies in years 0001…9999 UTC.
    public static func date(_ text: String) -> Date? {
        guard let micros = instant(text), (minimum...maximum).contains(micros) else { return nil }
        return Date(timeIntervalSince1970: Double(micros) / 1_000_000)
    }

    /// 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z in microseconds since 1970.
    static let minimum: Int64 = -62_135_596_800_000_000
    static let maximum: Int64 = 253_402_300_799_999_999

    static func format(microseconds: Int64) -> String {
        let clamped = min(max(microseconds, minimum), maximum)
        let seconds = clamped >= 0 ? clamped / 1_000_000 : (clamped - 999_999) / 1_000_000
        let micros = Int(clamped - seconds * 1_000_000)
        let days = Int(seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400)
        let secondOfDay = Int(seconds - Int64(days) * 86400)
        // Civil date from days since 1970-01-01 (proleptic Gregorian).
        let z = days + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        func pad(_ value: Int, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        var text = "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(secondOfDay / 3600, 2)):\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2))"
        if micros > 0 { text += "." + pad(micros, 6) }
        return text + "Z"
    }

    private static func pow10(_ n: Int) -> Int {
        (0..<n).reduce(1) { value, _ in value * 10 }
    }
}
