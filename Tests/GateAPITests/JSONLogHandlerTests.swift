import Foundation
import Testing

@testable import GateAPI

@Suite struct JSONLogHandlerTests {
    @Test func lineIsOneSortedJSONObjectWhateverTheValues() throws {
        let fields = [
            "msg": "quote \" backslash \\ newline \n tab \t cr \r bell \u{07} del \u{7F}",
            "level": "info",
            "unicode": "Grüße — 日本 👋",
            "ts": "2026-11-23T15:04:05.123Z",
        ]
        let bytes = JSONLogHandler.line(fields)
        #expect(bytes.last == 0x0A)
        // One line: no raw newline inside the object.
        #expect(!bytes.dropLast().contains(0x0A))
        let text = String(decoding: bytes.dropLast(), as: UTF8.self)
        #expect(text.hasPrefix(#"{"level":"info","msg":"#))
        #expect(text.contains(#"\u0007"#) && text.contains(#"\u007f"#))
        let decoded = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: String]
        #expect(decoded == fields)
    }

    @Test func timestampIsRFC3339UTCWithMilliseconds() throws {
        let stamp = LogTimestamp.now()
        #expect(stamp.wholeMatch(of: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z/) != nil)
        let parsed = try #require(try? Date(stamp, strategy: .iso8601.year().month().day().time(includingFractionalSeconds: true)))
        #expect(abs(parsed.timeIntervalSinceNow) < 5)
    }
}
