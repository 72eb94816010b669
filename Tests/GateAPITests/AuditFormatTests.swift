import Gate
import GateCore
import NIOCore
import Testing

@testable import GateAPI
@testable import Persistence

/// The pure parts of the audit log: RFC 3339 checks, CSV cells and JSON strings.
@Suite struct AuditFormatTests {
    @Test func rfc3339IsStrictAboutSyntaxAndCalendar() {
        for valid in [
            "2026-01-31T09:00:00Z", "2024-02-29T23:59:59.123456789+01:00", "2026-12-31t00:00:00z", "1999-01-01T00:00:60-05:30",
        ] {
            #expect(RFC3339Text.instant(valid) != nil, "\(valid)")
        }
        for invalid in [
            "2026-01-31", "2026-01-31T09:00Z", "2025-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-01-01T24:00:00Z",
            "2026-01-01T00:00:00", "2026-01-01T00:00:00.Z", "2026-01-01T00:00:00+1:00", "2026-01-01T00:00:00+24:00",
            "2026-01-01 00:00:00Z", "yesterday", "2026-01-01T00:00:00.1234567890Z", "0000-01-01T00:00:00Z",
        ] {
            #expect(RFC3339Text.instant(invalid) == nil, "\(invalid)")
        }
        #expect(RFC3339Text.instant("1970-01-01T00:00:00Z") == 0)
        #expect(RFC3339Text.instant("1970-01-01T01:00:00.5+01:00") == 500_000)
        #expect(RFC3339Text.instant("2000-03-01T00:00:00Z") == 951_868_800_000_000)
    }

    func csv(_ value: String) -> String {
        var bytes: [UInt8] = []
        var value = value
        value.withUTF8 { CSVCell.append(UnsafeRawBufferPointer($0), to: &bytes) }
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test func csvCellsAreQuotedAndGuardedReversibly() {
        #expect(csv("plain") == "plain")
        #expect(csv("a,b") == #""a,b""#)
        #expect(csv(#"say "hi""#) == #""say ""hi""""#)
        #expect(csv("two\r\nlines") == "\"two\r\nlines\"")
        #expect(csv("=SUM(A1)") == "'=SUM(A1)")
        #expect(csv("+1") == "'+1")
        #expect(csv("-1") == "'-1")
        #expect(csv("@x") == "'@x")
        #expect(csv("\tx") == "'\tx")
        #expect(csv("'x") == "''x")
        #expect(csv("=a,b") == #""'=a,b""#)
        #expect(csv("x=1") == "x=1")
    }

    @Test func jsonStringsEscapeWhatJSONRequires() {
        var bytes: [UInt8] = []
        AuditJSON.string("a\"b\\c\n\u{01}é", to: &bytes)
        AuditJSON.string(nil, to: &bytes)
        AuditJSON.string("plain é 😀 /", to: &bytes)
        AuditJSON.string("", to: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == #""a\"b\\c\n\u0001é"null"plain é 😀 /""""#)
    }
}
