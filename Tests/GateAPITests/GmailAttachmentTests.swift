import Actions
import Crypto
import Foundation
import Gate
import HTTPTypes
import HummingbirdTesting
import NIOCore
import PostgresNIO
import Testing

@testable import GateAPI
@testable import Persistence

/// gmail.send with attachments and inline images (issue 26), end to end: submitted,
/// stored beside the job, previewed and downloaded by a reviewer, approved, sent once
/// through Gmail's media upload, and read back by Python's `email` package with the
/// same bytes; refusals named and audited; the executor re-checking every hash.
@Suite struct GmailAttachmentTests {
    static let pdf = Data("%PDF-1.7\n".utf8) + Data((0..<70_000).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 17) })
    static let csv = Data("date,amount,Empfänger\n2026-12-01,12.50,Zoë\n2026-12-02,7.25,Ørjan\n".utf8)
    static let png = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) + Data((0..<2_000).map { UInt8($0 % 251) })
    /// Long and not ASCII: RFC 2231 continuations in the message.
    static let csvName = "Überweisungen – Quartalsbericht für das Finanzteam 2026 (endgültig).csv"

    static func sha(_ data: Data) -> String { EmailAttachment.sha256(of: data) }

    static func file(_ name: String, _ type: String, _ data: Data) -> [String: Any] {
        ["filename": name, "content_type": type, "content_base64": data.base64EncodedString()]
    }

    static func body(attachments: [[String: Any]], inline: [[String: Any]] = [], html: String? = nil) throws -> String {
        var params: [String: Any] = ["to": ["ap@example.com"], "subject": "Invoice 2026-12", "text": "Invoice attached."]
        if let html { params["html"] = html }
        if !attachments.isEmpty { params["attachments"] = attachments }
        if !inline.isEmpty { params["inline"] = inline }
        let json = try JSONSerialization.data(withJSONObject: ["action": "gmail.send", "params": params])
        return String(decoding: json, as: UTF8.self)
    }

    static var invoice: String {
        get throws {
            try body(
                attachments: [file("invoice.pdf", "application/pdf", pdf), file(csvName, "text/csv", csv)],
                inline: [["content_id": "logo", "filename": "logo.png", "content_type": "image/png", "content_base64": png.base64EncodedString()]],
                html: #"<p><img src="cid:logo" alt="ACME"> Invoice attached.</p>"#)
        }
    }

    /// What Python's `email` package reads in `raw` (scripts/read-mime.py).
    static func readWithPython(_ raw: String) async throws -> [String: Any] {
        let directory = TestEnvironment.serversDirectory
        let input = "\(directory)/mime-\(UUID().uuidString).eml", output = input + ".json"
        try Data(raw.utf8).write(to: URL(fileURLWithPath: input))
        defer { try? FileManager.default.removeItem(atPath: input); try? FileManager.default.removeItem(atPath: output) }
        let script = URL(fileURLWithPath: TestEnvironment.migrationsDirectory).deletingLastPathComponent()
            .appendingPathComponent("scripts/read-mime.py").path
        let python = try ChildProcess(["python3", script], stdinPath: input, stdoutPath: output, stderrPath: output)
        #expect(await python.wait() == 0, "\((try? String(contentsOfFile: output, encoding: .utf8)) ?? "")")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: output)))
        return try #require(json as? [String: Any])
    }

    @Test func aPDFACSVAndAnInlineLogoArePreviewedApprovedSentOnceAndReadBackByPython() async throws {
        try await GmailExecutionTests().withGmail { fixture, client, google in
            let key = UUID().uuidString
            let submitted = try await fixture.submit(client, key: key, body: try Self.invoice)
            #expect(submitted.status == .created, "\(String(buffer: submitted.body))")
            let id = try #require(submitted.json["id"] as? String)
            // Stored: the description in the params (hashed), the bytes beside the job.
            let params = try #require(submitted.json["params"] as? [String: Any])
            let attachments = try #require(params["attachments"] as? [[String: Any]])
            #expect(attachments.map { $0["sha256"] as? String } == [Self.sha(Self.pdf), Self.sha(Self.csv)])
            #expect(attachments.allSatisfy { $0["content_base64"] == nil })
            #expect(try await fixture.count("SELECT count(*)::int FROM job_attachments WHERE job_id = '\(id)'") == 3)
            #expect(try await fixture.count("SELECT count(*)::int FROM jobs WHERE id = '\(id)' AND params::text LIKE '%content_base64%'") == 0)
            // A retry with the same key and bytes is the same job.
            let replay = try await fixture.submit(client, key: key, body: try Self.invoice)
            #expect(replay.status == .ok && replay.json["id"] as? String == id)
            #expect(try await fixture.count("SELECT count(*)::int FROM job_attachments") == 3)

            // The reviewer's preview lists each file; each downloads with its own bytes.
            let approvalID = try await fixture.approvalID(of: id)
            let rita = try await fixture.reviewer("rita")
            let approval = try await client.execute(uri: "/v1/workspaces/acme/approvals/\(approvalID)", method: .get, headers: bearer(rita))
            let preview = try #require(approval.json["preview"] as? [String: Any])
            let listed = try #require(preview["attachments"] as? [[String: Any]])
            #expect(listed.map { $0["filename"] as? String } == ["invoice.pdf", Self.csvName])
            #expect(listed.map { $0["size"] as? Int } == [Self.pdf.count, Self.csv.count])
            #expect((preview["inline"] as? [[String: Any]])?.first?["content_id"] as? String == "logo")
            #expect((preview["message_bytes"] as? Int ?? 0) > Self.pdf.count)
            for (data, type) in [(Self.pdf, "application/pdf"), (Self.csv, "text/csv"), (Self.png, "image/png")] {
                let download = try await client.execute(
                    uri: "/v1/workspaces/acme/approvals/\(approvalID)/attachments/\(Self.sha(data))", method: .get, headers: bearer(rita))
                #expect(download.status == .ok)
                #expect(Data(download.body.readableBytesView) == data)
                #expect(download.headers[.contentType] == type)
                #expect(download.headers[.contentDisposition]?.hasPrefix("attachment; filename=") == true)
                #expect(download.headers[.xContentTypeOptions] == "nosniff")
                #expect(download.headers[.contentSecurityPolicy] == "default-src 'none'; sandbox")
            }
            let csvDownload = try await client.execute(
                uri: "/v1/workspaces/acme/approvals/\(approvalID)/attachments/\(Self.sha(Self.csv))", method: .get, headers: bearer(rita))
            #expect(csvDownload.headers[.contentDisposition]?.contains("filename*=UTF-8''%C3%9Cberweisungen%20%E2%80%93%20") == true)
            let unknown = try await client.execute(
                uri: "/v1/workspaces/acme/approvals/\(approvalID)/attachments/\(String(repeating: "0", count: 64))", method: .get,
                headers: bearer(rita))
            #expect(unknown.status == .notFound)
            let agent = try await client.execute(
                uri: "/v1/workspaces/acme/approvals/\(approvalID)/attachments/\(Self.sha(Self.pdf))", method: .get,
                headers: bearer(try await fixture.reviewer("agent", scopes: ["jobs:write"])))
            #expect(agent.status == .forbidden)

            let vote = try await fixture.decide(client, "approve", approvalID, as: rita)
            #expect(vote.status == .ok)
            _ = try await fixture.waitForJob(client, id) { $0 == "succeeded" }

            // Sent once, as a media upload of the message itself.
            #expect(google.sendRequests.count == 1)
            #expect(google.sendRequests.first?.path == "/upload/gmail/v1/users/me/messages/send")
            let raw = try #require(google.sentMessages.first?.raw)
            let read = try await Self.readWithPython(raw)
            #expect(read["defects"] as? [String] == [])
            #expect(read["lines_over_998"] as? Int == 0 && read["bare_lf"] as? Int == 0)
            let structure = try #require(read["structure"] as? [String: Any])
            let mixed = try #require(structure["multipart/mixed"] as? [Any])
            #expect(mixed.count == 3 && mixed[1] as? String == "application/pdf" && mixed[2] as? String == "text/csv")
            let parts = try #require(read["parts"] as? [[String: Any]])
            let files = parts.filter { $0["disposition"] as? String != nil }
            #expect(files.map { $0["filename"] as? String } == ["logo.png", "invoice.pdf", Self.csvName])
            #expect(files.map { $0["sha256"] as? String } == [Self.sha(Self.png), Self.sha(Self.pdf), Self.sha(Self.csv)])
            #expect(files.map { $0["disposition"] as? String } == ["inline", "attachment", "attachment"])
            #expect(files.first?["content_id"] as? String == "<logo>")
            #expect(read["subject"] as? String == "Invoice 2026-12")
        }
    }

    @Test func disguisedDisallowedAndOversizedFilesAreRefusedNamedAndAudited() async throws {
        try await GmailExecutionTests().withGmail { fixture, client, google in
            let exe = Data([0x4D, 0x5A, 0x90, 0x00]) + Data(repeating: 0x41, count: 4000)
            let disguised = try await fixture.submit(
                client, key: UUID().uuidString, body: try Self.body(attachments: [Self.file("invoice.pdf", "application/pdf", exe)]))
            #expect(disguised.status == .unprocessableContent)
            #expect((disguised.json["detail"] as? String)?.contains("invoice.pdf (application/pdf): the content is a program") == true)
            let disallowed = try await fixture.submit(
                client, key: UUID().uuidString, body: try Self.body(attachments: [Self.file("tool.exe", "application/x-msdownload", exe)]))
            #expect(disallowed.status == .unprocessableContent)
            #expect((disallowed.json["detail"] as? String)?.contains("is not allowed for attachments") == true)
            let eleven = (0..<11).map { Self.file("part\($0).csv", "text/csv", Self.csv) }
            let tooMany = try await fixture.submit(client, key: UUID().uuidString, body: try Self.body(attachments: eleven))
            #expect(tooMany.status == .unprocessableContent)
            #expect((tooMany.json["detail"] as? String)?.contains("must have at most 10 items") == true)
            let big = Data("%PDF-1.7\n".utf8) + Data(count: 9_500_000)
            let oversized = try await fixture.submit(
                client, key: UUID().uuidString,
                body: try Self.body(attachments: [Self.file("a.pdf", "application/pdf", big), Self.file("b.pdf", "application/pdf", big)]))
            #expect(oversized.status == .unprocessableContent, "\(String(buffer: oversized.body))")
            #expect((oversized.json["detail"] as? String)?.contains("params.attachments[1] with b.pdf (9500009 bytes)") == true)
            #expect(try await fixture.count("SELECT count(*)::int FROM jobs") == 0)
            #expect(try await fixture.count("SELECT count(*)::int FROM job_attachments") == 0)

            // Audited with the file's name and type, never its content.
            let refused = try await fixture.db.withClient { db in
                let rows = try await db.query("SELECT details::text FROM audit_events WHERE action = 'job.refused' ORDER BY seq")
                var found: [String] = []
                for try await text in rows.decode(String.self) { found.append(text) }
                return found
            }
            #expect(refused.count == 4)
            #expect(refused[0].contains(#""filename": "invoice.pdf""#) && refused[0].contains(#""content_type": "application/pdf""#))
            #expect(refused.allSatisfy { !$0.contains(exe.base64EncodedString().prefix(24)) && !$0.contains("TVqQ") })

            // The policy narrows: no attachments at all, then only PDFs.
            try await fixture.allowBothActions(client, constraints: #"{"max_attachments":0}"#)
            let none = try await fixture.submit(
                client, key: UUID().uuidString, body: try Self.body(attachments: [Self.file("lines.csv", "text/csv", Self.csv)]))
            #expect(none.status == .forbidden)
            #expect(none.json["detail"] as? String == "the policy allows no attachments; the message has 1")
            try await fixture.allowBothActions(client, constraints: #"{"allowed_attachment_types":["application/pdf"],"max_attachment_bytes":100000}"#)
            let csvRefused = try await fixture.submit(
                client, key: UUID().uuidString, body: try Self.body(attachments: [Self.file("lines.csv", "text/csv", Self.csv)]))
            #expect(csvRefused.status == .forbidden)
            #expect(csvRefused.json["detail"] as? String == "lines.csv is text/csv, which the policy does not allow")
            let lastRefusal = try #require(try await fixture.auditRows(action: "job.refused").last)
            _ = lastRefusal
            #expect(try await fixture.count(
                "SELECT count(*)::int FROM audit_events WHERE action = 'job.refused' AND details->'files'->0->>'filename' = 'lines.csv' AND details->>'reason' = 'policy_constraint'") == 2)
            let pdfAllowed = try await fixture.submit(
                client, key: UUID().uuidString, body: try Self.body(attachments: [Self.file("invoice.pdf", "application/pdf", Self.pdf)]))
            #expect(pdfAllowed.status == .created)
            #expect(google.sendRequests.isEmpty)
        }
    }

    @Test func bytesChangedAfterApprovalAreNeverSent() async throws {
        try await GmailExecutionTests().withGmail { fixture, client, google in
            let submitted = try await fixture.submit(
                client, key: UUID().uuidString, body: try Self.body(attachments: [Self.file("invoice.pdf", "application/pdf", Self.pdf)]))
            let id = try #require(submitted.json["id"] as? String)
            // Someone with database access swaps the file's bytes while it waits.
            try await fixture.execute("UPDATE job_attachments SET content = content || '\\x00'::bytea WHERE job_id = '\(id)'")
            let vote = try await fixture.decide(client, "approve", try await fixture.approvalID(of: id), as: try await fixture.reviewer("rita"))
            #expect(vote.status == .ok)
            let job = try await fixture.waitForJob(client, id) { $0 == "failed" }
            #expect((job["status_code"] as? String ?? (job["error"] as? [String: Any])?["code"] as? String) == "attachment_mismatch", "\(job)")
            #expect(google.sendRequests.isEmpty)
        }
    }

    @Test func largeBodiesOnlyOnTheSubmissionRouteAndAFewAtATime() async throws {
        var environment = AuthFixture.fastExecutor
        environment["MAX_BODY_BYTES"] = "65536"
        try await AuthFixture.with(environment: environment) { fixture, client in
            try await fixture.allowBothActions(client)
            let body = try Self.body(attachments: [Self.file("invoice.pdf", "application/pdf", Self.pdf)])
            #expect(body.utf8.count > 65536)
            let submitted = try await fixture.submit(client, key: UUID().uuidString, body: body)
            #expect(submitted.status == .created, "\(String(buffer: submitted.body))")
            let elsewhere = try await client.execute(
                uri: "/v1/workspaces/acme/policies/gmail.send", method: .put, headers: bearer(fixture.adminKey),
                body: ByteBuffer(string: body))
            #expect(elsewhere.status == .contentTooLarge)
            // The slots: a declared large body past them waits outside (503); a chunked one is held to the small limit.
            let bodies = JobsController.LargeBodies(slots: ConcurrencyLimit(1, perKey: 1), smallBodyBytes: 65536)
            var limit = 30 << 20
            #expect(try bodies.reserve(declared: 1000, maxUploadSize: &limit) == nil)
            do {
                let held = try #require(try bodies.reserve(declared: 5_000_000, maxUploadSize: &limit))
                #expect(throws: Problem.self) { try bodies.reserve(declared: 5_000_000, maxUploadSize: &limit) }
                #expect(try bodies.reserve(declared: nil, maxUploadSize: &limit) == nil && limit == 65536)
                withExtendedLifetime(held) {}
            }
            limit = 30 << 20
            #expect(try bodies.reserve(declared: 5_000_000, maxUploadSize: &limit) != nil)
        }
    }

    @Test func filesGoWithTheirJobsHistory() async throws {
        try await GmailExecutionTests().withGmail { fixture, client, _ in
            let submitted = try await fixture.submit(
                client, key: UUID().uuidString, body: try Self.body(attachments: [Self.file("invoice.pdf", "application/pdf", Self.pdf)]))
            let id = try #require(submitted.json["id"] as? String)
            let cancel = try await client.execute(uri: "/v1/workspaces/acme/jobs/\(id)/cancel", method: .post, headers: bearer(fixture.adminKey))
            #expect(cancel.status == .ok, "\(String(buffer: cancel.body))")
            try await fixture.execute("UPDATE jobs SET updated_at = now() - interval '2 days' WHERE id = '\(id)'")
            _ = try await fixture.db.withClient { db in
                try await JobStore(client: db, logger: TestEnvironment.logger)
                    .purgeHistory(ttlSeconds: 86400, maxPerWorkspace: 1000, batch: 100, idempotencyTTLSeconds: 60)
            }
            #expect(try await fixture.count("SELECT count(*)::int FROM jobs WHERE id = '\(id)'") == 0)
            #expect(try await fixture.count("SELECT count(*)::int FROM job_attachments") == 0)
        }
    }
}
