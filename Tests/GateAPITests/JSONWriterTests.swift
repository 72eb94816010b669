import Foundation
import Gate
import GateCore
import Testing

@testable import GateAPI
@testable import Persistence

/// The hand-written response encoding must be the bytes `JSONEncoder.api` wrote.
@Suite struct JSONWriterTests {
    private func written(_ body: some JSONWritable) -> String {
        var writer = JSONWriter()
        body.writeJSON(to: &writer)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    private func encoded(_ body: some Encodable) throws -> String {
        String(decoding: try JSONEncoder.api.encode(body), as: UTF8.self)
    }

    static let awkward: JSONValue = [
        "text": "q\"\\/\u{01}\u{1f}\u{08}\u{0c}\n\r\t\u{7f}é\u{2028}😀 \u{0}",
        "numbers": [0, -1, .integer(.max), .integer(.min), .number(0.1), .number(1e-7), .number(1e21), .number(-0.5),
                    .number(123.456), .number(5e-324), .number(1.7976931348623157e308), .number(2.5e-8)],
        "keys": ["b": 1, "a10": 2, "a9": 3, "B": 4, "_x": 5, "é": 6, "z": 7, "": 8, "a": ["nested": [true, false, .null]]],
        "empty": ["array": [], "object": [:]],
    ]

    @Test func valuesAreWrittenAsJSONEncoderWritesThem() throws {
        var writer = JSONWriter()
        writer.write(Self.awkward)
        #expect(String(decoding: writer.bytes, as: UTF8.self) == (try encoded(Self.awkward)))
        #expect(Self.awkward.jsonText == (try encoded(Self.awkward)))
        #expect(try JSONValue(parsing: writer.bytes) == Self.awkward)
    }

    @Test func datesAreWholeSecondsInUTCRoundedDown() throws {
        // (Before 1582 Foundation switches to the Julian calendar; the writer, like Postgres, does not.)
        for seconds in [0, 1_795_447_625.9, -1.5, -12_219_292_800, 253_402_300_799.999] {
            let date = Date(timeIntervalSince1970: seconds)
            var writer = JSONWriter()
            writer.write(date)
            #expect(String(decoding: writer.bytes, as: UTF8.self) == (try encoded(date)), "\(seconds)")
        }
    }

    @Test func jobViewsAreTheBytesTheEncoderWrote() throws {
        let created = Date(timeIntervalSince1970: 1_795_447_625.25)
        var job = JobRecord(
            id: "job_01m842b1qzn8zrsh1pszppps0m", workspaceID: "acme", action: "gmail.send",
            params: ["to": ["Ann Lee <ann@example.com>"], "subject": "Quarterly \"report\"", "text": "Line\nline"],
            payloadHash: String(repeating: "ab", count: 32), status: .pendingApproval, idempotencyKey: "report-2026-11-23",
            submittedByType: "api_key", submittedBy: "cmomzlklvb5rxf3d", actsFor: nil, callbackURL: nil, requiredApprovals: 1,
            expiresAt: nil, createdAt: created, updatedAt: created, statusReason: nil, statusCode: nil, attempts: 0,
            nextAttemptAt: created, result: nil)
        #expect(written(JobView(job)) == (try encoded(JobView(job))))
        job.actsFor = "agent"
        job.callbackURL = "https://agent.example.com/hooks/gateapi"
        job.expiresAt = created.addingTimeInterval(86_400)
        job.status = .approved
        job.statusReason = "retrying"
        job.statusCode = "upstream_unavailable"
        job.attempts = 2
        job.result = Self.awkward
        #expect(JobView(job).nextAttemptAt != nil)
        #expect(written(JobView(job)) == (try encoded(JobView(job))))
    }
}
